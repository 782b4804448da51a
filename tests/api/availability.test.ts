import { beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { MON, SAT, SUN, id, ids, writeFixture } from '../support/fixture.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import type { SlotcastClient } from '../../client/src/index.ts';
import { defaultCase, studioCase, writerFor, type SchemaCase } from '../support/schemas.ts';

let t: TestHub;
let anonymous: SlotcastClient;
let staff: SlotcastClient;
let schemaCase: SchemaCase;

/** The same suite under the default names and under a mapped schema (tests/support/schemas.ts). */
const cases = [defaultCase, studioCase()];
const hubs = new Map<SchemaCase, { t: TestHub; anonymous: SlotcastClient; staff: SlotcastClient }>();

beforeAll(async () => {
  for (const c of cases) {
    // These tests drive the engine by hand, so no change feed runs.
    const hub = await startTestHub({ redis: true, seams: { changeFeed: false }, env: { HIGH_DEMAND_BOOKINGS: '3', HIGH_DEMAND_WINDOW_MINUTES: '60', ...c.env } });
    await writeFixture(hub.hub.database.models, new Date(), c === defaultCase ? undefined : c);
    hubs.set(c, { t: hub, anonymous: hub.client(), staff: hub.client(await hub.token('staff-1', ['staff'])) });
  }
});

async function codeOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return (error.data as { code?: string } | undefined)?.code;
  }
}

describe.each(cases)('under $name', (c) => {
  beforeAll(() => {
    schemaCase = c;
    ({ t, anonymous, staff } = hubs.get(c)!);
  });

  describe('availability.byDate', () => {
    it('lists the running sessions by start time with every contract field', async () => {
      const rows = await anonymous.availability.byDate.query({ date: SAT });
      expect(rows.map((row) => row.name)).toEqual(['Morning Swim', 'Weekend Yoga', 'Evening Spin']);
      expect(rows[0]).toMatchObject({
        sessionId: id(ids.swim),
        date: SAT,
        startTime: '07:00',
        endTime: '08:00',
        capacity: 10,
        booked: 8,
        available: 2,
        utilization: 0.8,
        status: 'low',
        overbooked: false,
      });
      expect(rows[0]!.version).toBeGreaterThan(0);
      expect(Date.parse(rows[0]!.updatedAt)).not.toBeNaN();
      expect(rows[1]).toMatchObject({ capacity: 5, booked: 5, available: 0, status: 'full', utilization: 1 });
      expect(rows[2]).toMatchObject({ capacity: 20, booked: 3, available: 17, status: 'available' });
    });

    it('applies an override capacity and shows overbooking', async () => {
      const [swim] = await anonymous.availability.byDate.query({ date: SUN });
      expect(swim).toMatchObject({ capacity: 3, booked: 4, available: 0, status: 'full', overbooked: true });
    });

    it('lists a session closed by an override as closed, and leaves out sessions that do not run', async () => {
      const rows = await anonymous.availability.byDate.query({ date: MON });
      expect(rows.map((row) => [row.name, row.status, row.capacity])).toEqual([
        ['Morning Swim', 'closed', 0],
        ['Evening Spin', 'available', 20],
      ]);
      expect(rows[0]).toMatchObject({ utilization: 0, overbooked: true, booked: 1 });
    });
  });

  describe('availability.byDateRange', () => {
    it('gives every date of a range crossing a month end', async () => {
      const days = await anonymous.availability.byDateRange.query({ from: SAT, to: MON });
      expect(days.map((day) => [day.date, day.sessions.length])).toEqual([
        [SAT, 3],
        [SUN, 3],
        [MON, 2],
      ]);
    });

    it('includes 29 February and narrows to one session', async () => {
      const days = await anonymous.availability.byDateRange.query({ from: '2028-02-28', to: '2028-03-01', sessionId: id(ids.swim) });
      expect(days.map((day) => [day.date, day.sessions.map((s) => s.booked)])).toEqual([
        ['2028-02-28', [0]],
        ['2028-02-29', [1]],
        ['2028-03-01', [0]],
      ]);
    });

    it('handles a one-day range and a range where the session never runs', async () => {
      expect(await anonymous.availability.byDateRange.query({ from: SAT, to: SAT, sessionId: id(ids.spin) })).toHaveLength(1);
      const weekdays = await anonymous.availability.byDateRange.query({ from: MON, to: '2027-02-05', sessionId: id(ids.yoga) });
      expect(weekdays).toHaveLength(5);
      expect(weekdays.every((day) => day.sessions.length === 0)).toBe(true);
    });

    it('answers NOT_FOUND for an unknown session', async () => {
      expect(await codeOf(anonymous.availability.byDateRange.query({ from: SAT, to: MON, sessionId: ids.unknown }))).toBe('NOT_FOUND');
    });
  });

  describe('availability.bySession', () => {
    it('returns one session on one date', async () => {
      expect(await anonymous.availability.bySession.query({ sessionId: id(ids.yoga), date: SAT })).toMatchObject({
        name: 'Weekend Yoga',
        status: 'full',
      });
    });

    it('answers NOT_FOUND when the session does not run, is inactive or does not exist', async () => {
      expect(await codeOf(anonymous.availability.bySession.query({ sessionId: id(ids.yoga), date: MON }))).toBe('NOT_FOUND');
      expect(await codeOf(anonymous.availability.bySession.query({ sessionId: id(ids.inactive), date: SAT }))).toBe('NOT_FOUND');
      expect(await codeOf(anonymous.availability.bySession.query({ sessionId: ids.unknown, date: SAT }))).toBe('NOT_FOUND');
    });

    it('accepts an upper-case id for the same session', async () => {
      const row = await anonymous.availability.bySession.query({ sessionId: id(ids.spin).toUpperCase(), date: SAT });
      expect(row.sessionId).toBe(id(ids.spin));
    });
  });

  describe('analytics (staff)', () => {
    it('sums stats over a range', async () => {
      expect(await staff.availability.stats.query({ from: SAT, to: MON })).toEqual({
        from: SAT,
        to: MON,
        sessions: 8,
        capacity: 10 + 5 + 20 + 3 + 5 + 20 + 0 + 20,
        booked: 8 + 5 + 3 + 4 + 0 + 3 + 1 + 0,
        available: 2 + 0 + 17 + 0 + 5 + 17 + 0 + 20,
        utilization: 24 / 83,
        full: 2,
        low: 1,
        closed: 1,
      });
    });

    it('gives zero points and a steady trend over dates where the session never runs', async () => {
      const trends = await staff.availability.trends.query({ from: MON, to: '2027-02-05', sessionId: id(ids.yoga) });
      expect(trends.points.map((p) => [p.capacity, p.booked, p.utilization])).toEqual(Array(5).fill([0, 0, 0]));
      expect(trends).toMatchObject({ slope: 0, direction: 'steady' });
    });

    it('gives a trend point per date and its direction', async () => {
      const trends = await staff.availability.trends.query({ from: SAT, to: MON });
      expect(trends.points).toEqual([
        { date: SAT, capacity: 35, booked: 16, utilization: 16 / 35 },
        { date: SUN, capacity: 28, booked: 7, utilization: 7 / 28 },
        { date: MON, capacity: 20, booked: 1, utilization: 1 / 20 },
      ]);
      expect(trends.direction).toBe('falling');
      expect(trends.slope).toBeCloseTo((1 / 20 - 16 / 35) / 2);
      const one = await staff.availability.trends.query({ from: SAT, to: SAT, sessionId: id(ids.swim) });
      expect(one).toMatchObject({ direction: 'steady', slope: 0 });
    });

    it('ranks peak hours and honours the limit', async () => {
      const hours = await staff.availability.peakHours.query({ from: SAT, to: SUN, limit: 2 });
      expect(hours).toEqual([
        { hour: 7, sessions: 2, capacity: 13, booked: 12, utilization: 12 / 13 },
        { hour: 9, sessions: 2, capacity: 10, booked: 5, utilization: 0.5 },
      ]);
      expect((await staff.availability.peakHours.query({ from: SAT, to: SUN })).map((h) => h.hour)).toEqual([7, 9, 18]);
    });

    it('lists alerts: low at exactly the ratio, none for closed, high demand inside the window only', async () => {
      const alerts = await staff.availability.alerts.query({ from: SAT, to: MON });
      const summary = alerts.map((a) => [a.type, a.date, a.sessionId === id(ids.swim) ? 'swim' : a.sessionId === id(ids.yoga) ? 'yoga' : 'spin']);
      expect(summary).toEqual([
        ['low_availability', SAT, 'swim'],
        ['no_availability', SAT, 'yoga'],
        ['high_demand', SAT, 'spin'],
        ['no_availability', SUN, 'swim'],
      ]);
      expect(alerts[2]).toMatchObject({ recentBookings: 3, capacity: 20, booked: 3 });
      expect(Date.parse(alerts[0]!.raisedAt)).not.toBeNaN();
    });

    it('refuses anonymous callers and callers without a role', async () => {
      expect(await codeOf(anonymous.availability.stats.query({ from: SAT, to: SAT }))).toBe('UNAUTHORIZED');
      const user = t.client(await t.token('user-1'));
      expect(await codeOf(user.availability.trends.query({ from: SAT, to: SAT }))).toBe('FORBIDDEN');
      const admin = t.client(await t.token('admin-1', ['admin']));
      expect((await admin.availability.peakHours.query({ from: SAT, to: SAT })).length).toBeGreaterThan(0);
    });
  });

  describe('availability.refresh (admin)', () => {
    it('recomputes a scope from MongoDB, overwrites the cache and publishes what changed', async () => {
      const admin = t.client(await t.token('admin-1', ['admin']));
      const before = await anonymous.availability.byDate.query({ date: MON });
      await writerFor(t.hub.database.connection, schemaCase).bookings([{ sessionId: id(ids.spin), date: MON, quantity: 4, status: 'confirmed', userId: 'user-9' }]);
      t.recorder.clear();
      const result = await admin.availability.refresh.mutate({ date: MON });
      expect(result.recomputed).toBe(2);
      expect(result.broadcast).toBeGreaterThanOrEqual(1);
      const spin = t.recorder.changes.find((c) => c.availability.sessionId === id(ids.spin));
      expect(spin).toMatchObject({ reason: 'refresh', availability: { booked: 4, date: MON } });
      const after = await anonymous.availability.byDate.query({ date: MON });
      expect(after[1]).toMatchObject({ booked: 4, available: 16 });
      expect(after[1]!.version).toBeGreaterThan(before[1]!.version);
      // Nothing changed since: a second refresh recomputes the same keys and publishes nothing.
      expect(await admin.availability.refresh.mutate({ from: MON, to: MON, sessionId: id(ids.spin) })).toEqual({ recomputed: 1, broadcast: 0 });
    });

    it('is for admins only', async () => {
      expect(await codeOf(staff.availability.refresh.mutate({ date: SAT }))).toBe('FORBIDDEN');
      expect(await codeOf(anonymous.availability.refresh.mutate({ date: SAT }))).toBe('UNAUTHORIZED');
    });

    it('answers NOT_FOUND for an unknown session', async () => {
      const admin = t.client(await t.token('admin-1', ['admin']));
      expect(await codeOf(admin.availability.refresh.mutate({ date: SAT, sessionId: ids.unknown }))).toBe('NOT_FOUND');
    });
  });
});
