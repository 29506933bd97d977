// The collector counters each summary carries (docs/output.md): the registry's totals as deltas over
// the period since the previous summary, and the aggregator's own totals kept as self-metrics.
import type { Counter, Metrics } from '../lib/counters.js';

/** Collector stats every summary carries, zero or not; the others appear when non-zero. */
const ALWAYS_STATS = new Set(['datagrams', 'records', 'decodeErrors', 'templateMisses', 'late']);

export class CollectorStats {
  private last: Record<string, number> = {};
  private readonly late: Counter;
  private readonly skipped: Counter;

  constructor(private readonly m: Metrics, private readonly aggregator: () => { lateTotal: number; skipped: number }) {
    this.late = m.counter('aggregate_late_parts_total', 'Parts of records that arrived after their interval closed, counted in the current one');
    this.skipped = m.counter('aggregate_intervals_skipped_total', 'Empty intervals not emitted after a jump of the clock');
  }

  /** The counters' changes since the previous call. */
  delta(): Record<string, number> {
    const m = this.m, a = this.aggregator();
    const cur: Record<string, number> = {
      datagrams: m.total('datagrams_decoded_total'),
      records: m.total('records_total'),
      decodeErrors: m.total('decode_errors_total'),
      templateMisses: m.total('template_misses_total'),
      eventRecords: m.total('event_records_total'),
      datagramsShed: m.total('datagrams_shed_total'),
      late: a.lateTotal,
      skippedIntervals: a.skipped,
    };
    // by kind, as decodeErrors_<kind> and recordsAdjusted_<kind> (names every sink can use as a field or path)
    for (const e of m.snapshot()) {
      const prefix = e.name === 'decode_errors_total' ? 'decodeErrors_' : e.name === 'records_adjusted_total' ? 'recordsAdjusted_' : '';
      if (prefix === '') continue;
      const k = `${prefix}${e.labels.kind}`;
      cur[k] = (cur[k] ?? 0) + e.value;
    }
    const out: Record<string, number> = {};
    for (const k of Object.keys(cur)) {
      const d = cur[k]! - (this.last[k] ?? 0);
      // the first five always; the rest only when something happened
      if (d !== 0 || ALWAYS_STATS.has(k)) out[k] = d;
    }
    this.last = cur;
    this.late.inc(out.late);
    this.skipped.inc(out.skippedIntervals ?? 0);
    return out;
  }
}
