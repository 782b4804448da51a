import { remainingText, statusClass, utilizationWidth } from '@slotcast/client/browser';
import { keyOf, type SessionAvailability } from '@slotcast/shared';

const DAY = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'short', timeZone: 'UTC' });
export const dayName = (date: string) => DAY.format(new Date(`${date}T00:00:00Z`));

/** What a row's button does: take a hold, or join the waitlist of a full session. */
export type RowAction = (row: SessionAvailability, action: 'book' | 'waitlist') => void;

interface RowElements {
  li: HTMLLIElement;
  left: HTMLElement;
  bar: HTMLElement;
  fill: HTMLElement;
  button: HTMLButtonElement;
  row: SessionAvailability;
}

/**
 * The week: one column (a list on a phone) per day, one row per running session. Rows are
 * made once and then updated in place, so a bar's width transition plays and focus stays put.
 */
export class WeekView {
  private readonly rows = new Map<string, RowElements>();
  private readonly days = new Map<string, HTMLUListElement>();

  constructor(private readonly root: HTMLElement, private readonly act: RowAction) {}

  /** Lays out the dates' columns and rows from scratch (a new week or a snapshot). */
  reset(dates: string[], rows: SessionAvailability[]): void {
    this.rows.clear();
    this.days.clear();
    this.root.replaceChildren(
      ...dates.map((date) => {
        const section = document.createElement('section');
        section.className = 'day';
        section.dataset.date = date;
        const heading = document.createElement('h2');
        heading.id = `day-${date}`;
        heading.textContent = dayName(date);
        const list = document.createElement('ul');
        list.className = 'schedule';
        list.setAttribute('aria-labelledby', heading.id);
        this.days.set(date, list);
        section.append(heading, list);
        return section;
      }),
    );
    for (const row of rows) this.update(row, false);
  }

  /** Shows a newer row: in place when it is shown already, otherwise added at its start time. */
  update(row: SessionAvailability, flash = true): void {
    if (row.name === '') return;
    const list = this.days.get(row.date);
    if (!list) return;
    const key = keyOf(row);
    let shown = this.rows.get(key);
    if (!shown) {
      shown = this.make(row);
      this.rows.set(key, shown);
      const after = [...list.children].find((li) => (li as HTMLElement).dataset.start! > row.startTime);
      list.insertBefore(shown.li, after ?? null);
    }
    shown.row = row;
    this.paint(shown, flash);
  }

  get(key: string): SessionAvailability | undefined {
    return this.rows.get(key)?.row;
  }

  all(): SessionAvailability[] {
    return [...this.rows.values()].map((shown) => shown.row);
  }

  private make(row: SessionAvailability): RowElements {
    const li = document.createElement('li');
    li.dataset.sessionId = row.sessionId;
    li.dataset.date = row.date;
    li.dataset.start = row.startTime;
    const time = document.createElement('time');
    time.textContent = `${row.startTime}–${row.endTime}`;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = row.name;
    const left = document.createElement('span');
    left.className = 'left';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    const fill = document.createElement('span');
    bar.append(fill);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'act';
    const shown: RowElements = { li, left, bar, fill, button, row };
    button.addEventListener('click', () => this.act(shown.row, shown.row.available > 0 ? 'book' : 'waitlist'));
    li.append(time, name, left, bar, button);
    return shown;
  }

  private paint(shown: RowElements, flash: boolean): void {
    const { row, li } = shown;
    li.className = `slot ${statusClass(row.status)}`;
    li.dataset.version = String(row.version);
    shown.left.textContent = remainingText(row);
    shown.bar.setAttribute('aria-label', `${row.name}: ${row.booked} of ${row.capacity} booked`);
    shown.bar.setAttribute('aria-valuemax', String(row.capacity));
    shown.bar.setAttribute('aria-valuenow', String(Math.min(row.booked, row.capacity)));
    shown.fill.style.width = utilizationWidth(row);
    const full = row.available === 0;
    shown.button.hidden = row.status === 'closed';
    shown.button.textContent = full ? 'Join waitlist' : 'Book';
    shown.button.setAttribute('aria-label', `${full ? 'Join the waitlist for' : 'Book'} ${row.name}, ${dayName(row.date)} ${row.startTime}`);
    if (flash) {
      // Restarts the highlight even when the row changed a moment ago.
      li.classList.remove('changed');
      void li.offsetWidth;
      li.classList.add('changed');
    }
  }
}
