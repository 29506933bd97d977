// Bounded in-memory history for the web page: the last interval summaries and the recent alerts.
// Both are fixed-capacity rings: memory does not grow with uptime, and what falls out is counted.
import type { IntervalSummary } from '../aggregate/summary.js';
import type { AlertEvent } from '../alert/event.js';

/** A fixed-capacity ring: push overwrites the oldest entry once full. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0; // index of the oldest entry
  private count = 0;
  /** entries overwritten or pruned since creation */
  evicted = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity ${capacity}: expected an integer ≥ 1`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.capacity) {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
      this.evicted++;
    } else {
      this.items[(this.head + this.count) % this.capacity] = item;
      this.count++;
    }
  }

  /** i = 0 is the oldest entry. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.head + i) % this.capacity];
  }

  newest(): T | undefined {
    return this.at(this.count - 1);
  }

  /** Drops entries from the oldest end while `stale` holds for them. */
  pruneWhile(stale: (item: T) => boolean): void {
    while (this.count > 0 && stale(this.items[this.head]!)) {
      this.items[this.head] = undefined; // let it be collected
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.evicted++;
    }
  }

  /** Oldest first; only entries that `keep` accepts, when given. */
  toArray(keep?: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) {
      const it = this.items[(this.head + i) % this.capacity]!;
      if (!keep || keep(it)) out.push(it);
    }
    return out;
  }
}

export interface HistoryOptions {
  /** milliseconds of summaries to keep, measured back from the newest summary's end */
  historyMs: number;
  /** interval length in seconds: with historyMs it sizes the summary ring */
  intervalSec: number;
  /** how many alerts to keep */
  alerts: number;
}

/**
 * The summaries of the last `historyMs` (by the newest summary's clock, not the wall clock, so a
 * replayed capture from another day is still shown) and the last N alerts. Summaries are immutable
 * and shared with the sinks, so they are kept by reference, not copied.
 */
export class History {
  readonly summaries: Ring<IntervalSummary>;
  readonly alerts: Ring<AlertEvent>;
  private readonly historySec: number;

  constructor(opts: HistoryOptions) {
    this.historySec = opts.historyMs / 1000;
    // one spare slot: a window of N intervals touches N+1 summaries when it is not aligned
    this.summaries = new Ring(Math.max(1, Math.ceil(this.historySec / opts.intervalSec) + 1));
    this.alerts = new Ring(opts.alerts);
  }

  addSummary(s: IntervalSummary): void {
    this.summaries.push(s);
    // the newest summary is "now": after a gap (collector stopped, clock jump) old entries fall out by
    // time as well as by count
    const cutoff = s.end - this.historySec;
    this.summaries.pruneWhile((x) => x.end <= cutoff);
  }

  addAlert(a: AlertEvent): void {
    this.alerts.push(a);
  }

  /** Summaries with start ≥ sinceSec (epoch seconds), oldest first; all when sinceSec is undefined. */
  intervals(sinceSec?: number): IntervalSummary[] {
    return sinceSec === undefined ? this.summaries.toArray() : this.summaries.toArray((s) => s.start >= sinceSec);
  }

  /** Alerts raised at or after sinceMs (epoch ms), oldest first. */
  recentAlerts(sinceMs?: number): AlertEvent[] {
    return sinceMs === undefined ? this.alerts.toArray() : this.alerts.toArray((a) => a.time >= sinceMs);
  }

  get evicted(): number {
    return this.summaries.evicted + this.alerts.evicted;
  }
}

// ---- the page's view: fewer rows per interval ----

interface Row { direction?: string; bytes: number; packets: number; flows: number }

/** viewsOther's key for the rows of a view counted per: none (they have no direction) */
const ALL = 'all';

/** Keeps the `top` largest rows by bytes per direction; the rest are summed into `other` (a copy). */
function topRows<R extends Row>(rows: R[], top: number, other: Record<string, { bytes: number; packets: number; flows: number }>):
  { rows: R[]; other: typeof other } | null {
  const perDir = new Map<string, R[]>();
  for (const r of rows) {
    const dir = r.direction ?? ALL;
    let l = perDir.get(dir);
    if (!l) perDir.set(dir, (l = []));
    l.push(r);
  }
  let trimmed = false;
  for (const l of perDir.values()) if (l.length > top) trimmed = true;
  if (!trimmed) return null;
  const out: R[] = [];
  const rest: typeof other = {};
  for (const [k, v] of Object.entries(other)) rest[k] = { ...v };
  for (const [dir, l] of perDir) {
    l.sort((a, b) => b.bytes - a.bytes);
    for (let i = 0; i < l.length; i++) {
      const r = l[i]!;
      if (i < top) {
        out.push(r);
        continue;
      }
      const o = (rest[dir] ??= { bytes: 0, packets: 0, flows: 0 });
      o.bytes += r.bytes;
      o.packets += r.packets;
      o.flows += r.flows;
    }
  }
  return { rows: out, other: rest };
}

/**
 * The summary as if `aggregate.topHosts`/`topPorts` and each view's `top` had been `top`: at most `top`
 * hosts, ports and view tuples per direction, the rest folded into hostsOther/portsOther/viewsOther, so
 * the documented sums still hold. Returns the summary itself when nothing needs trimming. Keeps the
 * page's load small when topHosts is 1000.
 */
export function trimSummary(s: IntervalSummary, top: number): IntervalSummary {
  const h = topRows(s.hosts, top, s.hostsOther);
  const p = topRows(s.ports, top, s.portsOther);
  let views: IntervalSummary['views'], viewsOther: IntervalSummary['viewsOther'];
  for (const [name, rows] of Object.entries(s.views ?? {})) {
    const v = topRows(rows, top, s.viewsOther?.[name] ?? {});
    if (!v) continue;
    views ??= { ...s.views };
    viewsOther ??= { ...s.viewsOther };
    views[name] = v.rows;
    viewsOther[name] = v.other;
  }
  if (!h && !p && !views) return s;
  return {
    ...s,
    hosts: h ? h.rows : s.hosts,
    hostsOther: h ? (h.other as IntervalSummary['hostsOther']) : s.hostsOther,
    ports: p ? p.rows : s.ports,
    portsOther: p ? (p.other as IntervalSummary['portsOther']) : s.portsOther,
    ...(views ? { views, viewsOther } : {}),
  };
}

/** Memoizes one trimmed view per summary (the page always asks for the same `top`). */
export class TrimmedViews {
  private readonly memo = new WeakMap<IntervalSummary, { top: number; view: IntervalSummary }>();
  get(s: IntervalSummary, top: number): IntervalSummary {
    const m = this.memo.get(s);
    if (m && m.top === top) return m.view;
    const view = trimSummary(s, top);
    this.memo.set(s, { top, view });
    return view;
  }
}
