import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';
import type { PeakHour, SessionAvailability, Trends } from '@slotcast/shared';

// Only what the three charts use, so the rest of Chart.js stays out of the bundle.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend, MatrixController, MatrixElement);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
if (window.matchMedia('(prefers-reduced-motion: reduce)').matches) Chart.defaults.animation = false;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const percent = (value: number) => `${Math.round(value * 100)}%`;
const percentAxis = { min: 0, max: 100, ticks: { callback: (value: string | number) => `${value}%` } };

/** A canvas's text for screen readers (Chart.js draws pixels only). */
function describe(canvas: HTMLCanvasElement, text: string): void {
  canvas.setAttribute('aria-label', text);
  canvas.textContent = text;
}

/** Utilization per day over the coming weeks with its least-squares trend line. */
export class TrendChart {
  private readonly chart: Chart<'line'>;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { labels: [], datasets: [
        { label: 'Utilization', data: [], borderColor: '#0969da', backgroundColor: '#0969da', tension: 0.25, pointRadius: 2 },
        { label: 'Trend', data: [], borderColor: '#cf222e', borderDash: [6, 4], pointRadius: 0 },
      ] },
      options: { maintainAspectRatio: false, scales: { y: percentAxis } },
    });
  }

  show(trends: Trends): void {
    const values = trends.points.map((point) => point.utilization * 100);
    const meanX = (values.length - 1) / 2;
    const meanY = values.reduce((sum, y) => sum + y, 0) / Math.max(1, values.length);
    this.chart.data.labels = trends.points.map((point) => point.date.slice(5));
    this.chart.data.datasets[0]!.data = values;
    this.chart.data.datasets[1]!.data = values.map((_, x) => meanY + trends.slope * 100 * (x - meanX));
    this.chart.update();
    const first = trends.points[0];
    const last = trends.points.at(-1);
    describe(this.canvas, `Utilization per day from ${first?.date ?? ''} to ${last?.date ?? ''}, trend ${trends.direction}; average ${Math.round(meanY)}%.`);
  }
}

/** Booked share of capacity per session over the range, busiest first. */
export class SessionChart {
  private readonly chart: Chart<'bar'>;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Utilization', data: [], backgroundColor: '#1a7f37' }] },
      options: { indexAxis: 'y', maintainAspectRatio: false, scales: { x: percentAxis }, plugins: { legend: { display: false } } },
    });
  }

  show(rows: SessionAvailability[]): void {
    const totals = new Map<string, { booked: number; capacity: number }>();
    for (const row of rows) {
      const total = totals.get(row.name) ?? { booked: 0, capacity: 0 };
      total.booked += row.booked;
      total.capacity += row.capacity;
      totals.set(row.name, total);
    }
    const sorted = [...totals].map(([name, t]) => ({ name, utilization: t.capacity ? t.booked / t.capacity : 0 })).sort((a, b) => b.utilization - a.utilization);
    this.chart.data.labels = sorted.map((s) => s.name);
    this.chart.data.datasets[0]!.data = sorted.map((s) => Math.round(s.utilization * 1000) / 10);
    this.chart.update();
    describe(this.canvas, `Utilization by session: ${sorted.map((s) => `${s.name} ${(s.utilization * 100).toFixed(1)}%`).join(', ')}.`);
  }
}

interface Cell { x: number; y: string; v: number }

/** Weekday by start hour: how full sessions starting then are, from the range's rows. */
export class HeatMap {
  private readonly chart: Chart<'matrix', Cell[]>;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.chart = new Chart<'matrix', Cell[]>(canvas, {
      type: 'matrix',
      data: { datasets: [{
        label: 'Utilization',
        data: [],
        backgroundColor: (context) => `rgb(9 105 218 / ${0.08 + 0.92 * ((context.raw as Cell | undefined)?.v ?? 0)})`,
        borderColor: '#fff',
        borderWidth: 1,
        width: ({ chart }) => (chart.chartArea?.width ?? 0) / 24 - 2,
        height: ({ chart }) => (chart.chartArea?.height ?? 0) / 7 - 2,
      }] },
      options: {
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, tooltip: { callbacks: { title: () => '', label: (item) => { const c = item.raw as Cell; return `${c.y} ${c.x}:00 · ${percent(c.v)}`; } } } },
        scales: {
          x: {
            type: 'linear', min: -0.5, max: 23.5, offset: false, grid: { display: false },
            // Cells are centred on whole hours; label every third one.
            afterBuildTicks: (axis) => { axis.ticks = Array.from({ length: 8 }, (_, i) => ({ value: i * 3 })); },
            ticks: { callback: (value) => `${value}:00` },
          },
          y: { type: 'category', labels: WEEKDAYS.slice(1).concat(WEEKDAYS[0]!), offset: true, grid: { display: false } },
        },
      },
    });
  }

  show(rows: SessionAvailability[], peaks: PeakHour[]): void {
    const sums = new Map<string, { booked: number; capacity: number; x: number; y: string }>();
    for (const row of rows) {
      const hour = Number(row.startTime.slice(0, 2));
      const day = WEEKDAYS[new Date(`${row.date}T00:00:00Z`).getUTCDay()]!;
      const key = `${day}-${hour}`;
      const sum = sums.get(key) ?? { booked: 0, capacity: 0, x: hour, y: day };
      sum.booked += row.booked;
      sum.capacity += row.capacity;
      sums.set(key, sum);
    }
    const cells = [...sums.values()].map((s) => ({ x: s.x, y: s.y, v: s.capacity ? Math.min(1, s.booked / s.capacity) : 0 }));
    this.chart.data.datasets[0]!.data = cells;
    this.chart.update();
    const top = peaks.slice(0, 3).map((p) => `${p.hour}:00 (${percent(p.utilization)})`).join(', ');
    describe(this.canvas, `Peak hours by weekday and start hour; busiest start hours: ${top || 'none yet'}.`);
  }
}
