import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { addDays, todayIn, weekday, type BookingStatus } from '@slotcast/shared';
import type { Models } from './models.ts';

const WEEKDAYS = [1, 2, 3, 4, 5];
const WEEKEND = [0, 6];

/** name, start, end, capacity, days (undefined = every day), popularity 0-1 (share of capacity booked). */
const DEMO_SESSIONS = [
  ['Early Swim', '06:30', '07:30', 60, undefined, 0.55],
  ['Sunrise Yoga', '07:00', '08:00', 30, WEEKDAYS, 0.7],
  ['Spin Class', '08:00', '08:45', 40, undefined, 0.75],
  ['Kids Swim Lessons', '09:00', '10:00', 20, WEEKEND, 0.85],
  ['Pilates', '10:00', '11:00', 24, undefined, 0.6],
  ['Aqua Aerobics', '11:00', '12:00', 50, undefined, 0.5],
  ['Lunchtime HIIT', '12:15', '13:00', 30, WEEKDAYS, 0.8],
  ['Climbing Wall', '14:00', '16:00', 24, undefined, 0.65],
  ['Museum Highlights Tour', '15:00', '16:30', 100, undefined, 0.45],
  ['After-work Spin', '17:30', '18:15', 40, WEEKDAYS, 0.97],
  ['Evening Yoga', '18:30', '19:30', 36, undefined, 0.95],
  ['Night Swim', '20:00', '21:00', 100, undefined, 0.4],
] as const;

export interface SeedOptions {
  /** The first seeded date is today + firstDay; bookings cover `days` dates from there. */
  today?: string;
  timeZone?: string;
  firstDay?: number;
  days?: number;
}

export interface SeedResult {
  sessions: number;
  overrides: number;
  bookings: number;
}

/** Stable ObjectIds, so a second run rewrites the same documents instead of adding new ones. */
export function seedId(label: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha1').update(`slotcast-demo:${label}`).digest('hex').slice(0, 24));
}

/** mulberry32: a small seeded generator, so every run draws the same bookings. */
function random(seed: string): () => number {
  let state = createHash('sha1').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pickStatus(roll: number): BookingStatus {
  if (roll < 0.84) return 'confirmed';
  if (roll < 0.92) return 'pending';
  if (roll < 0.97) return 'cancelled';
  return 'expired';
}

/** Weekly rhythm: busier at weekends and midweek, quieter on Mondays. */
const DAY_FACTOR = [1.1, 0.8, 0.95, 1.05, 0.95, 1.0, 1.15];

export function demoData(options: SeedOptions = {}) {
  const today = options.today ?? todayIn(options.timeZone ?? 'UTC');
  const firstDay = options.firstDay ?? -7;
  const days = options.days ?? 30;
  const sessions = DEMO_SESSIONS.map(([name, startTime, endTime, capacity, daysOfWeek, popularity]) => ({
    doc: {
      _id: seedId(`session:${name}`),
      name,
      startTime,
      endTime,
      capacity,
      ...(daysOfWeek ? { daysOfWeek: [...daysOfWeek] } : {}),
      active: true,
    },
    popularity,
  }));
  const byName = (name: string) => sessions.find((s) => s.doc.name === name)!.doc;
  const overrides = [
    { _id: seedId('override:climbing-closed'), sessionId: byName('Climbing Wall')._id, date: addDays(today, 3), closed: true },
    { _id: seedId('override:tour-extra'), sessionId: byName('Museum Highlights Tour')._id, date: addDays(today, 5), capacity: 120 },
  ];
  const closed = new Set(overrides.filter((o) => o.closed).map((o) => `${o.sessionId}:${o.date}`));

  const bookings = [];
  for (let offset = firstDay; offset < firstDay + days; offset += 1) {
    const date = addDays(today, offset);
    const day = weekday(date);
    for (const { doc, popularity } of sessions) {
      if (doc.daysOfWeek && !doc.daysOfWeek.includes(day)) continue;
      if (closed.has(`${doc._id}:${date}`)) continue;
      // Offsets, not dates, seed the draw: the same pattern lands on the same days relative to today.
      const draw = random(`${doc.name}:${offset}`);
      const target = Math.round(doc.capacity * Math.min(1.02, popularity * DAY_FACTOR[day]! * (0.85 + draw() * 0.2)));
      let placed = 0;
      for (let n = 0; placed < target; n += 1) {
        const quantity = draw() < 0.8 ? 1 : draw() < 0.7 ? 2 : 3;
        const status = pickStatus(draw());
        if (status === 'pending' || status === 'confirmed') placed += quantity;
        const createdAt = new Date(Date.parse(`${date}T00:00:00Z`) - Math.floor(draw() * 14 * 86_400_000));
        bookings.push({
          _id: seedId(`booking:${doc.name}:${offset}:${n}`),
          sessionId: doc._id,
          date,
          userId: `user-${1 + Math.floor(draw() * 400)}`,
          quantity,
          status,
          createdAt,
          updatedAt: createdAt,
        });
      }
    }
  }
  return { sessions: sessions.map((s) => s.doc), overrides, bookings };
}

/**
 * Writes the demo schedule: about 12 sessions, a month of bookings with a weekly pattern, a few
 * sessions nearly full and one closed by an override. Documents have stable ids, so running it
 * again on the same day leaves the same data.
 */
export async function seedDemoData(models: Models, options: SeedOptions = {}): Promise<SeedResult> {
  const data = demoData(options);
  const replaceAll = <T extends { _id: Types.ObjectId }>(docs: T[]) =>
    docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } }));
  await models.Session.bulkWrite(replaceAll(data.sessions), { ordered: false });
  await models.SessionOverride.bulkWrite(replaceAll(data.overrides), { ordered: false });
  // Seeded bookings carry their own createdAt/updatedAt, so mongoose must not stamp them.
  const chunk = 1000;
  for (let i = 0; i < data.bookings.length; i += chunk) {
    await models.Booking.bulkWrite(replaceAll(data.bookings.slice(i, i + chunk)), { ordered: false, timestamps: false });
  }
  return { sessions: data.sessions.length, overrides: data.overrides.length, bookings: data.bookings.length };
}
