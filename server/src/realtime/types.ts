import type { Namespace, Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '@slotcast/shared';
import type { Principal } from '../auth/tokens.ts';

/** What the hub keeps on each socket. */
export interface SocketData {
  principal: Principal | null;
  /** The channels this socket subscribed to (a range is one, however many day rooms it joined). */
  channels: Set<string>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- instances talk through the adapter only
export interface InterServerEvents {}

export type HubServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type HubNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Rooms of the namespace, as `nsp.to(rooms)` returns them. */
export type HubRooms = ReturnType<HubNamespace['to']>;
