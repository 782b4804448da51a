import { GUARD_REASON, type GuardReason } from '@slotcast/shared';

/** A guarded write refused for a reason the caller can act on; the API answers CONFLICT with `reason`. */
export class GuardError extends Error {
  constructor(
    readonly reason: GuardReason,
    message: string,
    /** With INSUFFICIENT: how many places there are. */
    readonly available?: number,
  ) {
    super(message);
    this.name = 'GuardError';
  }

  static insufficient(available: number, wanted: number): GuardError {
    return new GuardError(GUARD_REASON.INSUFFICIENT, `only ${available} place(s) left, ${wanted} asked for`, available);
  }

  static inactive(holdId: string, status: string): GuardError {
    return new GuardError(GUARD_REASON.HOLD_INACTIVE, `hold ${holdId} is no longer active (${status})`);
  }
}

/** Someone else's hold, booking or entry. */
export class ForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** Input that passed its schema but breaks a rule of the hub's configuration (a ttl too long, say). */
export class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'InputError';
  }
}
