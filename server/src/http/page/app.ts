import { createRealtimeClient, remainingText, statusClass, utilizationWidth } from '@slotcast/client/browser';
import { keyOf, type Alert, type SessionAvailability } from '@slotcast/shared';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const dateInput = $<HTMLInputElement>('date');
const schedule = $<HTMLUListElement>('schedule');
const connection = $<HTMLParagraphElement>('connection');
const summary = $<HTMLParagraphElement>('summary');
const empty = $<HTMLParagraphElement>('empty');
const toasts = $<HTMLDivElement>('toasts');
const simulate = $<HTMLButtonElement>('simulate');

const config = (await (await fetch('/demo/config')).json()) as { today: string; simulate: boolean };
const params = new URLSearchParams(location.search);
dateInput.value = params.get('date') ?? config.today;
simulate.hidden = !config.simulate;

const client = createRealtimeClient({ url: location.origin });
const STATE_TEXT: Record<string, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  disconnected: 'Reconnecting…',
  closed: 'Offline',
  idle: 'Offline',
};
client.on('state', ({ state }) => {
  connection.textContent = STATE_TEXT[state] ?? state;
  connection.className = `connection connection--${state}`;
  document.body.dataset.connection = state;
});

function render(changedKey?: string): void {
  const rows = client.store.byDate(dateInput.value).filter((row) => row.name !== '');
  empty.hidden = rows.length > 0;
  const left = rows.reduce((sum, row) => sum + row.available, 0);
  summary.textContent = rows.length ? `${rows.length} sessions · ${left} places left` : '';
  schedule.replaceChildren(...rows.map((row) => item(row, keyOf(row) === changedKey)));
}

function item(row: SessionAvailability, changed: boolean): HTMLLIElement {
  const li = document.createElement('li');
  li.className = `slot ${statusClass(row.status)}${changed ? ' changed' : ''}`;
  li.dataset.sessionId = row.sessionId;
  li.dataset.version = String(row.version);
  const time = document.createElement('time');
  time.textContent = `${row.startTime}–${row.endTime}`;
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = row.name;
  const remaining = document.createElement('span');
  remaining.className = 'left';
  remaining.textContent = remainingText(row);
  const bar = document.createElement('div');
  bar.className = 'bar';
  bar.setAttribute('role', 'progressbar');
  bar.setAttribute('aria-label', `${row.name}: ${row.booked} of ${row.capacity} booked`);
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', String(row.capacity));
  bar.setAttribute('aria-valuenow', String(Math.min(row.booked, row.capacity)));
  const fill = document.createElement('span');
  fill.style.width = utilizationWidth(row);
  bar.append(fill);
  li.append(time, name, remaining, bar);
  return li;
}

const ALERT_TEXT: Record<Alert['type'], string> = {
  low_availability: 'is almost full',
  no_availability: 'is now full',
  high_demand: 'is in high demand',
  places_available: 'has places again',
};

function toast(text: string): void {
  const element = document.createElement('div');
  element.className = 'toast';
  element.textContent = text;
  toasts.append(element);
  setTimeout(() => element.remove(), 6000);
  while (toasts.children.length > 4) toasts.firstElementChild?.remove();
}

let unsubscribe = () => {};
function watch(date: string): void {
  unsubscribe();
  render();
  unsubscribe = client.subscribe(`availability.${date}`, {
    onSnapshot: () => render(),
    onUpdate: (update) => render(keyOf(update)),
    onAlert: (alert) => {
      const row = client.store.get(alert.sessionId, alert.date);
      toast(`${row?.name ?? 'A session'} at ${row?.startTime ?? ''} ${ALERT_TEXT[alert.type]} (${alert.available} left)`);
    },
    onError: (error) => toast(`Could not load ${date}: ${error.message}`),
  });
}

dateInput.addEventListener('change', () => {
  if (!dateInput.value) return;
  history.replaceState(null, '', `?date=${dateInput.value}`);
  watch(dateInput.value);
});
simulate.addEventListener('click', async () => {
  simulate.disabled = true;
  try {
    await fetch('/demo/simulate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ date: dateInput.value }) });
  } finally {
    simulate.disabled = false;
  }
});

client.connect();
watch(dateInput.value);
