// Structured, leveled logs (pino) to stderr, so stdout stays clean for `--output json`. Per-datagram
// problems go through a RateLimitedLog so a flood of bad input cannot flood the log.
import { pino, type Logger } from 'pino';
import type { Counter, Metrics } from './counters.js';

export type { Logger };

export function createLogger(level = 'info', destination: number = 2): Logger {
  return pino({ level, base: { name: 'flowbridge' } }, pino.destination({ fd: destination, sync: true }));
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

export const RATE_LIMIT_DEFAULTS = {
  /** messages per key and period */
  burst: 3,
  periodMs: 30_000,
  /** keys remembered; past it they are forgotten at once (the per-kind ceiling still holds) */
  maxKeys: 1000,
  /**
   * messages per kind and period, whatever the key: 5,000 spoofed exporters are 5,000 keys of one kind.
   * Kinds are few (decode error kinds, sink names), so a low ceiling hides no distinct problem for long.
   */
  perKind: 10,
};

export interface RateLimitOptions {
  perKind?: number;
  /** counts suppressed messages as logs_suppressed_total{kind} */
  metrics?: Metrics;
}

/** Kinds remembered; more are folded into one "other" kind (kinds come from code, not from the wire). */
const MAX_KINDS = 64;
/** Distinct keys of suppressed messages counted per kind; past it the count reads "at least". */
const MAX_COUNTED_KEYS = 1024;

/** Distinct keys in bounded memory: exact up to MAX_COUNTED_KEYS, a lower bound past it. */
class DistinctKeys {
  private readonly seen = new Set<string>();
  /** a key was not counted because the set was full */
  more = false;

  add(key: string): void {
    if (this.seen.size < MAX_COUNTED_KEYS) this.seen.add(key);
    else if (!this.seen.has(key)) this.more = true;
  }

  get count(): number {
    return this.seen.size;
  }

  reset(): void {
    this.seen.clear();
    this.more = false;
  }
}

interface KindState {
  name: string;
  /** start of the ceiling's current period, and messages written in it */
  start: number;
  sent: number;
  /** suppressed since the last line of this kind was written, from how many keys, the first one when */
  suppressed: number;
  keys: DistinctKeys;
  firstSuppressed: number;
  /** msg of the last suppressed message, for the summary line */
  msg: string;
  counter: Counter | undefined;
}

/**
 * At most `burst` messages per key and `perKind` per kind every `periodMs`. The kind is the key's part
 * before the first ":" (`bad_count:192.0.2.1` → bad_count), or the whole key. What is suppressed is
 * counted per kind and reported once: in the next line of that kind that gets through (`suppressed`,
 * `suppressedFrom` distinct keys), or, when none comes within a period, in a summary line written by the
 * next call of any kind or by flush().
 */
export class RateLimitedLog {
  private readonly buckets = new Map<string, { start: number; sent: number }>();
  private readonly kinds = new Map<string, KindState>();
  private readonly perKind: number;
  private metrics: Metrics | undefined;
  /** earliest time a summary line may be due; Infinity when nothing is pending */
  private nextDue = Infinity;

  constructor(private readonly log: Logger, private readonly now: () => number,
    private readonly burst = RATE_LIMIT_DEFAULTS.burst, private readonly periodMs = RATE_LIMIT_DEFAULTS.periodMs,
    private readonly maxKeys = RATE_LIMIT_DEFAULTS.maxKeys, opts: RateLimitOptions = {}) {
    this.perKind = opts.perKind ?? RATE_LIMIT_DEFAULTS.perKind;
    this.metrics = opts.metrics;
  }

  /** Counts suppressed messages in `metrics` from now on (for owners that get the registry later). */
  setMetrics(metrics: Metrics): void {
    this.metrics = metrics;
    for (const k of this.kinds.values()) k.counter = undefined;
  }

  warn(key: string, obj: object, msg: string): void {
    const t = this.now();
    const ks = this.kind(key, t);
    if (t - ks.start >= this.periodMs) {
      ks.start = t;
      ks.sent = 0;
    }
    const pass = ks.sent < this.perKind && this.take(key, t);
    // older suppressions first; the kind of a line about to be written reports in that line instead
    if (t >= this.nextDue) this.summarise(t, false, pass ? ks : undefined);
    if (pass) {
      ks.sent++;
      if (ks.suppressed > 0) obj = { ...obj, ...this.report(ks) };
      this.log.warn(obj, msg);
      return;
    }
    if (ks.suppressed === 0) {
      ks.firstSuppressed = t;
      this.nextDue = Math.min(this.nextDue, t + this.periodMs);
    }
    ks.suppressed++;
    ks.keys.add(key);
    ks.msg = msg;
    ks.counter ??= this.metrics?.counter('logs_suppressed_total', 'Log messages suppressed by rate limits, by kind', { kind: ks.name });
    ks.counter?.inc();
  }

  /**
   * Writes a summary line per kind with suppressed messages not yet reported. By default only those
   * older than a period (what warn() does by itself); `all` also reports the recent ones (on stop).
   */
  flush(all = false): void {
    this.summarise(this.now(), all, undefined);
  }

  private summarise(t: number, all: boolean, except: KindState | undefined): void {
    let next = Infinity;
    for (const ks of this.kinds.values()) {
      if (ks.suppressed === 0 || ks === except) continue;
      if (all || t - ks.firstSuppressed >= this.periodMs) {
        const r = this.report(ks);
        const n = r.suppressed, from = r.suppressedFrom;
        this.log.warn({ kind: ks.name, ...r }, `suppressed ${n.toLocaleString('en-US')} similar message${n === 1 ? '' : 's'} ` +
          `(${JSON.stringify(ks.msg)}, ${ks.name}) from ${r.suppressedFromAtLeast ? 'at least ' : ''}${from.toLocaleString('en-US')} source${from === 1 ? '' : 's'}`);
      } else {
        next = Math.min(next, ks.firstSuppressed + this.periodMs);
      }
    }
    this.nextDue = next;
  }

  /** The suppression fields of a line, and the kind's count restarts. */
  private report(ks: KindState): { suppressed: number; suppressedFrom: number; suppressedFromAtLeast?: true } {
    const r = { suppressed: ks.suppressed, suppressedFrom: ks.keys.count, ...(ks.keys.more ? { suppressedFromAtLeast: true as const } : {}) };
    ks.suppressed = 0;
    ks.keys.reset();
    return r;
  }

  /** One message of the per-key budget, if left. */
  private take(key: string, t: number): boolean {
    let b = this.buckets.get(key);
    if (b === undefined || t - b.start >= this.periodMs) {
      if (b === undefined && this.buckets.size >= this.maxKeys) this.buckets.clear();
      b = { start: t, sent: 0 };
      this.buckets.set(key, b);
    }
    if (b.sent >= this.burst) return false;
    b.sent++;
    return true;
  }

  private kind(key: string, t: number): KindState {
    const colon = key.indexOf(':');
    let name = colon < 0 ? key : key.slice(0, colon);
    let ks = this.kinds.get(name);
    if (ks === undefined) {
      if (this.kinds.size >= MAX_KINDS) {
        name = 'other';
        ks = this.kinds.get(name);
        if (ks !== undefined) return ks;
      }
      ks = { name, start: t, sent: 0, suppressed: 0, keys: new DistinctKeys(), firstSuppressed: 0, msg: '', counter: undefined };
      this.kinds.set(name, ks);
    }
    return ks;
  }
}
