/** Thrown into a stream whose reader fell too far behind; the client resumes from its last event id. */
export class SlowConsumerError extends Error {
  constructor(limit: number) {
    super(`subscriber fell more than ${limit} events behind`);
    this.name = 'SlowConsumerError';
  }
}

/** A bounded push-to-pull buffer: events pushed by a listener, read by an async generator. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(private readonly limit: number) {}

  push(item: T): void {
    if (this.failure) return;
    if (this.items.length >= this.limit) this.failure = new SlowConsumerError(this.limit);
    else this.items.push(item);
    this.wake?.();
  }

  async *drain(signal?: AbortSignal): AsyncGenerator<T> {
    const onAbort = () => this.wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        if (this.failure) throw this.failure;
        const item = this.items.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
