import type { SlotcastClient } from '@slotcast/client';
import type { Hold, SessionAvailability, WaitlistEntry } from '@slotcast/shared';
import { clock, errorText, toast } from './common.ts';
import { dayName } from './week.ts';

type Describe = (sessionId: string, date: string) => SessionAvailability | undefined;

const button = (id: string, text: string, onClick: () => void, kind = '') => {
  const element = document.createElement('button');
  element.type = 'button';
  element.id = id;
  element.className = kind;
  element.textContent = text;
  element.addEventListener('click', onClick);
  return element;
};

/**
 * The checkout panel: the hold this window's user has (taken from a row, or offered from the
 * waitlist) with its countdown and confirm / release, the user's waitlist places, and what
 * happened last. It follows the user channel's hold.updated, waitlist.offer and waitlist.updated.
 */
export class Checkout {
  private hold: Hold | undefined;
  private readonly waiting = new Map<string, { entry: WaitlistEntry; position: number | null }>();
  private message = '';
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy = false;

  constructor(private readonly root: HTMLElement, private readonly api: SlotcastClient | undefined, private readonly user: string, private readonly describe: Describe) {}

  /** Picks up what the user had before a reload. */
  async restore(): Promise<void> {
    if (!this.api) return;
    const [holds, entries] = await Promise.all([this.api.holds.mine.query({}), this.api.waitlist.mine.query({})]);
    this.hold = holds.find((hold) => hold.status === 'active');
    for (const item of entries) this.waiting.set(item.entry.entryId, item);
    this.render();
  }

  async book(row: SessionAvailability): Promise<void> {
    if (!this.api) return this.say('Sign-in needed: booking needs a token (the demo signs one only with its embedded database).');
    if (this.hold) return this.say('Confirm or release the place you are holding first.', true);
    await this.run(async () => {
      const { hold } = await this.api!.holds.create.mutate({ sessionId: row.sessionId, date: row.date, quantity: 1, ttlSeconds: 300 });
      this.hold = hold;
      this.message = '';
    }, 'confirm');
  }

  async join(row: SessionAvailability): Promise<void> {
    if (!this.api) return this.say('Sign-in needed to join a waitlist.');
    await this.run(async () => {
      const result = await this.api!.waitlist.join.mutate({ sessionId: row.sessionId, date: row.date, quantity: 1 });
      this.waiting.set(result.entry.entryId, result);
      this.message = `You joined the waitlist for ${this.label(row.sessionId, row.date)}. We will offer you a place when one frees up.`;
    });
  }

  onHold(hold: Hold): void {
    if (hold.userId !== this.user) return;
    const mine = this.hold?.holdId === hold.holdId;
    if (hold.status === 'active') {
      if (!this.hold || mine) this.hold = hold;
    } else if (mine) {
      this.hold = undefined;
      const what = this.label(hold.sessionId, hold.date);
      if (hold.status === 'expired') this.message = `Your hold on ${what} expired: its place went back to the session.`;
      if (hold.status === 'released') this.message = `Released: the place on ${what} is free again.`;
      if (hold.status === 'confirmed') this.message = `Booked! ${what} is yours.`;
    }
    this.render();
  }

  onOffer(entry: WaitlistEntry, hold: Hold): void {
    if (hold.userId !== this.user) return;
    this.waiting.delete(entry.entryId);
    if (this.hold?.status === 'active' && this.hold.holdId !== hold.holdId) {
      toast(`A place opened up for ${this.label(hold.sessionId, hold.date)}, but you are holding another one.`);
    }
    this.hold = hold;
    this.message = '';
    toast(`A place opened up for ${this.label(hold.sessionId, hold.date)}!`);
    this.render('accept');
  }

  onWaitlist(entry: WaitlistEntry, position: number | null): void {
    if (entry.userId !== this.user) return;
    if (entry.status === 'waiting') this.waiting.set(entry.entryId, { entry, position });
    else this.waiting.delete(entry.entryId);
    this.render();
  }

  private label(sessionId: string, date: string): string {
    const row = this.describe(sessionId, date);
    return row ? `${row.name}, ${dayName(date)} at ${row.startTime}` : `the session on ${dayName(date)}`;
  }

  private say(text: string, keep = false): void {
    this.message = text;
    if (!keep) this.hold = this.hold?.status === 'active' ? this.hold : undefined;
    this.render();
  }

  private async run(work: () => Promise<void>, focus?: string): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await work();
    } catch (error) {
      this.message = errorText(error);
    } finally {
      this.busy = false;
      this.render(focus);
    }
  }

  private render(focus?: string): void {
    clearInterval(this.timer);
    // Re-rendering replaces the buttons: keep the keyboard where it was.
    const body = this.root.querySelector('.checkout-body')!;
    const keep = body.contains(document.activeElement) ? document.activeElement?.id : undefined;
    const parts: HTMLElement[] = [];
    const hold = this.hold;
    if (hold) {
      const offer = hold.source === 'waitlist';
      const box = document.createElement('div');
      box.className = `hold${offer ? ' hold--offer' : ''}`;
      box.dataset.holdId = hold.holdId;
      const title = document.createElement('p');
      title.className = 'hold-title';
      title.textContent = offer ? `A place opened up: ${this.label(hold.sessionId, hold.date)}` : `Holding 1 place: ${this.label(hold.sessionId, hold.date)}`;
      const countdown = document.createElement('p');
      countdown.id = 'countdown';
      countdown.setAttribute('role', 'timer');
      const tick = () => {
        const left = Date.parse(hold.expiresAt) - Date.now();
        countdown.textContent = left > 0 ? `${offer ? 'Accept within' : 'Held for'} ${clock(left)}` : 'Time is up: giving the place back…';
      };
      tick();
      this.timer = setInterval(tick, 250);
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.append(
        button(offer ? 'accept' : 'confirm', offer ? 'Accept' : 'Confirm booking', () => void this.finish('confirm')),
        button(offer ? 'decline' : 'release', offer ? 'Decline' : 'Release', () => void this.finish('release'), 'secondary'),
      );
      box.append(title, countdown, actions);
      parts.push(box);
    }
    for (const { entry, position } of this.waiting.values()) {
      const line = document.createElement('p');
      line.className = 'waiting';
      line.textContent = `Waitlist${position ? ` #${position}` : ''}: ${this.label(entry.sessionId, entry.date)} `;
      line.append(button(`leave-${entry.entryId}`, 'Leave', () => void this.leave(entry.entryId), 'secondary small'));
      parts.push(line);
    }
    if (this.message) {
      const note = document.createElement('p');
      note.id = 'checkout-message';
      note.textContent = this.message;
      parts.push(note);
    }
    this.root.hidden = parts.length === 0;
    body.replaceChildren(...parts);
    const target = focus ?? keep;
    if (target) document.getElementById(target)?.focus();
  }

  private async finish(how: 'confirm' | 'release'): Promise<void> {
    const hold = this.hold;
    if (!hold || !this.api) return;
    await this.run(async () => {
      if (how === 'confirm') await this.api!.holds.confirm.mutate({ holdId: hold.holdId });
      else await this.api!.holds.release.mutate({ holdId: hold.holdId });
      this.onHold({ ...hold, status: how === 'confirm' ? 'confirmed' : 'released' });
    });
  }

  private async leave(entryId: string): Promise<void> {
    await this.run(async () => {
      await this.api!.waitlist.leave.mutate({ entryId });
      this.waiting.delete(entryId);
      this.message = 'You left the waitlist.';
    });
  }
}
