import { isIsoDate, type IsoDate } from './dates.ts';
import { OBJECT_ID, USER_ID } from './ids.ts';

/** Channel names are room names; these are their four shapes. */
export type Channel =
  | { kind: 'global' }
  | { kind: 'date'; date: IsoDate }
  | { kind: 'session'; sessionId: string }
  | { kind: 'user'; userId: string };

export const GLOBAL_CHANNEL = 'availability';
export const MAX_CHANNEL_LENGTH = 160;

export const dateChannel = (date: IsoDate): string => `${GLOBAL_CHANNEL}.${date}`;
export const sessionChannel = (sessionId: string): string => `${GLOBAL_CHANNEL}.session.${sessionId.toLowerCase()}`;
export const userChannel = (userId: string): string => `${GLOBAL_CHANNEL}.user.${userId}`;

export function channelName(channel: Channel): string {
  switch (channel.kind) {
    case 'global':
      return GLOBAL_CHANNEL;
    case 'date':
      return dateChannel(channel.date);
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
