/** Messages between bench/fanout.ts and its client and baseline-server processes (over the IPC channel of `fork`). */

/** Wall-clock milliseconds with sub-millisecond resolution; every process on this machine agrees on them. */
export const now = (): number => performance.timeOrigin + performance.now();

export type System = 'slotcast' | 'baseline';

export interface Target {
  url: string;
  count: number;
  /** Which system the server belongs to: deliveries are counted per system. */
  system: System;
  /** Which of the system's two servers (0 or 1): last receive times are also kept per server. */
  server: number;
}

/** How a write is named between the processes: the system and the update's `booked`. */
export const writeKey = (system: System, booked: unknown) => `${system}:${String(booked)}`;

export type ClientCommand =
  | { op: 'connect'; targets: Target[]; channel: string; concurrency: number }
  | { op: 'disconnect' }
  /** Asks how far a write got (after a timeout). */
  | { op: 'status'; key: string }
  | { op: 'exit' };

export type ClientReply =
  | {
      op: 'connected';
      sockets: Record<System, number>;
      failed: number;
      errors: string[];
      ms: number;
      /** The first subscribe ack's first snapshot row: the shape of a real update, for the baseline's payload. */
      sample?: Record<string, unknown>;
    }
  /** Every socket of this process on that system has the update keyed `key` (see writeKey). */
  | { op: 'delivered'; key: string; first: number; last: number; count: number; lastByServer: (number | null)[] }
  | { op: 'status'; key: string; count: number; sockets: number; first: number | null; last: number | null }
  | { op: 'disconnected'; elu: number };

export type BaselineCommand =
  | { op: 'emit'; room: string; payload: Record<string, unknown> }
  | { op: 'stop' };

export type BaselineReply = { op: 'listening'; port: number } | { op: 'stopped' };
