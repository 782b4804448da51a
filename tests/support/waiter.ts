/**
 * Waiting on events, never on sleeps: whoever receives something calls `wake()`, and `until`
 * re-checks its condition then, failing with a description after the timeout (or at once when
 * `failure` reports an error).
 */
export class Waiter {
  private readonly checks = new Set<() => void>();

  wake(): void {
    for (const check of this.checks) check();
  }

  until(description: string, condition: () => boolean, timeoutMs: number, options: { failure?: () => Error | undefined; detail?: () => string } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const failed = options.failure?.();
        if (!condition() && !failed) return;
        clearTimeout(timer);
        this.checks.delete(check);
        if (condition()) resolve();
        else reject(failed);
      };
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(`timed out waiting for ${description}${options.detail ? `; ${options.detail()}` : ''}`));
      }, timeoutMs);
      this.checks.add(check);
      check();
    });
  }
}
