import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { createRealtimeClient, type RealtimeClient } from '@slotcast/client/browser';
import type { AppRouter, SlotcastClient } from '@slotcast/client';
import { USER_ID } from '@slotcast/shared';

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface DemoConfig {
  today: string;
  /** The embedded development database: the simulate button and demo tokens exist. */
  simulate: boolean;
  demo: boolean;
}

export const loadConfig = async (): Promise<DemoConfig> => (await (await fetch('/demo/config')).json()) as DemoConfig;

const USER_KEY = 'slotcast-demo-user';
/** A token an integrator (or a test) put there: it wins over the demo's own. */
const TOKEN_KEY = 'slotcast-token';

/** This window's demo user: ?user=…, else a name kept for the tab, else a new random one. */
export function demoUser(): string {
  const given = new URLSearchParams(location.search).get('user');
  if (given && USER_ID.test(given)) sessionStorage.setItem(USER_KEY, given);
  let user = sessionStorage.getItem(USER_KEY);
  if (!user) {
    user = `guest-${Math.random().toString(36).slice(2, 7)}`;
    sessionStorage.setItem(USER_KEY, user);
  }
  return user;
}

/** A bearer token: the stored one, or one the demo signs (embedded database only); undefined = anonymous. */
export async function demoToken(config: DemoConfig, user: string, staff = false): Promise<string | undefined> {
  const stored = sessionStorage.getItem(TOKEN_KEY);
  if (stored) return stored;
  if (!config.demo) return undefined;
  const response = await fetch(`/demo/token?user=${encodeURIComponent(user)}${staff ? '&role=staff' : ''}`);
  if (!response.ok) return undefined;
  return ((await response.json()) as { token: string }).token;
}

/** The user a token speaks for (its `sub`), read without verifying: the hub verifies. */
export function tokenSubject(token: string): string | undefined {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown };
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

const STATE_TEXT: Record<string, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  disconnected: 'Reconnecting…',
  closed: 'Offline',
  idle: 'Offline',
};

/** The realtime and tRPC clients, with the connection indicator wired (body[data-connection] dims stale numbers). */
export function connect(token: string | undefined): { live: RealtimeClient; api: SlotcastClient } {
  const live = createRealtimeClient({ url: location.origin, token });
  const connection = $('connection');
  live.on('state', ({ state }) => {
    connection.textContent = STATE_TEXT[state] ?? state;
    connection.className = `connection connection--${state}`;
    document.body.dataset.connection = state;
  });
  // @trpc/client directly, not createSlotcastClient: that reads a constant from the shared module
  // that also holds the zod schemas, which would put zod (450 KB) into the page.
  const api = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${location.origin}/trpc`, maxItems: 16, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
  return { live, api };
}

/** A short message in the corner; `kind` error stays longer and is announced assertively. */
export function toast(text: string, kind: 'info' | 'error' = 'info'): void {
  const toasts = $('toasts');
  const element = document.createElement('div');
  element.className = `toast toast--${kind}`;
  if (kind === 'error') element.setAttribute('role', 'alert');
  element.textContent = text;
  toasts.append(element);
  setTimeout(() => element.remove(), kind === 'error' ? 10_000 : 6_000);
  while (toasts.children.length > 4) toasts.firstElementChild?.remove();
}

/** The message of a tRPC or network error, in words. */
export function errorText(error: unknown): string {
  const data = (error as { data?: { reason?: string } }).data;
  if (data?.reason === 'INSUFFICIENT') return 'Someone else just took the last place.';
  if (data?.reason === 'HOLD_INACTIVE') return 'That hold is no longer active.';
  if (data?.reason === 'ALREADY_WAITING') return 'You are on this waitlist already.';
  return error instanceof Error ? error.message : String(error);
}

/** "4:59" from milliseconds. */
export function clock(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
