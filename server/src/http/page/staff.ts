import { addDays, GLOBAL_CHANNEL, keyOf, rangeChannel, type Alert, type SessionAvailability } from '@slotcast/shared';
import { $, connect, demoToken, errorText, loadConfig, toast } from './common.ts';
import { HeatMap, SessionChart, TrendChart } from './charts.ts';
import { dayName } from './week.ts';

/** The dashboard covers four weeks from today: within one range channel (at most 31 days). */
const DAYS = 28;

const config = await loadConfig();
const token = await demoToken(config, 'demo-staff', true);
const signIn = $('signin');
const dashboard = $('dashboard');

function refuse(why: string): void {
  signIn.hidden = false;
  $('signin-why').textContent = why;
  dashboard.hidden = true;
}

if (!token) refuse('No staff token: this hub has no demo sign-in (it runs on your own database).');
else void start(token);

async function start(staffToken: string): Promise<void> {
  const from = config.today;
  const to = addDays(from, DAYS - 1);
  $('period').textContent = `${dayName(from)} – ${dayName(to)}`;
  const { live, api } = connect(staffToken);
  const trend = new TrendChart($<HTMLCanvasElement>('trend'));
  const sessions = new SessionChart($<HTMLCanvasElement>('sessions'));
  const heat = new HeatMap($<HTMLCanvasElement>('heat'));
  const alerts = $<HTMLOListElement>('alerts');
  const names = new Map<string, SessionAvailability>();
  const rows = () => [...names.values()];

  async function refresh(): Promise<void> {
    const [stats, trends, peaks] = await Promise.all([
      api.availability.stats.query({ from, to }),
      api.availability.trends.query({ from, to }),
      api.availability.peakHours.query({ from, to, limit: 24 }),
    ]);
    $('stat-utilization').textContent = `${Math.round(stats.utilization * 100)}%`;
    $('stat-booked').textContent = String(stats.booked);
    $('stat-available').textContent = String(stats.available);
    $('stat-full').textContent = String(stats.full);
    const arrow = { rising: '↗ rising', falling: '↘ falling', steady: '→ steady' }[trends.direction];
    $('direction').textContent = `Trend: ${arrow} (${(trends.slope * 100).toFixed(2)} points a day)`;
    $('direction').dataset.direction = trends.direction;
    trend.show(trends);
    heat.show(rows(), peaks);
    sessions.show(rows());
    dashboard.dataset.refreshed = String(Date.now());
  }

  // Updates come in bursts: one refresh per burst, at most one in flight.
  let queued = false;
  let running: Promise<void> | undefined;
  function refreshSoon(): void {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      const run = () => refresh().catch((error: unknown) => fail(error));
      running = (running ?? Promise.resolve()).then(run);
    }, 300);
  }

  function fail(error: unknown): void {
    const code = (error as { data?: { code?: string } }).data?.code;
    if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') refuse('This token has no staff role.');
    else toast(`Could not load the numbers: ${errorText(error)}`, 'error');
  }

  const TEXT: Record<Alert['type'], string> = {
    low_availability: 'Low',
    no_availability: 'Full',
    high_demand: 'High demand',
    places_available: 'Places available',
  };
  function addAlert(alert: Alert, live = true): void {
    const row = names.get(keyOf(alert));
    const li = document.createElement('li');
    li.className = `alert alert--${alert.type}`;
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = TEXT[alert.type];
    const text = document.createElement('span');
    text.textContent = ` ${row?.name ?? alert.sessionId} · ${dayName(alert.date)} ${row?.startTime ?? ''} · ${alert.available} of ${alert.capacity} left`;
    const time = document.createElement('time');
    time.dateTime = alert.raisedAt;
    time.textContent = new Date(alert.raisedAt).toLocaleTimeString();
    li.append(badge, text, time);
    if (live) alerts.prepend(li);
    else alerts.append(li);
    while (alerts.children.length > 30) alerts.lastElementChild?.remove();
    $('alerts-empty').hidden = true;
  }

  live.subscribe(rangeChannel(from, to), {
    onSnapshot: (snapshot) => {
      for (const row of snapshot) if (row.name) names.set(keyOf(row), live.store.get(row.sessionId, row.date) ?? row);
      refreshSoon();
    },
    onUpdate: (update) => {
      names.set(keyOf(update), live.store.get(update.sessionId, update.date) ?? update);
      refreshSoon();
    },
    onError: (error) => toast(`The live feed failed: ${error.message}`, 'error'),
  });
  live.subscribe(GLOBAL_CHANNEL, { onAlert: (alert) => addAlert(alert) });
  live.connect();
  try {
    const recent = await api.availability.alerts.query({ from, to: addDays(from, 6) });
    recent.slice(0, 15).forEach((alert) => addAlert(alert, false));
  } catch (error) {
    fail(error);
  }
}
