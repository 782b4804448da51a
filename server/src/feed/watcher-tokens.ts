import type { Logger } from '../observability/logger.ts';
import type { ResumeTokens } from './resume-tokens.ts';

/**
 * One watcher's resume token in the shared store: stored only when it changed, and never a reason
 * to stop following the stream (a store that is away or refuses is logged; the resync covers it).
 */
export class WatcherTokens {
  private saved: string | undefined;

  constructor(
    private readonly tokens: ResumeTokens,
    private readonly collection: string,
    private readonly logger: Logger,
  ) {}

  async save(token: unknown): Promise<void> {
    if (!token) return;
    const text = JSON.stringify(token);
    if (text === this.saved) return;
    if (await this.tokens.save(this.collection, token)) this.saved = text;
    else this.logger.warn({ collection: this.collection }, 'resume token store refused: not the leader');
  }

  /** A token left in place (refused, Redis away) costs the next start one failed resume, which clears it; this stream reopens from now either way. */
  async clear(): Promise<void> {
    try {
      if (!(await this.tokens.clear(this.collection))) this.logger.warn({ collection: this.collection }, 'resume token clear refused: not the leader');
    } catch (error) {
      this.logger.warn({ collection: this.collection, err: (error as Error).message }, 'could not clear the resume token');
    }
  }

  /** A token that cannot be read (Redis away) means starting from now; the caller's resync covers the gap. */
  async load(): Promise<unknown> {
    try {
      return await this.tokens.load(this.collection);
    } catch (error) {
      this.logger.warn({ collection: this.collection, err: (error as Error).message }, 'could not read the resume token; starting from now');
      return undefined;
    }
  }
}
