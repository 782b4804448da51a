import { addDays, isIsoDate, keyOf, rangeChannel, userChannel, type Alert } from '@slotcast/shared';
import { $, connect, demoToken, demoUser, loadConfig, toast, tokenSubject } from './common.ts';
import { Checkout } from './checkout.ts';
import { dayName, WeekView } from './week.ts';

const dateInput = $<HTMLInputElement>('date');
const summary = $('summary');
const notice = $('notice');
const simulate = $<HTMLButtonElement>('simulate');

const config = await loadConfig();
const requested = new URLSearchParams(location.search).get('date');
let from = config.today;
if (requested !== null && isIsoDate(requested)) from = requested;
else if (requested !== null) {
  notice.hidden = false;
  notice.textContent = `“${requested}” is not a date on the calendar, so this is the week from today. Dates look like ${config.today}.`;
}
dateInput.value = from;
simulate.hidden = !config.simulate;

const token = await demoToken(config, demoUser());
const user = token ? tokenSubject(token) : undefined;
$('who').textContent = user ? `Signed in as ${user}` : 'Not signed in: browsing only';
const { live, api } = connect(token);
const week = new WeekView($('week'), (row, action) => void (action === 'book' ? checkout.book(row) : checkout.join(row)));
const checkout = new Checkout($('checkout'), token ? api : undefined, user ?? '', (sessionId, date) => week.get(keyOf({ sessionId, date })) ?? live.store.get(sessionId, date));

const dates = () => Array.from({ length: 7 }, (_, i) => addDays(from, i));
function summarize(): void {
  const rows = week.all();
  const left = rows.reduce((sum, row) => sum + row.available, 0);
  summary.textContent = rows.length ? `${rows.length} sessions this week · ${left} places left` : 'No sessions run this week.';
}

const ALERT_TEXT: Record<Alert['type'], string> = {
  low_availability: 'is almost full',
  no_availability: 'is now full',
  high_demand: 'is in high demand',
  places_available: 'has places again',
};

let unsubscribe = () => {};
function watch(): void {
  unsubscribe();
  week.reset(dates(), []);
  const to = addDays(from, 6);
  $('range').textContent = `${dayName(from)} – ${dayName(to)}`;
  unsubscribe = live.subscribe(rangeChannel(from, to), {
    onSnapshot: (rows) => {
      week.reset(dates(), rows);
      summarize();
    },
    onUpdate: (update) => {
      week.update(live.store.get(update.sessionId, update.date) ?? update);
      summarize();
    },
    onAlert: (alert) => {
      const row = week.get(keyOf(alert));
      toast(`${row?.name ?? 'A session'} on ${dayName(alert.date)} ${ALERT_TEXT[alert.type]} (${alert.available} left)`);
    },
    onError: (error) => toast(`Could not load the week from ${from}: ${error.message}`, 'error'),
  });
}

function go(date: string): void {
  if (!isIsoDate(date)) return;
  from = date;
  dateInput.value = date;
  notice.hidden = true;
  history.replaceState(null, '', `?date=${date}`);
  watch();
}

$('controls').addEventListener('submit', (event) => event.preventDefault());
dateInput.addEventListener('change', () => go(dateInput.value));
$('previous').addEventListener('click', () => go(addDays(from, -7)));
$('next').addEventListener('click', () => go(addDays(from, 7)));
simulate.addEventListener('click', async () => {
  simulate.disabled = true;
  try {
    const response = await fetch('/demo/simulate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ date: from }) });
    if (!response.ok) throw new Error(`the hub answered ${response.status}`);
    const { created } = (await response.json()) as { created: number };
    toast(`Simulated ${created} bookings across the week: watch the bars move.`);
  } catch (error) {
    toast(`Simulate bookings failed: ${error instanceof Error ? error.message : String(error)}. Is the hub running?`, 'error');
  } finally {
    simulate.disabled = false;
  }
});

if (user) {
  live.subscribe(userChannel(user), { onError: (error) => toast(`Your bookings are not live: ${error.message}`, 'error') });
  live.on('hold', ({ hold }) => checkout.onHold(hold));
  live.on('offer', ({ entry, hold }) => checkout.onOffer(entry, hold));
  live.on('waitlist', ({ entry, position }) => checkout.onWaitlist(entry, position));
  checkout.restore().catch((error: unknown) => toast(`Could not load your holds: ${String(error)}`, 'error'));
}
live.connect();
watch();
