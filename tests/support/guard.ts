import { TRPCClientError } from '@trpc/client';
import { keyOf, type Key } from '@slotcast/shared';
import type { Models } from '../../server/src/db/models.ts';
import { AvailabilityReader } from '../../server/src/availability/reader.ts';
import { Tokens } from '../../server/src/auth/tokens.ts';
import { createSlotcastClient, type SlotcastClient } from '../../client/src/index.ts';
import { TEST_JWT_SECRET } from './hub.ts';
import { whenDone } from './cleanup.ts';

/** What one guarded call came to: its value, or the typed refusal (`NETWORK` when no answer came, as from a killed hub). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; reason?: string; available?: number; message: string };

export async function outcome<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    const data = error.data as { code?: string; reason?: string; available?: number } | undefined;
    const cause = error.cause instanceof Error ? `: ${error.cause.message}${error.cause.cause instanceof Error ? ` (${error.cause.cause.message})` : ''}` : '';
    return { ok: false, code: data?.code ?? 'NETWORK', reason: data?.reason, available: data?.available, message: `${error.message}${data ? '' : cause}` };
  }
}

/** The refusal of a call that must be refused. */
export async function refusal(call: Promise<unknown>): Promise<Exclude<Outcome<unknown>, { ok: true }>> {
  const result = await outcome(call);
  if (result.ok) throw new Error('the call was not refused');
  return result;
}

/** Counts outcomes by `ok` or `code/reason/available`, for assertions that print well when they fail. */
export function tally(outcomes: Outcome<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of outcomes) {
    const name = result.ok ? 'ok' : `${result.code}/${result.reason ?? '-'}/${result.available ?? '-'}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const signer = new Tokens(TEST_JWT_SECRET);

/** A tRPC client of its own for user `sub`, with its own JWT, on the hub at `url`. */
export async function callerOn(url: string, sub: string, roles: ('staff' | 'admin')[] = []): Promise<SlotcastClient> {
  return createSlotcastClient({ url, token: await signer.sign({ sub, roles }, '1h') });
}

/**
 * MongoDB's truth of one key, from the same reads the availability engine makes: places in active
 * holds (counting those whose confirm began) and in active bookings. Held is read before booked, so a
 * confirm that moves places from one to the other in between is counted twice, never missed.
 */
export async function placesOf(models: Models, key: Key): Promise<{ held: number; booked: number; taken: number }> {
  const reader = new AvailabilityReader(models);
  const scope = { from: key.date, to: key.date, sessionIds: [key.sessionId] };
  const held = (await reader.held(scope)).get(keyOf(key)) ?? 0;
  const booked = (await reader.booked(scope)).get(keyOf(key)) ?? 0;
  return { held, booked, taken: held + booked };
}

/** The key's ledger document (free places, claims admitted without their hold yet), or undefined. */
export async function ledgerOf(models: Models, key: Key) {
  return (await models.Ledger.findById(keyOf(key)).lean()) ?? undefined;
}

/**
 * Waits for a condition on MongoDB's state, re-checked whenever the ledgers or holds change (change
 * streams); a slow re-check every `recheckMs` also covers changes made before a stream was open.
 */
export function mongoWaiter(models: Models, recheckMs = 250) {
  const streams = [models.Ledger.collection.watch(), models.Hold.collection.watch()];
  const listeners = new Set<() => void>();
  const streamErrors: string[] = [];
  for (const stream of streams) {
    stream.on('change', () => listeners.forEach((wake) => wake()));
    // A stream that fails only ends the wake-ups (the timer still re-checks); a timeout says why.
    stream.on('error', (error: Error) => streamErrors.push(error.message));
  }
  whenDone(() => Promise.all(streams.map((stream) => stream.close())));
  return {
    until(description: string, check: () => Promise<boolean>, timeoutMs: number, detail?: () => Promise<string>): Promise<void> {
      return new Promise((resolve, reject) => {
        let running = false;
        let again = false;
        const finish = (error?: Error) => {
          clearTimeout(timer);
          clearInterval(recheck);
          listeners.delete(wake);
          if (error) reject(error);
          else resolve();
        };
        const wake = () => {
          if (running) {
            again = true;
            return;
          }
          running = true;
          check().then(
            (done) => {
              running = false;
              if (done) finish();
              else if (again) {
                again = false;
                wake();
              }
            },
            (error: Error) => finish(error),
          );
        };
        const timer = setTimeout(() => {
          void (detail?.() ?? Promise.resolve(''))
            .then((text) => `${text}${streamErrors.length > 0 ? `; change stream errors: ${streamErrors.join(', ')}` : ''}`)
            .then((text) => finish(new Error(`timed out waiting for ${description}${text ? `; ${text}` : ''}`)));
        }, timeoutMs);
        const recheck = setInterval(wake, recheckMs);
        listeners.add(wake);
        wake();
      });
    },
  };
}
