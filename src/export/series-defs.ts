// The building blocks of the series schema (series.ts): measurement and field definitions, the
// visitor the walkers call, the rate fields every traffic measurement carries and Graphite's node rule.
import type { Totals } from '../aggregate/summary.js';

export interface FieldDef {
  readonly name: string;
  /** integer field (InfluxDB `i` suffix); otherwise float */
  readonly int: boolean;
}

export interface MeasurementDef {
  /** InfluxDB measurement */
  readonly name: string;
  /** first Graphite node after the prefix */
  readonly graphite: string;
  /** every tag key, in the order the visitor passes their values */
  readonly tags: readonly string[];
  /** how many of `tags` (from the start) form the Graphite path; the rest are only tags */
  readonly pathTags: number;
  /** sorted by name (the order the client's Point writes them); empty = per summary (collector) */
  readonly fields: readonly FieldDef[];
}

export const int = (name: string): FieldDef => ({ name, int: true });
export const float = (name: string): FieldDef => ({ name, int: false });

/** bytes, packets, flows of the interval and the rates over it, sorted by name. */
export const RATE_FIELDS: readonly FieldDef[] = [float('bps'), int('bytes'), int('flows'), int('packets'), float('pps')];

/** Tag values of the rows that fold everything outside the top-N tables. */
export const OTHER = 'other';

/**
 * Receives each series row. `tags` holds values in `m.tags` order ('' = absent) and `values` is
 * aligned with `fields`; both are reused between calls, so copy what you keep. `key` identifies the
 * series within the measurement (cache key for escaped names).
 */
export type SeriesVisitor = (m: MeasurementDef, key: string, tags: readonly string[], fields: readonly FieldDef[], values: ArrayLike<number>) => void;

export function nonZero(t: Totals): boolean {
  return t.bytes !== 0 || t.packets !== 0 || t.flows !== 0;
}

/** Field order is RATE_FIELDS: bps, bytes, flows, packets, pps. */
export function setRates(v: number[], t: Totals, interval: number): void {
  v[0] = (t.bytes * 8) / interval;
  v[1] = t.bytes;
  v[2] = t.flows;
  v[3] = t.packets;
  v[4] = t.packets / interval;
}

/**
 * One path node: IPv4 dots become `_`, IPv6 colons `-`, anything else outside [A-Za-z0-9_-] `_`
 * (a dot would add a directory level, a space would end the metric name).
 */
export function graphiteNode(v: string): string {
  if (v === '') return '_';
  return /^[A-Za-z0-9_-]+$/.test(v) ? v : v.replace(/:/g, '-').replace(/[^A-Za-z0-9_-]/g, '_');
}

