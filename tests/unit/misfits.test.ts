import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Counter } from 'prom-client';
import { Misfits } from '../../server/src/schema/misfits.ts';

describe('Misfits', () => {
  it('counts each document once per reason, and logs at most 10 lines a minute, the next one saying how many were left out', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    const counter = new Counter({ name: 'misfits_unit', help: 'test', labelNames: ['collection', 'reason'] as const, registers: [] });
    let clock = 0;
    const misfits = new Misfits(counter, logger, () => clock);
    for (let i = 0; i < 25; i += 1) misfits.report('reservations', `r${i}`, 'missing:status', 'state');
    misfits.report('reservations', 'r0', 'missing:status', 'state');
    misfits.report('reservations', 'r0', 'invalid:quantity', 'seats');
    await new Promise((resolve) => setImmediate(resolve));
    expect((await counter.get()).values.map((v) => [v.labels.reason, v.value])).toEqual([
      ['missing:status', 25],
      ['invalid:quantity', 1],
    ]);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatchObject({ level: 40, collection: 'reservations', id: 'r0', reason: 'missing:status', field: 'state' });
    clock += 60_000;
    misfits.report('class_exceptions', 'x1', 'mistyped:closed', 'cancelled');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(11);
    expect(lines[10]).toMatchObject({ id: 'x1', notLogged: 16 });
    // Fixed, then broken again: counted again.
    misfits.fits('class_exceptions', 'x1');
    misfits.report('class_exceptions', 'x1', 'mistyped:closed', 'cancelled');
    expect((await counter.get()).values.find((v) => v.labels.reason === 'mistyped:closed')?.value).toBe(2);
  });
});
