import { describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { addDays, todayIn, type Key } from '@slotcast/shared';
import { isLeader, startCluster, urlOf } from '../support/cluster.ts';
import { callerOn, ledgerOf, mongoWaiter, outcome, placesOf, tally, type Outcome } from '../support/guard.ts';
import { Waiter } from '../support/waiter.ts';
import type { HubProcess } from '../support/hub-process.ts';
import type { SlotcastClient } from '../../client/src/index.ts';

/**
 * Guarded writes while a hub process dies or Redis goes away in the middle of a race: the
 * survivors fill the key to exactly its capacity, never above, and places admitted by a call
 * that died before writing its hold come back after the sweeper's grace.
 */

const date = addDays(todayIn('UTC'), 4);
/** Dead confirms are rolled forward 60 s after they began, abandoned claims once 30 s old on a 5 s pass: with room for a busy machine. */
const SWEEP_WAIT_MS = 100_000;

/** Answers a client retries with the same idempotency key: no answer was given. */
const RETRYABLE = ['SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'];

async function setUp(capacity: number) {
  const cluster = await startCluster({ env: { TRPC_RATE_LIMIT_REQUESTS: '0' } });
  const sessionId = new Types.ObjectId();
  await cluster.models.Session.create({ _id: sessionId, name: 'Crash class', startTime: '09:00', endTime: '10:00', capacity });
  const hubs = [cluster.spawn('hub-a'), cluster.spawn('hub-b')];
  const urls = await Promise.all(hubs.map(urlOf));
  await Promise.race(hubs.map(isLeader));
  const key: Key = { sessionId: String(sessionId), date };
  // The key's ledger exists before the race, so the race measures admissions, not the first one's set-up.
  const first = await (await callerOn(urls[1]!, 'opener')).holds.create.mutate({ ...key, quantity: 1 });
  expect(first.hold.status).toBe('active');
  return { cluster, hubs, urls, key };
}

/**
 * Callers that each take one place at a time until refused (or until their hub is gone),
 * confirming every third hold; `paused` holds them between calls.
 */
class Crowd {
  readonly outcomes: Outcome<unknown>[] = [];
  /** One id per place taken and told to its caller (a hold's id, or a booking's for bookings.create). */
  readonly holdIds: string[] = [];
  readonly bookingIds = new Set<string>();
  private readonly waiter = new Waiter();
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  private waiting = 0;
  private running = 0;
  private started = false;

  constructor(
    private readonly key: Key,
    private readonly options: { idempotent?: boolean } = {},
  ) {}

  run(callers: SlotcastClient[]): Promise<void[]> {
    this.started = true;
    return Promise.all(callers.map((caller, i) => this.loop(caller, i)));
  }

  /** Every loop has ended (refused, or its hub gone). */
  get finished(): boolean {
    return this.started && this.running === 0;
  }

  get admitted(): number {
    return this.holdIds.length;
  }

  until(description: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
    return this.waiter.until(description, condition, timeoutMs, { detail: () => JSON.stringify(tally(this.outcomes)) });
  }

  /** Stops every loop before its next call; resolves when none has a call in flight. */
  async pause(): Promise<void> {
    this.gate = new Promise((resolve) => (this.open = resolve));
    await this.until('every caller to stop between calls', () => this.waiting === this.running);
  }

  resume(): void {
    this.open();
  }

  private async loop(caller: SlotcastClient, i: number): Promise<void> {
    this.running += 1;
    const keyed = (name: string) => (this.options.idempotent ? { idempotencyKey: `${name}-${i}` } : {});
    try {
      for (let n = 0; ; n += 1) {
        this.waiting += 1;
        this.waiter.wake();
        await this.gate;
        this.waiting -= 1;
        if (this.options.idempotent && n % 2 === 1) {
          // Every other place is booked at once, through the same ledger.
          const booked = await this.call(() => caller.bookings.create.mutate({ ...this.key, quantity: 1, ...keyed(`book-${n}`) }));
          if (!booked.ok) return;
          this.bookingIds.add(booked.value.booking.bookingId);
          this.holdIds.push(booked.value.booking.bookingId);
          continue;
        }
        const held = await this.call(() => caller.holds.create.mutate({ ...this.key, quantity: 1, ...keyed(`take-${n}`) }));
        if (!held.ok) return;
        this.holdIds.push(held.value.hold.holdId);
        if (n % 3 === 2) {
          const confirmed = await this.call(() => caller.holds.confirm.mutate({ holdId: held.value.hold.holdId, ...keyed(`pay-${n}`) }));
          if (confirmed.ok) this.bookingIds.add(confirmed.value.booking.bookingId);
        }
      }
    } finally {
      this.running -= 1;
      this.waiter.wake();
    }
  }

  /** One call; with `idempotent`, an answer that is no answer (a 503 naming the service that is away, or a 500) is retried with the same key, as a client would. */
  private async call<T>(make: () => Promise<T>): Promise<Outcome<T>> {
    for (let attempt = 0; ; attempt += 1) {
      const result = await outcome(make());
      this.outcomes.push(result);
      this.waiter.wake();
      if (result.ok || !this.options.idempotent || !RETRYABLE.includes(result.code) || attempt >= 200) return result;
    }
  }
}

/** What MongoDB says of the key against what the ledger says: every admitted place is in a hold, a booking or a claim. */
async function accounts(models: Awaited<ReturnType<typeof setUp>>['cluster']['models'], key: Key) {
  const places = await placesOf(models, key);
  const ledger = (await ledgerOf(models, key))!;
  const claimed = ledger.claims.reduce((sum, claim) => sum + (claim.quantity ?? 0), 0);
  return { ...places, free: ledger.free, claimed, claims: ledger.claims.map((claim) => String(claim.id)) };
}

describe('guarded writes through crashes', () => {
  it('SIGSTOP then SIGKILL of one instance mid-race: its abandoned claims come back after the grace, and the survivor fills the key exactly', async () => {
    // Room for many tries: each stop of hub-a catches a call between admission and hold only by chance.
    const capacity = 400;
    const { cluster, hubs, urls, key } = await setUp(capacity);
    const [a, b] = hubs as [HubProcess, HubProcess];
    const onA = new Crowd(key);
    const onB = new Crowd(key);
    const callers = async (url: string, name: string) => Promise.all(Array.from({ length: 60 }, (_, i) => callerOn(url, `${name}-${i}`)));
    const racing = [onA.run(await callers(urls[0]!, 'a')), onB.run(await callers(urls[1]!, 'b'))];

    // Stop hub-a while its calls are in flight; with hub-b's callers between calls, a claim without its hold is one of hub-a's.
    let orphans: string[] = [];
    for (let tries = 0; orphans.length === 0; tries += 1) {
      const target = onA.admitted + onB.admitted + 4;
      await onB.until(`${target} admissions`, () => onA.admitted + onB.admitted >= target || onB.finished);
      expect(onB.finished, `the race ended before any of ${tries} stops of hub-a caught a call between admission and hold`).toBe(false);
      await onB.pause();
      a.child.kill('SIGSTOP');
      const { claims } = await accounts(cluster.models, key);
      const written = new Set((await cluster.models.Hold.find({ _id: { $in: claims } }, { _id: 1 }).lean()).map((doc) => String(doc._id)));
      orphans = claims.filter((id) => !written.has(id));
      if (orphans.length === 0) a.child.kill('SIGCONT');
      onB.resume();
    }
    a.child.kill('SIGKILL');
    await a.exited;
    await Promise.all(racing);
    const afterRace = await accounts(cluster.models, key);
    console.log(`race: hub-a ${JSON.stringify(tally(onA.outcomes))}, hub-b ${JSON.stringify(tally(onB.outcomes))}; after it: ${JSON.stringify({ ...afterRace, claims: afterRace.claims.length })}; orphans ${orphans.length}`);
    // Never above the capacity: places in holds, bookings and claims of calls that died.
    expect(afterRace.taken + afterRace.claimed).toBeLessThanOrEqual(capacity);
    expect(afterRace.free).toBeLessThanOrEqual(capacity - afterRace.taken - afterRace.claimed);
    for (const refusal of onB.outcomes.filter((o) => !o.ok)) expect(refusal).toMatchObject({ code: 'CONFLICT', reason: 'INSUFFICIENT', available: 0 });
    // Every hold a caller was told about exists.
    expect(await cluster.models.Hold.countDocuments({ _id: { $in: [...onA.holdIds, ...onB.holdIds] } })).toBe(onA.admitted + onB.admitted);

    // hub-a's dead calls are rolled forward by the survivor's sweeper: claims without a hold after 30 s, and confirms
    // that wrote their booking but not the hold's new status (counted twice until then) after CONFIRM_GRACE_MS (60 s).
    const killedAt = Date.now();
    const settled = async () => (await accounts(cluster.models, key)).claims.length === 0 && (await cluster.models.Hold.countDocuments({ status: 'active', bookingId: { $exists: true } })) === 0;
    await mongoWaiter(cluster.models).until('the dead calls to be rolled forward', settled, SWEEP_WAIT_MS, async () => `${JSON.stringify(await accounts(cluster.models, key))}\n${cluster.diagnostics()}`);
    const swept = await accounts(cluster.models, key);
    console.log(`abandoned claims: ${orphans.length} seen at the stop; all rolled forward ${Date.now() - killedAt} ms after the kill; then ${JSON.stringify({ ...swept, claims: 0 })}`);
    // The orphans' ids now belong to released markers, so a stalled call that wakes up cannot write them.
    expect(await cluster.models.Hold.countDocuments({ _id: { $in: orphans }, status: 'released', userId: '' })).toBe(orphans.length);
    expect(swept.free).toBe(capacity - swept.taken);
    expect(swept.free).toBeGreaterThanOrEqual(orphans.length);

    const fill = new Crowd(key);
    await fill.run(await Promise.all(Array.from({ length: 10 }, (_, i) => callerOn(urls[1]!, `fill-${i}`))));
    expect(fill.admitted).toBe(swept.free);
    expect(await accounts(cluster.models, key)).toMatchObject({ taken: capacity, free: 0, claimed: 0 });
    // Exactly one hold per place: the dead claims' places were sold once more, no place twice.
    expect(await cluster.models.Hold.countDocuments({ sessionId: key.sessionId, date, status: { $in: ['active', 'confirmed'] } })).toBe(capacity);
    expect(b.child.exitCode).toBeNull();
  }, 180_000);

  it('Redis restarted mid-race: nothing crashes, no place is sold twice, and the key ends exactly full', async () => {
    // Room for many tries: each stop of hub-a catches a call between admission and hold only by chance.
    const capacity = 400;
    const { cluster, hubs, urls, key } = await setUp(capacity);
    const crowd = new Crowd(key, { idempotent: true });
    const racing = crowd.run(await Promise.all(Array.from({ length: 100 }, (_, i) => callerOn(urls[i % 2]!, `r-${i}`))));
    await crowd.until('80 admissions', () => crowd.admitted >= 80);
    let downAt = 0;
    await cluster.restartRedis(async () => {
      downAt = crowd.outcomes.length;
      // Redis stays away until the callers have had 100 answers without it (refusals or errors alike).
      await crowd.until('100 answers while Redis is down', () => crowd.outcomes.length >= downAt + 100);
    });
    await racing;
    const final = await accounts(cluster.models, key);
    console.log(`redis restart: ${JSON.stringify(tally(crowd.outcomes))}; final: ${JSON.stringify({ ...final, claims: final.claims.length })}`);
    // Exactly full in MongoDB; the ledger may count a place in flight twice until the next change (never once too few).
    expect(final).toMatchObject({ taken: capacity, claimed: 0 });
    expect(final.free).toBeLessThanOrEqual(0);
    for (const hub of hubs) expect(hub.child.exitCode).toBeNull();
    // One hold per place a caller was told about, one booking per booking told: a retry with the same key after an error
    // (SERVICE_UNAVAILABLE while Redis was away) returned the first call's work instead of doing it again.
    const holds = await cluster.models.Hold.find({ sessionId: key.sessionId, date, userId: { $ne: 'opener' } }).lean();
    const bookings = await cluster.models.Booking.find({ sessionId: key.sessionId, date }).lean();
    const untold = holds.filter((hold) => !crowd.holdIds.includes(String(hold._id)) && !crowd.bookingIds.has(String(hold.bookingId)));
    expect(untold.map((hold) => `${hold.userId} ${hold.status}${hold.bookingId ? ' booking' : ''}`)).toEqual([]);
    expect(bookings.map((booking) => String(booking._id)).sort()).toEqual([...crowd.bookingIds].sort());
    expect(crowd.admitted).toBe(capacity - 1); // the opener holds one place
  }, 150_000);

  it('counts an outside booking written while Redis was away, though its change event was lost with the stored position', async () => {
    const { cluster, hubs, urls, key } = await setUp(10); // the opener holds 1
    const caller = await callerOn(urls[0]!, 'regular');
    expect((await caller.holds.create.mutate({ ...key, quantity: 3 })).availability).toMatchObject({ held: 4, available: 6 });
    let written = 0;
    await cluster.restartRedis(async () => {
      // Another service sells the other 6 places meanwhile.
      await cluster.models.Booking.create({ ...key, userId: 'box-office', quantity: 6, status: 'confirmed' });
      written = Date.now();
    });
    // Whichever instance leads now has recomputed every key since (its stored stream positions went with Redis): the availability says full.
    await Promise.any(hubs.map((hub) => hub.waitForLog((line) => line.msg === 'resynced the horizon' && Date.parse(String(line.time)) > written, 60_000)));
    const answer = await outcome(caller.availability.bySession.query(key));
    expect(answer).toMatchObject({ ok: true, value: { booked: 6, held: 4, available: 0 } });
    // So must the guard: a hold now would sell a place twice.
    expect(await outcome(caller.holds.create.mutate({ ...key, quantity: 1 }))).toMatchObject({ ok: false, code: 'CONFLICT', reason: 'INSUFFICIENT', available: 0 });
    expect(await placesOf(cluster.models, key)).toEqual({ held: 4, booked: 6, taken: 10 });
  }, 120_000);
});

