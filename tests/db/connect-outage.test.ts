import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { connectDatabase } from '../../server/src/db/connect.ts';
import { startWireServer } from '../../server/src/devservices/wire-server.ts';
import { withDatabase } from '../../server/src/devservices/services.ts';
import type { LogLine } from '../support/hub-process.ts';
import { whenDone } from '../support/cleanup.ts';
import { unique } from '../support/names.ts';
import { Waiter } from '../support/waiter.ts';
import { freezeProcess } from '../support/freeze.ts';

/** A pino logger whose lines the test can read and wait for. */
function capturedLogger() {
  const lines: LogLine[] = [];
  const waiter = new Waiter();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      waiter.wake();
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, stream),
    lines,
    until: (msg: string) => waiter.until(`the log line "${msg}"`, () => lines.some((line) => line.msg === msg), 10_000, { detail: () => JSON.stringify(lines) }),
  };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const at = performance.now();
  const value = await work();
  return { value, ms: performance.now() - at };
}

describe('connectDatabase when MongoDB stops answering (SIGSTOP of the wire server)', () => {
  it('ping says false within a second, the outage and its end are logged once each, and close() is bounded', async () => {
    const wire = await startWireServer();
    whenDone(() => wire.stop());
    let thaw = () => undefined as void;
    const freeze = () => {
      thaw = freezeProcess(wire.pid);
    };
    // Registered after the wire server's cleanup, so it runs before it.
    whenDone(() => thaw());
    const log = capturedLogger();
    const database = await connectDatabase(withDatabase(wire.uri, unique('ping')), { logger: log.logger });
    expect(await database.ping()).toBe(true);

    freeze();
    const pings = [await timed(() => database.ping()), await timed(() => database.ping())];
    expect(pings.map((ping) => ping.value)).toEqual([false, false]);
    for (const ping of pings) expect(ping.ms).toBeLessThan(1_000);
    expect(log.lines.filter((line) => line.msg === 'MongoDB is not answering')).toHaveLength(1);

    thaw();
    await log.until('MongoDB answers again');
    expect(await database.ping()).toBe(true);
    expect(log.lines.find((line) => line.msg === 'MongoDB answers again')?.outageMs).toBeGreaterThan(0);

    // A change stream whose pull is waiting on the frozen server makes the driver's close wait for its killCursors.
    const stream = database.connection.db!.collection('things').watch([], { maxAwaitTimeMS: 200 });
    await stream.tryNext();
    freeze();
    const pull = stream.tryNext().catch((error: Error) => error);
    const closing = await timed(() => database.close());
    thaw();
    console.log(`ping while frozen: ${pings.map((ping) => Math.round(ping.ms)).join(' ms, ')} ms; close while frozen: ${Math.round(closing.ms)} ms`);
    expect(closing.ms).toBeLessThan(2_500);
    expect(log.lines.filter((line) => line.msg.startsWith('MongoDB did not close in time'))).toHaveLength(1);
    // Whatever the abandoned pull ends with (its answer after SIGCONT, or the closed client), it ends.
    await pull;
  }, 60_000);
});
