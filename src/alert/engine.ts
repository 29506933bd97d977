// The alert engine: a RecordObserver that evaluates every flow definition on each classified record.
// Intervals follow the pipeline clock (advance()), not the records' own timestamps: a record counts in
// the interval that is open when it arrives, as in sFlow-RT, so alerts are never held back waiting for
// late exporters (the aggregator's hold does that for summaries). Events fire as the record arrives;
// thresholds are evaluated when advance() closes an interval.
import type { AlertEvent } from './event.js';
import { Counter, type Metrics } from '../lib/counters.js';
import type { FlowRecord } from '../flow/record.js';
import type { RecordObserver } from '../flow/observer.js';
import {
  isRate, KeyTable, TableEntry, valueSource, type FlowDefinition,
} from './definitions.js';
import { compileFilter, parseFilter, type Matcher } from '../flow/filter.js';
import { hasKeys, Key, keyIndex, tupleText, tupleValues } from '../flow/keys.js';
import { ThresholdState, Transition } from './threshold.js';
import { wallClock } from '../lib/clock.js';

const BYTES = 0, PACKETS = 1, FLOWS = 2;

class KeyState {
  cur = 0;
  /** whether the raise went out (a clear is only sent for a raise the receiver saw) */
  notified = false;
  constructor(readonly keys: (string | number)[], public exporter: string, readonly st: ThresholdState) {}
}

/** One definition, compiled: matcher, key indices and its state. */
class Compiled {
  readonly keys: Uint8Array;
  /** keyed by interface: a record counts on each of its interfaces */
  readonly hasInterface: boolean;
  readonly src: number;
  readonly perKey: boolean;
  readonly table: KeyTable | null;
  readonly states = new Map<string, KeyState>();
  readonly total: KeyState | null;
  readonly seen = new Map<string, number>();
  suppressed = 0;
  lastSummaryMs = Number.NEGATIVE_INFINITY;
  readonly matched: Counter;
  readonly overflow: Counter;
  readonly suppressedTotal: Counter;
  readonly alerts: Record<AlertEvent['kind'], Counter>;

  constructor(readonly def: FlowDefinition, readonly matcher: Matcher | null, m: Metrics) {
    this.keys = Uint8Array.from(def.keys, (k) => keyIndex(k));
    this.hasInterface = this.keys.includes(Key.Interface);
    const s = valueSource(def.value);
    this.src = s === 'bytes' ? BYTES : s === 'packets' ? PACKETS : FLOWS;
    const th = def.threshold;
    this.perKey = th !== null && th.per === 'key';
    this.table = th ? new KeyTable(def.table) : null;
    this.total = th && !this.perKey ? new KeyState([], '', new ThresholdState(th, isRate(def.value))) : null;
    const name = def.name;
    this.matched = m.counter('alert_records_total', 'Records that matched a flow definition (filter and keys)', { name });
    this.overflow = m.counter('alert_table_overflow_total', 'Key tuples folded into overflow or not tracked because a table was full', { name });
    this.suppressedTotal = m.counter('alerts_suppressed_total', 'Alerts held back by the global rate limit', { name });
    const c = (kind: string) => m.counter('alerts_total', 'Alerts raised, by definition and kind', { name, kind });
    this.alerts = { event: c('event'), threshold: c('threshold'), cleared: c('cleared'), suppressed: c('suppressed') };
  }
}

export interface EngineOptions {
  definitions: FlowDefinition[];
  groupNames: readonly string[];
  intervalMs: number;
  /** alerts per second over all definitions (token bucket, burst = one second's worth) */
  rateLimit: number;
  metrics: Metrics;
  deliver: (a: AlertEvent) => void;
  /** wall clock: rate limiting (it protects the receiver) and AlertEvent.time */
  now?: () => number;
}

export class AlertEngine implements RecordObserver {
  defs: Compiled[];
  private readonly I: number;
  private readonly now: () => number;
  /** open interval index; -1 until the clock is first known */
  private k = -1;
  /** arrival of the first record seen before the clock was known (-1: none) */
  private firstArrivalMs = -1;
  private lastArrivalMs = 0;
  private tokens: number;
  private refillMs: number;
  private maxCatchUp = 1;

  constructor(private readonly opts: EngineOptions) {
    this.I = opts.intervalMs;
    this.now = opts.now ?? wallClock;
    this.tokens = opts.rateLimit;
    this.refillMs = this.now();
    this.defs = [];
    this.setDefinitions(opts.definitions);
  }

  /**
   * Installs definitions (at start and on a configuration reload). A definition whose text is
   * unchanged keeps its compiled state: the open interval's sums, thresholds in progress, raised
   * alerts; a changed or new one starts empty. Group indices are stable across reloads (the
   * classifier appends new groups), so filters compile against the current list.
   */
  setDefinitions(definitions: FlowDefinition[]): void {
    const old = new Map(this.defs.map((c) => [c.def.name, c]));
    this.defs = definitions.map((d) => {
      const prev = old.get(d.name);
      if (prev !== undefined && JSON.stringify(prev.def) === JSON.stringify(d)) return prev;
      const ast = d.filter.trim() ? parseFilter(d.filter) : null;
      return new Compiled(d, ast ? compileFilter(ast, this.opts.groupNames) : null, this.opts.metrics);
    });
    // an interval gap longer than every window and `for` leaves every state at a steady zero
    this.maxCatchUp = 1 + Math.max(0, ...definitions.map((d) => (d.threshold ? d.threshold.window + d.threshold.for : 0)));
  }

  onRecord(rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number, arrivalMs: number): void {
    if (arrivalMs > this.lastArrivalMs) this.lastArrivalMs = arrivalMs;
    if (this.k < 0 && this.firstArrivalMs < 0) this.firstArrivalMs = arrivalMs;
    const defs = this.defs;
    for (let i = 0; i < defs.length; i++) {
      const c = defs[i]!;
      if (c.matcher !== null && !c.matcher.match(rec, direction, srcGroup, dstGroup)) continue;
      if (!hasKeys(c.keys, rec, direction, srcGroup, dstGroup)) continue;
      c.matched.inc();
      const v = c.src === BYTES ? rec.scaledBytes : c.src === PACKETS ? rec.scaledPackets : rec.scaledFlows;
      if (!c.hasInterface) this.count(c, v, rec, direction, srcGroup, dstGroup, arrivalMs, 0);
      else {
        // the record counts on its input interface and on its output interface, as in views
        if (rec.inIf > 0) this.count(c, v, rec, direction, srcGroup, dstGroup, arrivalMs, rec.inIf);
        if (rec.outIf > 0) this.count(c, v, rec, direction, srcGroup, dstGroup, arrivalMs, rec.outIf);
      }
    }
  }

  /** Adds a matched record to one of its tuples (`ifIndex`: the interface key's value, if it has one). */
  private count(c: Compiled, v: number, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number,
    arrivalMs: number, ifIndex: number): void {
    const table = c.table;
    if (table !== null) {
      if (table.total === 0 && table.firstExporter === '') table.firstExporter = rec.exporter;
      table.total += v;
    }
    if (!c.perKey && c.def.event === null) return;
    const text = tupleText(c.keys, rec, direction, srcGroup, dstGroup, ifIndex);
    if (c.perKey) {
      let e = table!.get(text);
      if (e === undefined) {
        e = new TableEntry(tupleValues(c.keys, rec, direction, srcGroup, dstGroup, this.opts.groupNames, ifIndex), rec.exporter);
        const pruned = table!.insert(text, e);
        if (pruned > 0) c.overflow.inc(pruned);
      }
      e.value += v;
    }
    if (c.def.event !== null) this.event(c, text, v, rec, direction, srcGroup, dstGroup, arrivalMs, ifIndex);
  }

  /** One alert per new key tuple, then silence for that tuple during `suppress` (on arrival time). */
  private event(c: Compiled, text: string, v: number, rec: FlowRecord, direction: number, srcGroup: number,
    dstGroup: number, arrivalMs: number, ifIndex: number): void {
    const last = c.seen.get(text);
    if (last !== undefined) {
      if (arrivalMs - last < c.def.event!.suppress) return;
      c.seen.delete(text); // re-inserted below: the map stays in order of last alert, oldest first
    } else if (c.seen.size >= c.def.table) {
      c.seen.delete(c.seen.keys().next().value!);
      c.overflow.inc();
    }
    c.seen.set(text, arrivalMs);
    if (!this.take()) {
      c.suppressed++;
      c.suppressedTotal.inc();
      return;
    }
    const k = this.k >= 0 ? this.k : Math.floor(arrivalMs / this.I);
    const values = tupleValues(c.keys, rec, direction, srcGroup, dstGroup, this.opts.groupNames, ifIndex);
    this.deliver(c, 'event', values, this.convert(c, v), k, 1, rec.exporter);
  }

  /** Token bucket on the wall clock. */
  private take(): boolean {
    const t = this.now();
    const rate = this.opts.rateLimit;
    this.tokens = Math.min(rate, this.tokens + ((t - this.refillMs) * rate) / 1000);
    this.refillMs = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Per-interval sum → the definition's metric (rates per second over the interval). */
  private convert(c: Compiled, v: number): number {
    if (!isRate(c.def.value)) return v;
    return (v * (c.src === BYTES ? 8 : 1) * 1000) / this.I;
  }

  private deliver(c: Compiled, kind: AlertEvent['kind'], values: (string | number)[], value: number, k: number,
    span: number, exporter: string, threshold?: number): void {
    const keys: Record<string, string | number> = {};
    for (let i = 0; i < values.length; i++) keys[c.def.keys[i]!] = values[i]!;
    const a: AlertEvent = {
      kind, name: c.def.name, keys, value, metric: kind === 'suppressed' ? 'alerts' : c.def.value,
      start: ((k - span + 1) * this.I) / 1000, end: ((k + 1) * this.I) / 1000, time: this.now(),
    };
    if (threshold !== undefined) a.threshold = threshold;
    if (exporter) a.exporter = exporter;
    if (c.def.severity) a.severity = c.def.severity;
    c.alerts[kind].inc();
    this.opts.deliver(a);
  }

  advance(nowMs: number): void {
    const nk = Math.floor(nowMs / this.I);
    if (this.k < 0) {
      // Records seen before the clock was known belong to their arrival's interval: live, the first
      // boundary closes the partial interval they arrived in instead of merging it into the next one.
      const k0 = this.firstArrivalMs >= 0 ? Math.floor(this.firstArrivalMs / this.I) : nk;
      this.k = Math.min(k0, nk);
    }
    if (nk > this.k) this.closeUntil(nk);
    this.expireSeen();
    this.summarizeSuppressed(false);
  }

  /** Closes the open interval and (up to a steady state) the empty ones skipped on the way to `nk`. */
  private closeUntil(nk: number): void {
    const last = Math.min(nk - 1, this.k + this.maxCatchUp);
    for (let j = this.k; j <= last; j++) this.close(j);
    this.k = nk;
  }

  private close(k: number): void {
    const endMs = (k + 1) * this.I;
    for (const c of this.defs) {
      const table = c.table;
      if (table === null) continue;
      const spec = c.def.threshold!;
      if (c.total !== null) {
        this.transition(c, c.total, c.total.st.update(this.convert(c, table.total), endMs), k, table.firstExporter);
      } else {
        for (const [text, e] of table.entries) {
          let s = c.states.get(text);
          if (s === undefined) {
            if (c.states.size >= c.def.table) {
              c.overflow.inc();
              continue;
            }
            s = new KeyState(e.keys, e.exporter, new ThresholdState(spec, isRate(c.def.value)));
            c.states.set(text, s);
          }
          s.cur = e.value;
          s.exporter = e.exporter;
        }
        for (const [text, s] of c.states) {
          const tr = s.st.update(this.convert(c, s.cur), endMs);
          s.cur = 0;
          this.transition(c, s, tr, k, s.exporter);
          if (s.st.idle(endMs)) c.states.delete(text);
        }
      }
      table.clear();
    }
  }

  private transition(c: Compiled, s: KeyState, tr: Transition, k: number, exporter: string): void {
    if (tr === Transition.None) return;
    const spec = c.def.threshold!;
    if (tr === Transition.Raise) {
      s.notified = this.take();
      if (!s.notified) {
        c.suppressed++;
        c.suppressedTotal.inc();
        return;
      }
      this.deliver(c, 'threshold', s.keys, s.st.value, k, spec.window, exporter, spec.above);
    } else if (s.notified) {
      // not rate limited: at most one clear per raise that went out
      s.notified = false;
      this.deliver(c, 'cleared', s.keys, s.st.value, k, spec.window, exporter, spec.clear);
    }
  }

  /** Forgets event tuples whose suppression window has passed (oldest first; stops at the first live one). */
  private expireSeen(): void {
    for (const c of this.defs) {
      if (c.def.event === null) continue;
      const w = c.def.event.suppress;
      for (const [text, t] of c.seen) {
        if (this.lastArrivalMs - t < w) break;
        c.seen.delete(text);
      }
    }
  }

  /** One "suppressed N" alert per definition, at most once a second (or at shutdown). */
  private summarizeSuppressed(force: boolean): void {
    const t = this.now();
    for (const c of this.defs) {
      if (c.suppressed === 0 || (!force && t - c.lastSummaryMs < 1000)) continue;
      c.lastSummaryMs = t;
      const k = this.k >= 0 ? this.k : Math.floor(this.lastArrivalMs / this.I);
      this.deliver(c, 'suppressed', [], c.suppressed, k, 1, '');
      c.suppressed = 0;
    }
  }

  /** End of replay / shutdown: evaluates the open (partial) interval and reports what was suppressed. */
  flush(): void {
    if (this.k < 0 && this.firstArrivalMs >= 0) this.k = Math.floor(this.firstArrivalMs / this.I);
    if (this.k >= 0) {
      this.close(this.k);
      this.k++;
    }
    this.summarizeSuppressed(true);
  }
}
