import { randomBytes } from 'node:crypto';

/** A short random suffix, so tests never share a database, key prefix or user. */
export const unique = (prefix: string): string => `${prefix}_${randomBytes(5).toString('hex')}`;
