import { addDays, daysBetween, isIsoDate, type IsoDate } from './dates.ts';
import { OBJECT_ID, USER_ID } from './ids.ts';

/** Channel names are room names; these are their five shapes. */
export type Channel =
  | { kind: 'global' }
  | { kind: 'date'; date: IsoDate }
  | { kind: 'range'; from: IsoDate; to: IsoDate }
  | { kind: 'session'; sessionId: string }
  | { kind: 'user'; userId: string };

/** Longest range channel, both ends included: a month. */
export const MAX_RANGE_CHANNEL_DAYS = 31;

export const GLOBAL_CHANNEL = 'availability';
export const MAX_CHANNEL_LENGTH = 160;

export const dateChannel = (date: IsoDate): string => `${GLOBAL_CHANNEL}.${date}`;
export const rangeChannel = (from: IsoDate, to: IsoDate): string => `${GLOBAL_CHANNEL}.range.${from}.${to}`;
/**
 * The internal room of one date that range subscribers join (one per date of their range), so a
 * change on that date reaches every range holding it. Its name parses as no channel, so no
 * client can subscribe to it by name.
 */
export const dayRoom = (date: IsoDate): string => `#day:${date}`;
export const sessionChannel = (sessionId: string): string => `${GLOBAL_CHANNEL}.session.${sessionId.toLowerCase()}`;
export const userChannel = (userId: string): string => `${GLOBAL_CHANNEL}.user.${userId}`;

export function channelName(channel: Channel): string {
  switch (channel.kind) {
    case 'global':
      return GLOBAL_CHANNEL;
    case 'date':
      return dateChannel(channel.date);
    case 'range':
      return rangeChannel(channel.from, channel.to);
    case 'session':
      return sessionChannel(channel.sessionId);
    case 'user':
      return userChannel(channel.userId);
  }
}

/** Parses a channel name; null for anything that is not exactly one of the four shapes. */
export function parseChannel(name: unknown): Channel | null {
  if (typeof name !== 'string' || name.length > MAX_CHANNEL_LENGTH) return null;
  if (name === GLOBAL_CHANNEL) return { kind: 'global' };
  const prefix = `${GLOBAL_CHANNEL}.`;
  if (!name.startsWith(prefix)) return null;
  const rest = name.slice(prefix.length);
  if (isIsoDate(rest)) return { kind: 'date', date: rest };
  if (rest.startsWith('range.')) {
    const [from = '', to = '', extra] = rest.slice('range.'.length).split('.');
    if (extra !== undefined || !isIsoDate(from) || !isIsoDate(to)) return null;
    const span = daysBetween(from, to);
    return span >= 0 && span < MAX_RANGE_CHANNEL_DAYS ? { kind: 'range', from, to } : null;
  }
  if (rest.startsWith('session.')) {
    const sessionId = rest.slice('session.'.length);
    return OBJECT_ID.test(sessionId) ? { kind: 'session', sessionId: sessionId.toLowerCase() } : null;
  }
  if (rest.startsWith('user.')) {
    const userId = rest.slice('user.'.length);
    return USER_ID.test(userId) ? { kind: 'user', userId } : null;
  }
  return null;
}

/**
 * The rooms a channel's events arrive in: the channel's own room, or for a range the day room of
 * each of its dates. Socket.IO joins them; the SSE stream matches logged events against them.
 */
export function deliveryRooms(channel: Channel): string[] {
  if (channel.kind !== 'range') return [channelName(channel)];
  const rooms: string[] = [];
  for (let span = daysBetween(channel.from, channel.to), i = 0; i <= span; i += 1) rooms.push(dayRoom(addDays(channel.from, i)));
  return rooms;
}
