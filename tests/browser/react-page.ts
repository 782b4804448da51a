// The React page of tests/browser/client-pages.test.ts, bundled by esbuild there (no JSX, so tsc needs no JSX setting).
import { createElement as h, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createRealtimeClient, remainingText } from '@slotcast/client';
import { useChannel, useConnectionState } from '@slotcast/client/react';

const params = new URLSearchParams(location.search);
const client = createRealtimeClient({ url: params.get('hub')! });
client.connect();

function Schedule({ date }: { date: string }) {
  const connection = useConnectionState(client);
  const { rows, status } = useChannel(client, `availability.${date}`);
  return h(
    'main',
    { 'data-connection': connection, 'data-status': status },
    h('ul', null, ...rows.map((row) => h('li', { key: row.sessionId, 'data-session-id': row.sessionId }, `${row.startTime} ${row.name}: ${remainingText(row)}`))),
  );
}

// StrictMode mounts, unmounts and mounts again: the channel must survive being started twice.
createRoot(document.getElementById('root')!).render(h(StrictMode, null, h(Schedule, { date: params.get('date')! })));
