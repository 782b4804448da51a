export { createSlotcastClient, type SlotcastClient, type SlotcastClientOptions, type AppRouter } from './trpc.ts';
export { ACK_TIMEOUT, createRealtimeClient, RealtimeClient, type RealtimeClientOptions, type ChannelHandlers } from './realtime.ts';
export { AvailabilityStore, type StoreChange } from './store.ts';
export { ChannelRows, type ChannelRowsState } from './channel-rows.ts';
export { CONNECTION_STATE, STATE_REASON, type ConnectionState, type StateChange, type StateReason } from './states.ts';
export { fullJitter, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
export { remainingText, statusClass, utilizationWidth } from './ui.ts';
