import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  addDays,
  alertSchema,
  availabilityUpdateSchema,
  bookingUpdateSchema,
  sessionAvailabilitySchema,
  type AvailabilityUpdate,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SubscribeAck,
} from '@slotcast/shared';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { connect, subscribe, Received } from '../support/sockets.ts';
import { ids, id } from '../support/fixture.ts';

let t: TestHub;
let today: string;

beforeAll(async () => {
  t = await startTestHub({ env: { COALESCE_MS: '10', HIGH_DEMAND_BOOKINGS: '2' } });
  today = t.hub.reads.today();
  await t.hub.database.models.Session.create({ _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 4 });
  await t.hub.feed!.idle();
});

describe('the shared schemas describe what the hub really sends', () => {
  it('tRPC rows, subscribe snapshots, updates, alerts and owner updates all parse', async () => {
    const rows = await t.client().availability.byDate.query({ date: today });
    for (const row of rows) sessionAvailabilitySchema.parse(row);

    const owner = new Received(await connect(`http://127.0.0.1:${t.hub.port}`, { token: await t.token('user-9') }));
    const ack = await subscribe(owner.socket, { channel: 'availability.user.user-9' });
    const watcher = new Received(await connect(`http://127.0.0.1:${t.hub.port}`));
    const dateAck = watcher.apply(await subscribe(watcher.socket, { channel: `availability.${addDays(today, 1)}` }));
    expect(ack.ok && dateAck.ok).toBe(true);
    if (dateAck.ok) for (const row of dateAck.snapshot) sessionAvailabilitySchema.parse(row);

    const date = addDays(today, 1);
    for (const quantity of [2, 1]) {
      await t.hub.database.models.Booking.create({ sessionId: ids.swim, date, userId: 'user-9', quantity, status: 'confirmed' });
    }
    await watcher.until('an update and an alert', (r) => r.get(id(ids.swim), date)?.booked === 3 && r.alerts.length > 0);
    await owner.until('two owner updates', (r) => r.bookings.length === 2);
    for (const update of watcher.updates) availabilityUpdateSchema.parse(update);
    for (const alert of watcher.alerts) alertSchema.parse(alert);
    for (const update of owner.bookings) bookingUpdateSchema.parse(update);
  });

  it('types the event maps so a misspelt event does not compile', () => {
    expectTypeOf<Parameters<ServerToClientEvents['availability.updated']>[0]>().toEqualTypeOf<AvailabilityUpdate>();
    expectTypeOf<Parameters<Parameters<ClientToServerEvents['subscribe']>[1]>[0]>().toEqualTypeOf<SubscribeAck>();
    expectTypeOf<keyof ServerToClientEvents>().toEqualTypeOf<'availability.updated' | 'availability.alert' | 'booking.updated' | 'hold.updated' | 'waitlist.offer' | 'waitlist.updated' | 'resync'>();
  });
});
