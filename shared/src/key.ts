import { isIsoDate, type IsoDate } from './dates.ts';
import { OBJECT_ID } from './ids.ts';

/** What availability is kept per: one session on one calendar date. */
export interface Key {
  sessionId: string;
  date: IsoDate;
}

/** Session ids are hex; one spelling per key, whatever case a caller used. */
const SEPARATOR = ':';

/** The key's one text form, `sessionId:date` with the id in lower case: map keys, Redis keys, dedupe. */
export function keyOf(key: { sessionId: string; date: string }): string {
  return `${key.sessionId.toLowerCase()}${SEPARATOR}${key.date}`;
}

/** The key a text form names; undefined for anything `keyOf` could not have written. */
export function parseKey(text: string): Key | undefined {
  const at = text.indexOf(SEPARATOR);
  if (at < 0) return undefined;
  const sessionId = text.slice(0, at);
  const date = text.slice(at + 1);
  if (!OBJECT_ID.test(sessionId) || !isIsoDate(date)) return undefined;
  return { sessionId: sessionId.toLowerCase(), date };
}

/** The distinct keys among `keys`, first occurrence kept, in order. */
export function uniqueKeys<K extends { sessionId: string; date: string }>(keys: K[]): K[] {
  return [...new Map(keys.map((key) => [keyOf(key), key])).values()];
}
