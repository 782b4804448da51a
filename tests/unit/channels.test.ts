import { describe, expect, it } from 'vitest';
import { channelName, parseChannel } from '@slotcast/shared';

describe('channel names', () => {
  it('parses the four shapes and writes them back', () => {
    const names = [
      'availability',
      'availability.2026-11-24',
      'availability.session.64b7f0c2a1b2c3d4e5f60718',
      'availability.user.user-42',
    ];
    for (const name of names) {
      const channel = parseChannel(name);
      expect(channel, name).not.toBeNull();
      expect(channelName(channel!)).toBe(name);
    }
    expect(parseChannel('availability.user.user-42')).toEqual({ kind: 'user', userId: 'user-42' });
  });

  it('folds session ids to lower case so one session has one room', () => {
    expect(parseChannel('availability.session.64B7F0C2A1B2C3D4E5F60718')).toEqual({
      kind: 'session',
      sessionId: '64b7f0c2a1b2c3d4e5f60718',
    });
  });

  it.each([
    '',
    'availability.',
    'Availability',
    'availability.2025-02-30',
    'availability.tomorrow',
    'availability.session.',
    'availability.session.64b7f0c2a1b2c3d4e5f6071',
    'availability.session.zzb7f0c2a1b2c3d4e5f60718',
    'availability.user.',
    'availability.user.a b',
    'availability.user.../x',
    `availability.user.${'u'.repeat(129)}`,
    'availability.2026-11-24.extra',
    'other',
  ])('rejects %j', (name) => {
    expect(parseChannel(name)).toBeNull();
  });

  it.each([null, undefined, 42, { $gt: '' }, ['availability']])('rejects the non-string %j', (value) => {
    expect(parseChannel(value)).toBeNull();
  });
});
