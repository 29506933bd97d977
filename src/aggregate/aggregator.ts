// Interval windows over a clock that the caller advances: the wall clock live; in replay the records'
// own time (the newest flow end seen), so replay output is deterministic and does not depend on when
// the exporter happened to send. A record's bytes/packets are spread over the intervals its
// [start, end] covers (or assigned at its end or arrival). An interval stays open `holdMs` after its end
// for records exported late (long active timeouts); a portion for an interval already closed is added
// to the current one and counted as late — nothing is dropped. Work is bounded by the open intervals,
// never by a record's span or a jump of the clock: one crafted timestamp costs what a real one does.
import type { FlowRecord } from '../flow/record.js';
import { GroupRegistry } from '../classify/groups.js';
import type { IntervalSummary } from './summary.js';
import { OpenKeys, Window, type WindowLimits } from './window.js';
import type { ViewSpec } from './views.js';

/** How a record is put into intervals; the config schema offers exactly these. */
export const ASSIGN_MODES = ['spread', 'end', 'arrival'] as const;
export type AssignMode = (typeof ASSIGN_MODES)[number];

export interface AggregatorConfig extends WindowLimits {
  intervalMs: number;
  holdMs: number;
  assign: AssignMode;
  topHosts: number;
  topPorts: number;
  /** the views counted (docs/output.md); a reload applies new ones with setViews() */
  views: readonly ViewSpec[];
  /** distinct key tuples per view across the open intervals; past it a record counts in the view's other */
  maxViewTuples: number;
}

export const AGGREGATOR_DEFAULTS: AggregatorConfig = {
  intervalMs: 10_000,
  holdMs: 75_000,
  assign: 'spread',
  topHosts: 1000,
  topPorts: 100,
  maxHosts: 100_000,
  maxPorts: 20_000,
  maxExporters: 1000,
  perExporter: true,
  views: [],
  maxViewTuples: 10_000,
};

const RING = 64;
/** Spare windows kept: live, one interval closes as the next opens; a replay backlog needs no more. */
const SPARE = 2;
const SPREAD = 0, END = 1, ARRIVAL = 2;
/** Empty intervals emitted in a row beyond the hold (a stalled loop or a short gap keeps its zeros). */
const EMPTY_RUN = 64;

export type SummaryHandler = (s: IntervalSummary) => void;
/** Collector counters for the period a summary closes (filled by the pipeline). */
export type StatsProvider = () => Record<string, number>;

export class Aggregator {
  readonly cfg: AggregatorConfig;
  private readonly windows = new Map<number, Window>();
  /** host and port ids shared by the open windows */
  private readonly keys: OpenKeys;
  /** a window closed since the ids were last compacted */
  private compactDue = false;
  /** open windows by k mod RING: a spread record visits several, an array index is cheaper than a Map */
  private readonly ring: (Window | undefined)[] = new Array<Window | undefined>(RING).fill(undefined);
  /** emitted windows kept for reuse (Window.reset) */
  private readonly spare: Window[] = [];
  /** next interval index to emit; undefined until the first record or start() */
  private nextK: number | undefined;
  /** once start() ran or a summary was emitted, intervals before nextK are closed for good */
  private committed = false;
  private nowMs = 0;
  /** index of the interval containing nowMs, kept with it so add() does not divide for it */
  private curK = 0;
  /** intervals below this one are closed by the clock: (k + 1) * I + hold <= now */
  private closedBelow = 0;
  /** the lowest interval still open: below it a portion is late (kept with the clock and nextK) */
  private openK = 0;
  // the configuration the per-record path reads, as plain numbers
  private readonly I: number;
  private readonly hold: number;
  private readonly mode: number;
  /** totals for tests and self-metrics */
  lateTotal = 0;
  emitted = 0;
  /** empty intervals left out by a jump of the clock (emitBelow) */
  skipped = 0;

  /** `groups` is shared with the classifier: when it grows, the open windows make room */
  constructor(cfg: Partial<AggregatorConfig>, private readonly onSummary: SummaryHandler,
    private readonly stats: StatsProvider = () => ({}), private readonly groups = new GroupRegistry(['home'])) {
    this.cfg = { ...AGGREGATOR_DEFAULTS, ...cfg };
    if (!(this.cfg.intervalMs >= 1000) || this.cfg.intervalMs % 1000 !== 0) {
      throw new Error(`interval must be a whole number of seconds, got ${this.cfg.intervalMs} ms`);
    }
    this.I = this.cfg.intervalMs;
    this.hold = this.cfg.holdMs;
    this.mode = this.cfg.assign === 'arrival' ? ARRIVAL : this.cfg.assign === 'end' ? END : SPREAD;
    this.keys = new OpenKeys(this.cfg.maxHosts, this.cfg.maxPorts, this.cfg.maxViewTuples);
    this.keys.views.set(this.cfg.views, groups.names);
    this.updateOpenK();
    groups.onGrow((n) => {
      for (const w of this.windows.values()) w.growGroups(n);
    });
  }

  /**
   * Applies a reloaded list of views: an unchanged view keeps counting in the open intervals; a new
   * or changed one counts from now on (the intervals already open report it partially); a removed one
   * is dropped from them. Throws (changing nothing) when a filter does not compile.
   */
  setViews(views: readonly ViewSpec[]): void {
    this.keys.views.set(views, this.groups.names);
    for (const w of this.windows.values()) w.syncViews();
    for (const w of this.spare) w.syncViews();
  }

  /** Live mode: emit (possibly empty) summaries from the interval containing `nowMs` on. */
  /** Whether an interval is set to be emitted next (a record came, or start() ran). */
  get started(): boolean {
    return this.nextK !== undefined;
  }

  start(nowMs: number): void {
    this.nowMs = nowMs;
    this.curK = this.indexOf(nowMs);
    if (this.nextK === undefined) this.nextK = Math.floor(nowMs / this.cfg.intervalMs);
    this.committed = true;
    this.updateOpenK();
  }

  /** Index of the interval containing t. */
  indexOf(t: number): number {
    return Math.floor(t / this.cfg.intervalMs);
  }

  private window(k: number): Window {
    let w = this.ring[k & (RING - 1)];
    if (w !== undefined && w.k === k) return w;
    w = this.windows.get(k);
    if (w === undefined) {
      w = this.newWindow(k);
      this.windows.set(k, w);
      if (this.nextK === undefined || k < this.nextK) this.nextK = k; // only reached while uncommitted
    }
    this.ring[k & (RING - 1)] = w;
    return w;
  }

  /** Target window for a portion at interval k: itself if open, else the current one (late). */
  private target(k: number): Window {
    // future beyond the current interval (exporter clock ahead): clamp to current, keeps windows bounded
    if (k > this.curK) k = this.curK;
    if (k >= this.openK) return this.open(k);
    const w = this.lateWindow();
    w.late++;
    this.lateTotal++;
    return w;
  }

  /** The window of open interval k. */
  private open(k: number): Window {
    const w = this.ring[k & (RING - 1)];
    return w !== undefined && w.k === k ? w : this.window(k);
  }

  /** Where a portion for an interval already closed goes: the current one (or the next to emit). */
  private lateWindow(): Window {
    return this.window(Math.max(this.curK, this.nextK ?? this.curK));
  }

  /** After the clock, nextK or committed changed: once committed, everything before nextK is closed too. */
  private updateOpenK(): void {
    const byClock = (this.closedBelow = Math.floor((this.nowMs - this.hold) / this.I));
    this.openK = this.committed && this.nextK! > byClock ? this.nextK! : byClock;
  }

  /**
   * Adds one record, direction and groups already classified. `arrivalMs` is when the datagram
   * arrived (capture time in replay); rates are applied here.
   */
  add(rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number, arrivalMs: number): void {
    if (this.compactDue) this.compact();
    const B = rec.scaledBytes, P = rec.scaledPackets, F = rec.scaledFlows;
    const I = this.I;
    let s = rec.startMs, e = rec.endMs;
    if (this.mode === ARRIVAL) s = e = arrivalMs;
    else if (this.mode === END || !(e > s)) s = e;
    // ids and offsets once per record, however many intervals it spans
    this.keys.prepare(rec, direction, srcGroup, dstGroup);
    const ks = Math.floor(s / I);
    // an end exactly on a boundary belongs to the interval before it
    const ke = e > s ? Math.ceil(e / I) - 1 : ks;
    if (ke <= ks) {
      this.target(ks).add(B, P, F, true);
      return;
    }
    this.spread(s, e, ks, ke, B, P, F);
  }

  /**
   * Even spread over intervals ks..ke with cumulative rounding, so the portions add up to B and P
   * exactly, in at most one step per open interval whatever the span: the part before the oldest open
   * interval goes to the late window at once, the part after the current interval to the current one.
   * Each window touched counts the flow once.
   */
  private spread(s: number, e: number, ks: number, ke: number, B: number, P: number, F: number): void {
    const I = this.I, D = e - s, lo = this.openK, cur = this.curK;
    const first = ks > lo ? ks : lo, last = ke < cur ? ke : cur;
    if (first > last) {
      // nothing of it in an open interval: all late, or all ahead of the clock
      this.target(ks).add(B, P, F, true);
      return;
    }
    let aB = 0, aP = 0, late: Window | undefined;
    if (ks < first) {
      const t = first * I - s;
      aB = Math.round((B * t) / D);
      aP = Math.round((P * t) / D);
      late = this.lateWindow();
      late.late++;
      this.lateTotal++;
    }
    const lastW = this.open(last);
    // the late window is usually the current one, which is also the last: then one add serves both
    const merged = late === lastW;
    if (late !== undefined && !merged) late.add(aB, aP, F, false);
    let prevB = aB, prevP = aP;
    for (let k = first; k < last; k++) {
      const t = (k + 1) * I - s;
      const cb = Math.round((B * t) / D), cp = Math.round((P * t) / D);
      this.open(k).add(cb - prevB, cp - prevP, F, false);
      prevB = cb;
      prevP = cp;
    }
    // the last window takes the rest: its own part and any part after the current interval
    lastW.add(B - prevB + (merged ? aB : 0), P - prevP + (merged ? aP : 0), F, true);
  }

  /** Moves the clock forward without emitting (emission happens in advance()). */
  setClock(nowMs: number): void {
    if (nowMs > this.nowMs) {
      this.nowMs = nowMs;
      this.curK = this.indexOf(nowMs);
      this.updateOpenK();
    }
  }

  get clock(): number {
    return this.nowMs;
  }

  /** Moves the clock forward and emits every interval that has closed, in order (see emitBelow). */
  advance(nowMs: number): void {
    this.setClock(nowMs);
    this.emitBelow(this.closedBelow);
    if (this.compactDue) this.compact();
  }

  /**
   * Emits the intervals below `end` in order: every one holding data and, of the empty ones, at most
   * those within the hold plus EMPTY_RUN before `end`. A jump of the clock (a capture gap of years, a
   * host's clock stepped forward) thus costs what its records cost, not one summary per empty
   * interval; the intervals left out are counted in `skipped`.
   */
  private emitBelow(end: number): void {
    if (this.nextK === undefined) return;
    const maxEmpty = Math.ceil(this.hold / this.I) + EMPTY_RUN;
    while (this.nextK < end) {
      const k = this.nextK;
      if (end - k > maxEmpty && !this.windows.has(k)) {
        let next = end - maxEmpty;
        for (const w of this.windows.keys()) if (w > k && w < next) next = w;
        this.skipped += next - k;
        this.nextK = next;
        this.committed = true;
        this.updateOpenK();
        continue;
      }
      this.emit(k);
    }
  }

  /**
   * Emits every open interval, up to the last one holding data (end of replay) or, with
   * `throughNow`, at least up to the one containing the clock (live shutdown: the open interval and
   * its collector counters are written even when no record landed in it).
   */
  flush(throughNow = false): void {
    if (this.nextK === undefined) return;
    let last = throughNow ? Math.max(this.nextK - 1, this.indexOf(this.nowMs)) : this.nextK - 1;
    for (const k of this.windows.keys()) if (k > last) last = k;
    this.emitBelow(last + 1);
    if (this.compactDue) this.compact();
  }

  /** Number of intervals currently open (for self-metrics and memory checks). */
  get openWindows(): number {
    return this.windows.size;
  }

  private newWindow(k: number): Window {
    const w = this.spare.pop();
    if (w === undefined) return new Window(k, this.groups.size, this.cfg, this.keys);
    w.reset(k);
    w.growGroups(this.groups.size);
    return w;
  }

  /** Drops the host and port ids no open window uses; only between records, as ids change. */
  private compact(): void {
    this.compactDue = false;
    this.keys.compact(this.windows.values());
  }

  private emit(k: number): void {
    const w = this.windows.get(k) ?? this.newWindow(k);
    this.windows.delete(k);
    this.compactDue = true;
    if (this.ring[k & (RING - 1)] === w) this.ring[k & (RING - 1)] = undefined;
    this.nextK = k + 1;
    this.committed = true;
    this.updateOpenK();
    const summary = w.summarize(this.cfg.intervalMs, this.cfg.topHosts, this.cfg.topPorts,
      this.groups.names, this.stats());
    this.emitted++;
    // nothing of the window escapes into the summary: it serves a later interval
    w.k = NaN;
    if (this.spare.length < SPARE) this.spare.push(w);
    this.onSummary(summary);
  }
}
