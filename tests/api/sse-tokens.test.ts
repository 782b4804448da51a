import { beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { Waiter } from '../support/waiter.ts';

let t: TestHub;

beforeAll(async () => {
  t = await startTestHub({ seams: { changeFeed: false } });
});

describe('tokens on SSE', () => {
  it('ends a stream when its token expires', async () => {
    const token = await t.token('alice', [], '3s');
    const expiresAt = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
    const waiter = new Waiter();
    let started = false;
    let failure: { data?: { code?: string; lastEventId?: string } | null; message: string } | undefined;
    const subscription = t.client(token).availability.subscribe.subscribe(
      { channel: 'availability.user.alice' },
      {
        onStarted: () => ((started = true), waiter.wake()),
        onError: (error) => ((failure = error as typeof failure), waiter.wake()),
      },
    );
    try {
      await waiter.until('the stream to start', () => started, 10_000);
      await waiter.until('the stream to end', () => failure !== undefined, 10_000);
      const lateBy = Date.now() - expiresAt;
      console.log(`SSE stream ended ${lateBy} ms after the token's expiry`);
      expect(failure?.data?.code).toBe('UNAUTHORIZED');
      expect(failure?.message).toMatch(/expired/);
      // Where to resume: alice has no bookings, so no event carried an id, but the error names the snapshot's tip.
      expect(failure?.data?.lastEventId).toMatch(/^\d+-\d+$/);
      expect(lateBy).toBeGreaterThan(-1_000);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('accepts a token in connectionParams only on the SSE subscription', async () => {
    const token = await t.token('desk', ['staff']);
    const input = encodeURIComponent(JSON.stringify({ from: '2027-01-01', to: '2027-01-02' }));
    const params = encodeURIComponent(JSON.stringify({ token }));
    const inUrl = await fetch(`${t.hub.url}/trpc/availability.stats?input=${input}&connectionParams=${params}`);
    expect(inUrl.status).toBe(401);
    const inHeader = await fetch(`${t.hub.url}/trpc/availability.stats?input=${input}`, { headers: { authorization: `Bearer ${token}` } });
    expect(inHeader.status).toBe(200);
  });
});
