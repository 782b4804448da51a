import type { Metrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import type { HubNamespace, HubSocket } from './types.ts';

/** How often each socket's queue is measured. */
const CHECK_EVERY_MS = 1_000;

/**
 * What waits for one socket in this process: Engine.IO's write buffer (packets not yet handed to
 * the transport) and the WebSocket's `bufferedAmount` (bytes not yet handed to the kernel). Neither
 * is in Socket.IO's public API, so both are read defensively: a missing field counts 0.
 */
export function queuedBytes(socket: HubSocket): number {
  const conn = socket.conn as unknown as { writeBuffer?: { data?: unknown }[]; transport?: { socket?: { bufferedAmount?: unknown } } };
  let bytes = 0;
  for (const packet of conn.writeBuffer ?? []) {
    const data = packet.data;
    if (typeof data === 'string') bytes += data.length;
    else if (data instanceof Uint8Array || data instanceof ArrayBuffer) bytes += data.byteLength;
  }
  const buffered = conn.transport?.socket?.bufferedAmount;
  return bytes + (typeof buffered === 'number' ? buffered : 0);
}

/**
 * Drops sockets that stopped reading: a client that answers pings but reads nothing would
 * otherwise make the hub keep every event for it. A dropped client reconnects and subscribes
 * again, and its snapshot brings it to the current state (versions make that safe).
 */
export function dropSlowSockets(nsp: HubNamespace, limitBytes: number, metrics: Metrics, logger: Logger): () => void {
  const timer = setInterval(() => {
    let largest = 0;
    for (const socket of nsp.sockets.values()) {
      const queued = queuedBytes(socket);
      largest = Math.max(largest, queued);
      if (queued <= limitBytes) continue;
      metrics.slowSocketDrops.inc();
      logger.warn({ socket: socket.id, queued, limit: limitBytes }, 'dropping a socket that stopped reading');
      socket.disconnect(true);
    }
    metrics.largestSocketQueue.set(largest);
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
