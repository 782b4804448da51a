import { SUBSCRIBE_ERROR, type Channel, type SubscribeErrorCode } from '@slotcast/shared';
import type { Principal } from './tokens.ts';

/** Public channels are open to all; a user channel only to the token whose `sub` is that user. */
export function channelAccess(channel: Channel, principal: Principal | null): SubscribeErrorCode | undefined {
  if (channel.kind !== 'user') return undefined;
  return principal?.userId === channel.userId ? undefined : SUBSCRIBE_ERROR.FORBIDDEN;
}
