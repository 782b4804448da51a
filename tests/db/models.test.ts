import { beforeAll, describe, expect, it } from 'vitest';
import { Types, mongo } from 'mongoose';
import type { Database } from '../../server/src/db/connect.ts';
import { openTestDatabase } from '../support/database.ts';

let db: Database;
beforeAll(async () => {
  db = await openTestDatabase();
});

const session = (overrides: Record<string, unknown> = {}) => ({
  name: 'Pilates',
  startTime: '10:00',
  endTime: '11:00',
  capacity: 12,
  ...overrides,
});

const booking = (overrides: Record<string, unknown> = {}) => ({
  sessionId: new Types.ObjectId(),
  date: '2026-11-24',
  userId: 'user-1',
  quantity: 1,
  status: 'confirmed',
  ...overrides,
});

async function validationMessages(doc: { validate(): Promise<void> }): Promise<Record<string, string>> {
  try {
    await doc.validate();
    return {};
  } catch (error) {
    const errors = (error as { errors?: Record<string, { message: string }> }).errors ?? {};
    return Object.fromEntries(Object.entries(errors).map(([field, e]) => [field, e.message]));
  }
}

describe('sessions', () => {
  it('stores a valid session in the contract collection with active defaulting to true', async () => {
    const created = await db.models.Session.create(session({ daysOfWeek: [1, 3, 5] }));
    const raw = await db.connection.db!.collection('sessions').findOne({ _id: created._id });
    expect(raw).toMatchObject({ name: 'Pilates', startTime: '10:00', capacity: 12, daysOfWeek: [1, 3, 5], active: true });
  });

  it.each([
    [{ name: '' }, 'name', 'name is required'],
    [{ startTime: '25:00' }, 'startTime', 'startTime must be HH:mm'],
    [{ endTime: '9:00' }, 'endTime', 'endTime must be HH:mm'],
    [{ capacity: -1 }, 'capacity', 'capacity must be at least 0'],
    [{ capacity: 2.5 }, 'capacity', 'capacity must be a whole number'],
    [{ daysOfWeek: [7] }, 'daysOfWeek', 'daysOfWeek must hold whole numbers from 0 (Sunday) to 6'],
  ])('rejects %j with a message on the field', async (change, field, message) => {
    const messages = await validationMessages(new db.models.Session(session(change)));
    expect(messages[field]).toBe(message);
  });
});

describe('bookings', () => {
  it('stamps createdAt and updatedAt', async () => {
    const { _id } = await new db.models.Booking(booking()).save();
    const raw = await db.connection.db!.collection('bookings').findOne({ _id });
    expect(raw?.createdAt).toBeInstanceOf(Date);
    expect(raw?.updatedAt).toBeInstanceOf(Date);
  });

  it.each([
    [{ date: '2025-02-30' }, 'date', 'date must be a real calendar date in YYYY-MM-DD form'],
    [{ date: '2025-13-01' }, 'date', 'date must be a real calendar date in YYYY-MM-DD form'],
    [{ quantity: 0 }, 'quantity', 'quantity must be at least 1'],
    [{ quantity: 1.5 }, 'quantity', 'quantity must be a whole number'],
    [{ status: 'booked' }, 'status', 'status must be one of pending, confirmed, cancelled, expired'],
    [{ userId: undefined }, 'userId', 'userId is required'],
    [{ sessionId: undefined }, 'sessionId', 'sessionId is required'],
  ])('rejects %j with a message on the field', async (change, field, message) => {
    const messages = await validationMessages(new db.models.Booking(booking(change)));
    expect(messages[field]).toBe(message);
  });
});

describe('session overrides', () => {
  it('allows one override per session and date', async () => {
    const sessionId = new Types.ObjectId();
    await db.models.SessionOverride.create({ sessionId, date: '2026-12-01', closed: true });
    await db.models.SessionOverride.create({ sessionId, date: '2026-12-02', capacity: 5 });
    await expect(db.models.SessionOverride.create({ sessionId, date: '2026-12-01', capacity: 3 })).rejects.toBeInstanceOf(
      mongo.MongoServerError,
    );
    expect(await db.models.SessionOverride.countDocuments({ sessionId })).toBe(2);
  });

  it('rejects a negative capacity', async () => {
    const messages = await validationMessages(
      new db.models.SessionOverride({ sessionId: new Types.ObjectId(), date: '2026-12-01', capacity: -2 }),
    );
    expect(messages.capacity).toBe('capacity must be at least 0');
  });
});

describe('indexes', () => {
  it('has the indexes availability queries use', async () => {
    const keys = async (name: string) =>
      (await db.connection.db!.collection(name).indexes()).map((index) => ({ key: index.key, unique: index.unique ?? false }));
    expect(await keys('bookings')).toEqual(
      expect.arrayContaining([
        { key: { sessionId: 1, date: 1, status: 1 }, unique: false },
        { key: { date: 1, status: 1 }, unique: false },
        { key: { userId: 1, date: 1 }, unique: false },
      ]),
    );
    expect(await keys('session_overrides')).toEqual(expect.arrayContaining([{ key: { sessionId: 1, date: 1 }, unique: true }]));
  });
});
