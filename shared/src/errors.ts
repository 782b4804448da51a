/** Codes a `subscribe` ack may carry, on Socket.IO and on the tRPC stream alike. */
export const SUBSCRIBE_ERROR = {
  INVALID_CHANNEL: 'INVALID_CHANNEL',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  INTERNAL: 'INTERNAL',
} as const;
export type SubscribeErrorCode = (typeof SUBSCRIBE_ERROR)[keyof typeof SUBSCRIBE_ERROR];

/** `connect_error` messages of the /availability namespace. */
export const CONNECT_ERROR = {
  UNAUTHORIZED: 'UNAUTHORIZED',
} as const;
export type ConnectErrorCode = (typeof CONNECT_ERROR)[keyof typeof CONNECT_ERROR];

/** Codes of an `auth` ack (a token replaced on a live socket). */
export const AUTH_ERROR = {
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
} as const;
export type AuthErrorCode = (typeof AUTH_ERROR)[keyof typeof AUTH_ERROR];

/** Why the hub tells a socket to re-read its snapshots. */
export const RESYNC_REASON = {
  REDIS_RECOVERED: 'redis_recovered',
  FEED_RESYNC: 'feed_resync',
} as const;
export type ResyncReason = (typeof RESYNC_REASON)[keyof typeof RESYNC_REASON];

export interface WireError<Code extends string = string> {
  code: Code;
  message: string;
}
