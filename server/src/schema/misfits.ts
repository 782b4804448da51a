import type { Counter } from 'prom-client';
import type { Logger } from '../observability/logger.ts';

/** Why a document counts nowhere: `missing:<field>`, `mistyped:<field>` or `invalid:<field>` (internal field names, docs/data-model.md). */
export type MisfitReason = `${'missing' | 'mistyped' | 'invalid'}:${string}`;

/** At most this many misfit lines per window; the rest are summed into the next line. */
const LOG_LINES_PER_WINDOW = 10;
const LOG_WINDOW_MS = 60_000;
/** Documents remembered as counted, so a document read again (every resync, every poll) is counted once. */
const REMEMBERED = 50_000;

/**
 * Documents that do not fit the schema in force: counted once each by collection and reason in
 * `slotcast_misfit_documents_total`, and logged with their id and reason, at most
 * LOG_LINES_PER_WINDOW lines a minute (an outside writer's bug can produce millions).
 */
export class Misfits {
  private readonly seen = new Map<string, MisfitReason>();
  private windowStart = -Infinity;
  private linesInWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly counter: Counter<'collection' | 'reason'> | undefined,
    private readonly logger: Logger | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  report(collection: string, id: string, reason: MisfitReason, path: string): void {
    const entry = `${collection}/${id}`;
    if (this.seen.get(entry) === reason) return;
    this.seen.delete(entry);
    this.seen.set(entry, reason);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    this.counter?.inc({ collection, reason });
    this.log(collection, id, reason, path);
  }

  /** The document fits now: if it stops fitting again, that is counted again. */
  fits(collection: string, id: string): void {
    this.seen.delete(`${collection}/${id}`);
  }

  private log(collection: string, id: string, reason: MisfitReason, path: string): void {
    const now = this.now();
    if (now - this.windowStart >= LOG_WINDOW_MS) {
      this.windowStart = now;
      this.linesInWindow = 0;
    }
    if (this.linesInWindow >= LOG_LINES_PER_WINDOW) {
      this.suppressed += 1;
      return;
    }
    this.linesInWindow += 1;
    const notLogged = this.suppressed;
    this.suppressed = 0;
    this.logger?.warn(
      { collection, id, reason, field: path, ...(notLogged > 0 ? { notLogged } : {}) },
      'a document does not fit the schema: it counts in no availability',
    );
  }
}
