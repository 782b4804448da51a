import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react';
import { ChannelRows, type ChannelRowsState } from './channel-rows.ts';
import type { RealtimeClient } from './realtime.ts';
import type { ConnectionState } from './states.ts';

export { ChannelRows, type ChannelRowsState } from './channel-rows.ts';

/**
 * A channel's live rows: subscribes while the component is mounted (again when `channel`
 * changes) and re-renders on every newer version of a row in it. Until the first snapshot (and
 * in server rendering, where effects do not run) it has no rows and status `subscribing`.
 */
export function useChannel(client: RealtimeClient, channel: string): ChannelRowsState {
  const rows = useMemo(() => new ChannelRows(client, channel), [client, channel]);
  useEffect(() => rows.start(), [rows]);
  return useSyncExternalStore(rows.subscribe, rows.getSnapshot, rows.getSnapshot);
}

/** The client's connection state (`idle`, `connecting`, `connected`, `disconnected`, `closed`), re-rendering on each change. */
export function useConnectionState(client: RealtimeClient): ConnectionState {
  const subscribe = useCallback((notify: () => void) => client.on('state', notify), [client]);
  const read = () => client.state;
  return useSyncExternalStore(subscribe, read, read);
}
