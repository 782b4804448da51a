import { beforeAll, describe, expect, it } from 'vitest';
import { resyncingClient } from '../support/cluster.ts';
import { startTwoHubs } from '../support/two-hubs.ts';
import type { Received } from '../support/sockets.ts';
import type { HubProcess } from '../support/hub-process.ts';

let world: Awaited<ReturnType<typeof startTwoHubs>>;
let urls: string[];
let hubs: HubProcess[];
let SESSIONS: typeof world.sessions;
let tomorrow: string;
const writeMix = (count: number) => world.writeMix(count, { moves: true });
const converged = (clients: Received[]) => world.converged(clients, 30_000);

beforeAll(async () => {
  world = await startTwoHubs({ capacity: 1000 });
  ({ urls, hubs, sessions: SESSIONS, tomorrow } = world);
}, 60_000);

describe('two hub processes behind one Redis', () => {
  it('bring every socket on either instance to the database state, each version once and in order', async () => {
    const channels = ['availability', `availability.${tomorrow}`, `availability.session.${SESSIONS[0]}`];
    const clients = await Promise.all([0, 1, 0, 1].map((i) => resyncingClient(urls[i]!, channels)));
    await writeMix(200);
    await converged(clients);
    for (const client of clients) {
      expect(client.versionsStrictlyIncrease()).toBe(true);
      expect(client.resyncs).toEqual([]);
    }
    // Updates from whichever instance leads reach sockets on both.
    expect(clients.every((client) => client.updates.length > 0)).toBe(true);
    // Redis was up all along: no connection of either hub may have failed (the adapter's subscriber once did, ioredis#2037).
    expect(hubs.flatMap((hub) => hub.logs.filter((line) => line.level >= 40))).toEqual([]);
  }, 90_000);

  it('gives a reconnecting client a snapshot never older than what it held', async () => {
    const channels = ['availability', `availability.${tomorrow}`];
    const first = await resyncingClient(urls[0]!, channels);
    await writeMix(40);
    await converged([first]);
    const held = new Map([...first.state.entries()].map(([key, row]) => [key, (row as { version: number }).version]));
    first.socket.close();
    await writeMix(20);
    const again = await resyncingClient(urls[1]!, channels);
    for (const [key, version] of held) {
      const row = again.state.get(key) as { version: number } | undefined;
      expect(row?.version, key).toBeGreaterThanOrEqual(version);
    }
    await converged([again]);
  }, 90_000);
});
