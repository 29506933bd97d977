// Custom convict formats. Each format is one definition used three ways: convict's validator (via
// normalize, result discarded), the final normalization of the loaded value, and printConfig (render).
// Strings from env, argv or files are first turned into structure by `coerce`, which never throws, so a
// bad value always reaches validation and gets a message naming the key.
import { addressText, parseAddressBytes, parsePrefix, PrefixError } from '../classify/prefixes.js';
import { renderDuration } from '../lib/duration.js';
import { splitHostPort } from '../lib/hostport.js';


export interface FormatDef<T = unknown> {
  /** convict format name; also shown in docs. */
  readonly name: string;
  /** The expected form, completing "expected …" in error messages and the docs. */
  readonly expected: string;
  /** More detail for the configuration reference. */
  readonly note?: string;
  /** String (env, argv, file) → raw structured value. Must not throw: return the input when unsure. */
  coerce?(text: string): unknown;
  /** Raw value → normalized value; throws FormatError when invalid. */
  normalize(raw: unknown): T;
  /** Normalized value → its config-file form (printConfig); identity when absent. */
  render?(value: T): unknown;
  /** The value is an object whose keys are data (addresses, group names), not config keys. */
  keyed?: boolean;
  /** Text is comma-separated items, so an option given twice adds items instead of being an error. */
  list?: boolean;
  /** Raw value → the same with any secret in it hidden, for error messages. */
  redact?(raw: unknown): unknown;
}

const WHOLE = Symbol('whole value');

/** A bad value. `sub` narrows the key ("[2]", ".home") and `value` the offending part of the value. */
export class FormatError extends Error {
  constructor(readonly expected: string, readonly sub = '', readonly value: unknown = WHOLE) {
    super(expected);
    this.name = 'FormatError';
  }
  /** True when the error is about the whole value rather than one element of it. */
  get whole(): boolean {
    return this.value === WHOLE;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "a, b,,c" → ["a","b","c"]: empty items are dropped so "" means an empty list. */
function splitList(text: string, sep = ','): string[] {
  return text.split(sep).map((s) => s.trim()).filter((s) => s !== '');
}

/** Parses a string as a JSON object when it looks like one; otherwise returns it unchanged. */
function jsonObjectOr(text: string, fallback: (t: string) => unknown): unknown {
  const t = text.trim();
  if (!t.startsWith('{')) return fallback(t);
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return text;
  }
}

/** "k=v<sep>k=v" → object; returns the text itself when an item has no "=". */
function pairsOr(text: string, itemSep: string, valueOf: (v: string) => unknown): unknown {
  const out: [string, unknown][] = [];
  for (const item of splitList(text, itemSep)) {
    const eq = item.indexOf('=');
    if (eq <= 0) return text;
    out.push([item.slice(0, eq).trim(), valueOf(item.slice(eq + 1).trim())]);
  }
  // fromEntries defines keys: "__proto__=…" stays a key, which validation refuses, instead of a prototype
  return Object.fromEntries(out);
}

/** Keys that assignment or a lookup would confuse with Object.prototype's. */
export const RESERVED_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

// ---- durations (stored as integer milliseconds) ----

/** Node timers overflow past 2^31-1 ms (about 24.8 days) and fire at once, so that is the ceiling. */
export const MAX_DURATION_MS = 2147483647;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 };
const DURATION_EXPECTED = 'a duration such as 10, "10s", "1m"';

function parseDurationMs(raw: unknown, expected: string): number {
  let ms: number;
  if (typeof raw === 'number') {
    ms = raw * 1000;
  } else if (typeof raw === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
    if (!m) throw new FormatError(expected);
    ms = Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
  } else {
    throw new FormatError(expected);
  }
  const rounded = Math.round(ms);
  // Whole milliseconds only: 0.0001 s would silently become 0.
  if (!Number.isFinite(ms) || ms < 0 || Math.abs(ms - rounded) > 1e-6) throw new FormatError(expected);
  if (rounded > MAX_DURATION_MS) throw new FormatError(`${expected}, of at most 24 days`);
  return rounded;
}

export const duration: FormatDef<number> = {
  name: 'duration',
  note: 'Seconds as a number (10, 0.25) or text with a unit: "250ms", "10s", "5m", "1h". Stored as whole milliseconds; at most 24 days.',
  expected: DURATION_EXPECTED,
  normalize: (raw) => parseDurationMs(raw, DURATION_EXPECTED),
  render: renderDuration,
};

const WHOLE_SECONDS_EXPECTED = 'a whole number of seconds ≥ 1, such as 10, "10s", "1m"';
/** A duration with one more rule, rendered as any duration. */
export const wholeSeconds: FormatDef<number> = {
  ...duration,
  name: 'whole-seconds',
  note: 'A duration that is a whole number of seconds, at least 1 s.',
  expected: WHOLE_SECONDS_EXPECTED,
  normalize(raw) {
    // A malformed value gets the general duration message; a well-formed one the whole-seconds rule.
    const ms = duration.normalize(raw);
    if (ms < 1000 || ms % 1000 !== 0) throw new FormatError(WHOLE_SECONDS_EXPECTED);
    return ms;
  },
};

// ---- scalars ----

const POSITIVE_INT_EXPECTED = 'a positive integer such as 1, 100 or 1000';
export const positiveInt: FormatDef<number> = {
  name: 'positive-int',
  note: 'An integer ≥ 1; in the environment and on the command line, decimal digits.',
  expected: POSITIVE_INT_EXPECTED,
  coerce: (text) => (/^\s*\d+\s*$/.test(text) ? Number(text) : text),
  normalize(raw) {
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 1) throw new FormatError(POSITIVE_INT_EXPECTED);
    return raw;
  },
};

const BOOL_TEXT: Record<string, boolean> = { true: true, false: false, yes: true, no: false, on: true, off: false, 1: true, 0: false };
export const bool: FormatDef<boolean> = {
  name: 'bool',
  note: 'In the environment and on the command line also yes/no, on/off and 1/0; `--no-KEY` sets false.',
  expected: 'true or false',
  // convict's own Boolean coercion turns any text but "false" into true ("0", "no"); this one is strict.
  coerce: (text) => BOOL_TEXT[text.trim().toLowerCase()] ?? text,
  normalize(raw) {
    if (typeof raw !== 'boolean') throw new FormatError('true or false');
    return raw;
  },
};

export const text: FormatDef<string> = {
  name: 'text',
  expected: 'a string',
  normalize(raw) {
    if (typeof raw !== 'string') throw new FormatError('a string');
    return raw;
  },
};

const enumCache = new Map<string, FormatDef<string>>();
/** One of a fixed set of strings. The name encodes the set so each enum is its own convict format. */
export function oneOf<const V extends string>(values: readonly V[]): FormatDef<V> {
  const name = `one-of(${values.join('|')})`;
  let f = enumCache.get(name);
  if (!f) {
    const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
    f = {
      name,
      expected,
      normalize(raw) {
        if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) throw new FormatError(expected);
        return raw;
      },
    };
    enumCache.set(name, f);
  }
  return f as FormatDef<V>;
}

// ---- prefixes ----

const PREFIX_EXPECTED = 'an IPv4/IPv6 prefix such as "10.0.0.0/8" or "fd00::/8" (a bare address is /32 or /128)';
const PREFIX_LIST_EXPECTED = 'a list of IPv4/IPv6 prefixes such as ["10.0.0.0/8", "fd00::/8"] or "10.0.0.0/8,fd00::/8"';

function prefixOrThrow(raw: unknown, sub: string): string {
  if (typeof raw !== 'string') throw new FormatError(PREFIX_EXPECTED, sub, raw);
  try {
    return parsePrefix(raw).text;
  } catch (e) {
    if (e instanceof PrefixError && e.hostBits) {
      throw new FormatError(`a prefix with no host bits set, such as "${e.suggestion}"`, sub, raw);
    }
    throw new FormatError(PREFIX_EXPECTED, sub, raw);
  }
}

function prefixListOf(raw: unknown, sub: string, expected: string): string[] {
  const items = typeof raw === 'string' ? splitList(raw) : raw;
  if (!Array.isArray(items)) throw new FormatError(expected, sub, sub ? raw : WHOLE);
  return items.map((p, i) => prefixOrThrow(p, `${sub}[${i}]`));
}

export const prefixList: FormatDef<string[]> = {
  name: 'prefix-list',
  note: 'CIDR prefixes; a bare address is a /32 or /128. IPv4 is four-part decimal only. A prefix with host bits set ("10.0.0.1/8") is an error. IPv4-mapped IPv6 prefixes ("::ffff:0:0/96") match IPv6 addresses only.',
  expected: PREFIX_LIST_EXPECTED,
  coerce: (t) => splitList(t),
  list: true,
  normalize: (raw) => prefixListOf(raw, '', PREFIX_LIST_EXPECTED),
};

const GROUP_NAME = /^[A-Za-z0-9_-]+$/;
const RESERVED_NAME_EXPECTED = `a group name other than ${RESERVED_KEYS.slice(0, -1).join(', ')} and ${RESERVED_KEYS.at(-1)}`;
const GROUPS_EXPECTED =
  'an object of group name ([A-Za-z0-9_-]+) → prefix list, such as {"home": ["10.0.0.0/8"]} or "home=10.0.0.0/8,fd00::/8;dmz=192.0.2.0/24"';

export const prefixGroups: FormatDef<Record<string, string[]>> = {
  name: 'prefix-groups',
  note: 'Each group name maps to a prefix list (an array, or comma-separated text); a prefix may be in one group only; __proto__, constructor and prototype are no group names. In the environment and on the command line: "name=prefix,prefix;name=prefix" or JSON.',
  keyed: true,
  expected: GROUPS_EXPECTED,
  coerce: (t) => jsonObjectOr(t, (s) => pairsOr(s, ';', (v) => splitList(v))),
  normalize(raw) {
    if (!isPlainObject(raw)) throw new FormatError(GROUPS_EXPECTED);
    const out: Record<string, string[]> = {};
    const owner = new Map<string, string>();
    for (const [name, list] of Object.entries(raw)) {
      if (!GROUP_NAME.test(name)) throw new FormatError('a group name made of A-Z, a-z, 0-9, "_" and "-"', `.${name}`, name);
      if (RESERVED_KEYS.includes(name)) throw new FormatError(RESERVED_NAME_EXPECTED, `.${name}`, name);
      const prefixes = prefixListOf(list, `.${name}`, PREFIX_LIST_EXPECTED);
      prefixes.forEach((p, i) => {
        // The same prefix in two groups would make group membership depend on insertion order.
        const other = owner.get(p);
        if (other !== undefined) throw new FormatError(`each prefix in one group only (already in "${other}")`, `.${name}[${i}]`, p);
        owner.set(p, name);
      });
      out[name] = prefixes;
    }
    return out;
  },
};

// ---- host:port ----

export interface HostPort {
  /** Address or name; IPv6 without brackets. */
  host: string;
  port: number;
}

const HOST_PORT_EXPECTED = 'host:port such as "127.0.0.1:2003", "[::1]:2003" or "collector.example:2003"';
const HOST_PORT_LIST_EXPECTED =
  'a list of host:port such as ["0.0.0.0:2055", "[::]:2055"] or "0.0.0.0:2055,[::]:2055"';

/** Parses "127.0.0.1:2003", "[::1]:2003" or "name:2003" (lib/hostport.ts); null when malformed. IPv6 canonical. */
export function parseHostPort(input: string): HostPort | null {
  const hp = splitHostPort(input, { names: true, anyZone: true });
  if (!hp.ok) return null;
  if (!hp.v6) return { host: hp.host, port: hp.port };
  const zone = hp.host.indexOf('%');
  const addr = parseAddressBytes(zone < 0 ? hp.host : hp.host.slice(0, zone));
  if (!addr?.v6) return null;
  return { host: addressText(true, addr.bytes) + (zone < 0 ? '' : hp.host.slice(zone)), port: hp.port };
}

export function renderHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** Validates and returns the canonical text ("[::1]:2003"); consumers split it with parseHostPort. */
function hostPortOrThrow(raw: unknown, sub: string): string {
  const hp = typeof raw === 'string' ? parseHostPort(raw) : null;
  if (!hp) throw new FormatError(HOST_PORT_EXPECTED, sub, sub ? raw : WHOLE);
  return renderHostPort(hp);
}

/** A bad host:port may be a URL or user:password@host pasted in: errors show it redacted. */
const redactText = (raw: unknown): unknown => (typeof raw === 'string' ? redactUrl(raw) : raw);

export const hostPort: FormatDef<string> = {
  name: 'host-port',
  note: 'IPv6 addresses in brackets; a port from 0 to 65535; host names are allowed where a connection is made, listeners need an IP literal.',
  expected: HOST_PORT_EXPECTED,
  normalize: (raw) => hostPortOrThrow(raw, ''),
  redact: redactText,
};

export const hostPortList: FormatDef<string[]> = {
  name: 'host-port-list',
  note: 'Items as an array, or comma-separated text.',
  expected: HOST_PORT_LIST_EXPECTED,
  coerce: (t) => splitList(t),
  list: true,
  redact: (raw) => (Array.isArray(raw) ? raw.map(redactText) : redactText(raw)),
  normalize(raw) {
    const items = typeof raw === 'string' ? splitList(raw) : raw;
    if (!Array.isArray(items)) throw new FormatError(HOST_PORT_LIST_EXPECTED);
    return items.map((x, i) => hostPortOrThrow(x, `[${i}]`));
  },
};

// ---- URLs ----

/**
 * The URL with the password of its userinfo replaced by "[redacted]" (all of a userinfo without ":",
 * which may be a token). Text that is no valid URL is redacted up to its last "@", to be safe.
 */
export function redactUrl(text: string): string {
  const scheme = /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text);
  const start = scheme ? scheme[0].length : 0;
  let valid = scheme !== null;
  try {
    if (valid) new URL(text);
  } catch {
    valid = false;
  }
  // in a valid URL the userinfo ends at the authority's last "@", and the authority at "/", "?", "#" or "\"
  const end = valid ? text.slice(start).search(/[/?#\\]/) : -1;
  const at = text.lastIndexOf('@', end < 0 ? text.length : start + end);
  if (at < start) return text;
  const colon = text.indexOf(':', start);
  const user = colon >= 0 && colon < at ? `${text.slice(start, colon)}:` : '';
  return `${text.slice(0, start)}${user}[redacted]${text.slice(at)}`;
}

const HTTP_URL_EXPECTED = 'an http or https URL such as "http://127.0.0.1:8086"';

export const httpUrl: FormatDef<string> = {
  name: 'http-url',
  note: 'A password in it (http://user:password@host) is shown as "[redacted]" by --print-config and in errors.',
  expected: HTTP_URL_EXPECTED,
  normalize(raw) {
    let u: URL | undefined;
    try {
      if (typeof raw === 'string') u = new URL(raw);
    } catch {
      // not a URL: the message below
    }
    if (u && (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '') return raw as string;
    // "127.0.0.1:8086" is a URL of scheme "127.0.0.1:" to the parser: suggest the scheme it lacks
    const fix = typeof raw === 'string' && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw) && URL.canParse(`http://${raw}`);
    throw new FormatError(fix ? `${HTTP_URL_EXPECTED} (add the scheme: ${JSON.stringify(redactUrl(`http://${raw}`))})` : HTTP_URL_EXPECTED);
  },
  render: redactUrl,
  redact: redactText,
};

// ---- exporter → sampling rate ----

const RATE_MAP_EXPECTED =
  'an object of exporter address → sampling rate (positive integer), such as {"192.0.2.1": 512} or "192.0.2.1=512,2001:db8::1=1024"';

export const rateMap: FormatDef<Record<string, number>> = {
  name: 'rate-map',
  note: 'Keys are exporter addresses (the datagram source, or the sFlow agent address); values are "1 in N" rates. In the environment and on the command line: "address=rate,address=rate" or JSON.',
  keyed: true,
  expected: RATE_MAP_EXPECTED,
  coerce: (t) => jsonObjectOr(t, (s) => pairsOr(s, ',', (v) => (/^\d+$/.test(v) ? Number(v) : v))),
  normalize(raw) {
    if (!isPlainObject(raw)) throw new FormatError(RATE_MAP_EXPECTED);
    const out: Record<string, number> = {};
    for (const [key, rate] of Object.entries(raw)) {
      const sub = `[${JSON.stringify(key)}]`;
      const addr = parseAddressBytes(key.trim());
      if (!addr) throw new FormatError('an exporter IPv4/IPv6 address such as "192.0.2.1"', sub, key);
      // Canonical text so "2001:DB8::1" and "2001:db8:0::1" are one exporter.
      const canon = addressText(addr.v6, addr.bytes);
      if (canon in out) throw new FormatError('each exporter once', sub, key);
      if (typeof rate !== 'number' || !Number.isSafeInteger(rate) || rate < 1) {
        throw new FormatError('a sampling rate that is a positive integer such as 512', sub, rate);
      }
      out[canon] = rate;
    }
    return out;
  },
};

/** Every named format, for registration with convict and for the docs. */
export const FORMATS: readonly FormatDef[] = [
  duration, wholeSeconds, positiveInt, bool, text, prefixList, prefixGroups, hostPort, hostPortList, httpUrl, rateMap,
] as FormatDef[];
