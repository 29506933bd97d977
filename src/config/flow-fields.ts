// The fields alert definitions (alerts.ts) and views (views.ts) share: a list of named objects given
// as JSON text in the environment, a name, a key list and a filter expression checked when the
// configuration loads.
import { FilterError, parseFilter } from '../flow/filter.js';
import { FormatError } from './formats.js';

type Obj = Record<string, unknown>;
const NAME = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * Checks a definition's or view's key list as a whole: each key once, and `exporter` beside
 * `interface` (an ifIndex names an interface on its exporter only).
 */
export function checkedKeyList(keys: readonly string[], raw: Obj, sub: string): void {
  if (new Set(keys).size !== keys.length) throw new FormatError('each key once', `${sub}.keys`, raw.keys);
  if (keys.includes('interface') && !keys.includes('exporter')) {
    throw new FormatError('exporter beside interface (an ifIndex names an interface on its exporter only)', `${sub}.keys`, raw.keys);
  }
}

/** coerce of a list format: JSON text (environment, command line) becomes the list; anything else stays. */
export function coerceJsonList(t: string): unknown {
  if (!t.trim().startsWith('[')) return t;
  try { return JSON.parse(t) as unknown; } catch { return t; }
}

/** A list of named objects, each normalized by `item` at "[i]"; a name used twice is an error naming `what`. */
export function namedItems<T extends { name: string }>(raw: unknown, expected: string, what: string,
  item: (d: unknown, sub: string) => T): T[] {
  if (!Array.isArray(raw)) throw new FormatError(expected);
  const seen = new Set<string>();
  return raw.map((d, i) => {
    const v = item(d, `[${i}]`);
    if (seen.has(v.name)) throw new FormatError(`a name not used by another ${what}`, `[${i}].name`, v.name);
    seen.add(v.name);
    return v;
  });
}

/** The object's `name`: 1-32 characters A-Z, a-z, 0-9, "_", "-", ".". */
export function checkedName(raw: Obj, sub: string): string {
  if (typeof raw.name !== 'string' || !NAME.test(raw.name)) {
    throw new FormatError('a name of 1-32 characters A-Z, a-z, 0-9, "_", "-", "."', `${sub}.name`, raw.name);
  }
  return raw.name;
}

/** The object's `filter` ('' when absent), parsed so a bad one names its position. */
export function checkedFilter(raw: Obj, sub: string, example: string): string {
  const filter = raw.filter === undefined || raw.filter === null ? '' : raw.filter;
  if (typeof filter !== 'string') throw new FormatError(`a filter expression such as "${example}"`, `${sub}.filter`, filter);
  if (filter.trim() !== '') {
    try {
      parseFilter(filter);
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      throw new FormatError(`a filter expression (${e.message})`, `${sub}.filter`, filter);
    }
  }
  return filter;
}
