import type { Broadcaster } from './broadcast/port.ts';
import type { SnapshotCache } from './availability/store/ports.ts';

/**
 * The one place tests and benchmarks may swap a part of a hub for one that is easier to observe
 * or compare. Production (main.ts) passes none; every seam defaults to the production part.
 */
export interface HubSeams {
  /** Wraps the broadcaster the write side publishes through (tests record what it is handed). */
  broadcaster?: (production: Broadcaster) => Broadcaster;
  /** Replaces the snapshot cache (the benchmark's uncached run passes one that holds nothing). */
  snapshotCache?: (production: SnapshotCache) => SnapshotCache;
  /** false: no change feed runs (tests that drive the write side by hand). */
  changeFeed?: boolean;
  /** false: every tRPC request goes through the standard adapter (the fast path's comparison). */
  fastQueries?: boolean;
}
