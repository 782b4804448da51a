// The browser bundle: the realtime client and UI helpers, without the tRPC client.
export { createRealtimeClient, RealtimeClient } from './realtime.ts';
export { AvailabilityStore } from './store.ts';
export { CONNECTION_STATE, STATE_REASON } from './states.ts';
export { remainingText, statusClass, utilizationWidth } from './ui.ts';
