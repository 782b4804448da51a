import { datesInRange, type Key } from '@slotcast/shared';
import { NotFoundError } from './errors.ts';
import type { AvailabilityReader, Scope } from './reader.ts';
import { runsOn, type SessionInfo } from './rules.ts';
import type { CatalogEpoch } from './store/ports.ts';

export interface Sessions {
  epoch: number;
  list: SessionInfo[];
  byId: Map<string, SessionInfo>;
}

/** Reloads of the sessions list for an id it lacks happen at most this often. */
const MISS_RELOAD_INTERVAL_MS = 1_000;

/**
 * Each instance's copy of the sessions collection, tagged with the shared catalog epoch: a
 * session change bumps the epoch, and every read compares it (one round trip per burst of
 * reads). Both the read side and the write side read sessions through it.
 */
export class SessionCatalog {
  private sessions: Sessions | undefined;
  private loading: Promise<Sessions> | undefined;
  private epochRead: Promise<number> | undefined;
  private missReload: Promise<Sessions> | undefined;
  private lastMissReload = -Infinity;

  constructor(
    private readonly reader: AvailabilityReader,
    private readonly epoch: CatalogEpoch,
  ) {}

  /** The sessions list, reloaded when any instance has seen the sessions collection change. */
  async current(): Promise<Sessions> {
    // Requests that arrive while an epoch read is on its way share it: one round trip per burst, not per request.
    this.epochRead ??= this.epoch.current().finally(() => {
      this.epochRead = undefined;
    });
    const epoch = await this.epochRead;
    if (this.sessions?.epoch === epoch) return this.sessions;
    this.loading ??= this.reader
      .sessions()
      .then((list) => {
        this.sessions = sessionsOf(epoch, list);
        return this.sessions;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** Call when sessions changed: every instance reloads its list on its next read. */
  async changed(): Promise<void> {
    await this.epoch.bump();
  }

  /**
   * A session by id. An id the cached list lacks is looked up once more in MongoDB (at most one
   * such reload per second, whatever ids are asked for): a session inserted a moment ago exists
   * before the change feed has told the instances so.
   */
  async require(sessionId: string): Promise<SessionInfo> {
    const session = (await this.current()).byId.get(sessionId) ?? (await this.reloadForMiss())?.byId.get(sessionId);
    if (!session) throw new NotFoundError(`no session ${sessionId}`);
    return session;
  }

  /** Every running (session, date) in scope. */
  async keysIn(scope: Scope): Promise<Key[]> {
    const { list } = await this.current();
    const chosen = scope.sessionIds ? list.filter((s) => scope.sessionIds!.includes(s.id)) : list;
    return datesInRange(scope.from, scope.to).flatMap((date) =>
      chosen.filter((session) => runsOn(session, date)).map((session) => ({ sessionId: session.id, date })),
    );
  }

  private async reloadForMiss(): Promise<Sessions | undefined> {
    if (!this.missReload) {
      if (performance.now() - this.lastMissReload < MISS_RELOAD_INTERVAL_MS) return undefined;
      this.lastMissReload = performance.now();
      this.missReload = (async () => {
        const epoch = await this.epoch.current();
        const list = await this.reader.sessions();
        // Newer than anything cached under this epoch, so later reads under it use it too.
        if (!this.sessions || this.sessions.epoch <= epoch) this.sessions = sessionsOf(epoch, list);
        return this.sessions;
      })().finally(() => {
        this.missReload = undefined;
      });
    }
    return this.missReload;
  }
}

function sessionsOf(epoch: number, list: SessionInfo[]): Sessions {
  return { epoch, list, byId: new Map(list.map((s) => [s.id, s])) };
}
