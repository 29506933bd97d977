// Per-interval interface counters from sFlow counter samples (decode/counters-sflow.ts gives the rise
// between two samples of an interface). Each rise belongs to the interval in which the later sample
// arrived (the arrival clock: capture time in replay); the pipeline takes an interval's rows when it
// emits that interval's summary. Counter samples come every 20-30 s per interface, so this is not a
// hot path, but the keys come from the wire: rows per interval and open intervals are both capped.
import { Metrics, type Counter } from '../lib/counters.js';
import type { IfCounterDelta } from '../decode/counters-sflow.js';

/** One direction of an interface over an interval; bps = octets × 8 / interval, pps = ucastPkts / interval. */
export interface InterfaceTotals {
  octets: number;
  ucastPkts: number;
  errors: number;
  discards: number;
  bps: number;
  pps: number;
}

/** One row of a summary's `interfaces` (docs/output.md). */
export interface InterfaceRow {
  exporter: string;
  ifIndex: number;
  /** bits per second, as the interval's last sample gave it */
  ifSpeed: number;
  in: InterfaceTotals;
  out: InterfaceTotals;
  /** the interface's name, configured or learned (interface-labels.ts; absent when unknown) */
  ifName?: string;
}

export const INTERFACE_COUNTER_DEFAULTS = {
  /** Interfaces (exporter, ifIndex) per interval; rises of further ones are dropped and counted. */
  maxInterfaces: 10_000,
  /**
   * Intervals held open for rises (the arrival clock ahead of the summaries' clock: aggregate.hold,
   * exporters replaying old traffic). Past this the oldest is added to the next and counted as late.
   */
  maxIntervals: 64,
} as const;

export interface InterfaceCountersOptions {
  intervalMs: number;
  maxInterfaces?: number;
  maxIntervals?: number;
  /** where interface_counters_{late,dropped}_total and aggregate_counters_saturated_total go */
  metrics?: Metrics;
}

/** Largest exact sum (summary.ts MAX_COUNTER; summary.ts imports this file's row type, so not imported). */
const MAX = Number.MAX_SAFE_INTEGER;

const totals = (): InterfaceTotals => ({ octets: 0, ucastPkts: 0, errors: 0, discards: 0, bps: 0, pps: 0 });

export class InterfaceCounters {
  private readonly I: number;
  private readonly maxInterfaces: number;
  private readonly maxIntervals: number;
  /** interval index -> exporter|ifIndex -> row */
  private readonly open = new Map<number, Map<string, InterfaceRow>>();
  /** intervals below this were emitted: a rise for one of them goes to this one instead */
  private emittedBelow = -Infinity;
  /** rises (or, folding intervals, interface rows) added to a later interval than their own */
  readonly late: Counter;
  /** rises or rows dropped because their interval already held maxInterfaces interfaces */
  readonly dropped: Counter;
  /** sums capped at 2^53 - 1 */
  readonly saturated: Counter;

  constructor(opts: InterfaceCountersOptions) {
    this.I = opts.intervalMs;
    this.maxInterfaces = opts.maxInterfaces ?? INTERFACE_COUNTER_DEFAULTS.maxInterfaces;
    this.maxIntervals = Math.max(1, opts.maxIntervals ?? INTERFACE_COUNTER_DEFAULTS.maxIntervals);
    const m = opts.metrics ?? new Metrics();
    this.late = m.counter('interface_counters_late_total', 'sFlow interface counter rises added to a later interval than their own');
    this.dropped = m.counter('interface_counters_dropped_total', 'sFlow interface counter rises dropped: their interval held maxInterfaces interfaces');
    this.saturated = m.counter('aggregate_counters_saturated_total', 'Interval counters capped at 2^53 - 1');
  }

  /** Interfaces held over all open intervals. */
  get size(): number {
    let n = 0;
    for (const b of this.open.values()) n += b.size;
    return n;
  }

  /** Adds a rise to the interval holding `atMs` (the later sample's arrival). */
  add(d: IfCounterDelta, atMs: number): void {
    let k = Math.floor(atMs / this.I);
    if (k < this.emittedBelow) {
      k = this.emittedBelow;
      this.late.inc();
    }
    let b = this.open.get(k);
    if (b === undefined) {
      if (this.open.size >= this.maxIntervals) this.foldOldest();
      b = new Map();
      this.open.set(k, b);
    }
    const key = `${d.agent}|${d.ifIndex}`;
    let row = b.get(key);
    if (row === undefined) {
      if (b.size >= this.maxInterfaces) {
        this.dropped.inc();
        return;
      }
      row = { exporter: d.agent, ifIndex: d.ifIndex, ifSpeed: 0, in: totals(), out: totals() };
      b.set(key, row);
    }
    row.ifSpeed = d.ifSpeed;
    const i = row.in, o = row.out;
    i.octets = this.sum(i.octets, d.inOctets);
    i.ucastPkts = this.sum(i.ucastPkts, d.inUcastPkts);
    i.errors = this.sum(i.errors, d.inErrors);
    i.discards = this.sum(i.discards, d.inDiscards);
    o.octets = this.sum(o.octets, d.outOctets);
    o.ucastPkts = this.sum(o.ucastPkts, d.outUcastPkts);
    o.errors = this.sum(o.errors, d.outErrors);
    o.discards = this.sum(o.discards, d.outDiscards);
  }

  /**
   * The rows of interval `k` (with those of earlier intervals never emitted: a replay skips empty
   * ones), rates set over `secs`, sorted by exporter and ifIndex; undefined when there are none.
   * Intervals up to `k` are then emitted: later rises for them go to the next one.
   */
  take(k: number, secs: number): InterfaceRow[] | undefined {
    let rows = this.open.get(k);
    this.open.delete(k);
    for (const [j, b] of [...this.open].sort((x, y) => y[0] - x[0])) {
      if (j > k) continue;
      this.open.delete(j);
      if (rows === undefined) rows = new Map();
      this.merge(b, rows);
    }
    if (k + 1 > this.emittedBelow) this.emittedBelow = k + 1;
    if (rows === undefined || rows.size === 0) return undefined;
    const out = [...rows.values()].sort((a, b) =>
      a.exporter < b.exporter ? -1 : a.exporter > b.exporter ? 1 : a.ifIndex - b.ifIndex);
    for (const r of out) {
      for (const t of [r.in, r.out]) {
        t.bps = (t.octets * 8) / secs;
        t.pps = t.ucastPkts / secs;
      }
    }
    return out;
  }

  /** The latest interval holding rises not yet taken, -1 when none. */
  lastOpen(): number {
    let last = -1;
    for (const k of this.open.keys()) if (k > last) last = k;
    return last;
  }

  /** The earliest interval holding rises not yet taken, -1 when none. */
  firstOpen(): number {
    let first = -1;
    for (const k of this.open.keys()) if (first < 0 || k < first) first = k;
    return first;
  }

  /** maxIntervals open: the oldest interval's rows join the next one's (their totals are kept). */
  private foldOldest(): void {
    const ks = [...this.open.keys()].sort((a, b) => a - b);
    const oldest = this.open.get(ks[0]!)!;
    this.open.delete(ks[0]!);
    if (ks.length < 2) {
      this.dropped.inc(oldest.size);
      return;
    }
    this.merge(oldest, this.open.get(ks[1]!)!);
  }

  /**
   * Adds the rows of an earlier interval, `from`, to `into`, each counted as late (`into`'s ifSpeed,
   * the later, stays); rows that do not fit are dropped and counted.
   */
  private merge(from: Map<string, InterfaceRow>, into: Map<string, InterfaceRow>): void {
    for (const [key, r] of from) {
      this.late.inc();
      const t = into.get(key);
      if (t === undefined) {
        if (into.size >= this.maxInterfaces) this.dropped.inc();
        else into.set(key, r);
        continue;
      }
      for (const [a, b] of [[t.in, r.in], [t.out, r.out]] as const) {
        a.octets = this.sum(a.octets, b.octets);
        a.ucastPkts = this.sum(a.ucastPkts, b.ucastPkts);
        a.errors = this.sum(a.errors, b.errors);
        a.discards = this.sum(a.discards, b.discards);
      }
    }
  }

  private sum(a: number, b: number): number {
    const s = a + b;
    if (s <= MAX) return s;
    this.saturated.inc();
    return MAX;
  }
}
