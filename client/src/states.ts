/** Where a realtime client is; every change carries one of the reasons below. */
export const CONNECTION_STATE = {
  idle: 'idle',
  connecting: 'connecting',
  connected: 'connected',
  disconnected: 'disconnected',
  closed: 'closed',
} as const;
export type ConnectionState = (typeof CONNECTION_STATE)[keyof typeof CONNECTION_STATE];

export const STATE_REASON = {
  /** connect() was called. */
  connectCalled: 'connect_called',
  /** A retry after a delay. */
  reconnect: 'reconnect',
  /** The browser came back online: retrying at once. */
  online: 'online',
  /** The transport dropped (network, hub restart). */
  transportClosed: 'transport_closed',
  /** The hub ended the connection (shutdown, expired token). */
  serverDisconnect: 'server_disconnect',
  /** The token was refused at handshake. */
  unauthorized: 'unauthorized',
  /** The hub could not be reached. */
  connectError: 'connect_error',
  /** close() was called. */
  closeCalled: 'close_called',
  connected: 'connected',
} as const;
export type StateReason = (typeof STATE_REASON)[keyof typeof STATE_REASON];

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  reason: StateReason;
  /** For disconnected: which retry comes next and after how long. */
  attempt?: number;
  delayMs?: number;
}
