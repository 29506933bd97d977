// The series of a summary's views and sFlow interface counters (docs/metrics.md "Views and interface
// counters"): one measurement per configured view, `view_<name>`, its keys as tags, and
// `interface_counters`; both carry the interface's name, when known, as the tag `ifname` (not a path
// node, so plain Graphite paths stay as they are). A view's MeasurementDef is built once per view shape
// (name, keys, per) and reused, so the sinks' per-measurement caches of escaped names keep working
// across intervals.
import type { IntervalSummary, Totals, ViewOther, ViewRow } from '../aggregate/summary.js';
import type { InterfaceTotals } from '../aggregate/interface-counters.js';
import { DIRECTION_NAMES } from '../classify/direction.js';
import { float, graphiteNode, int, OTHER, RATE_FIELDS, setRates, type FieldDef, type MeasurementDef, type SeriesVisitor } from './series-defs.js';

/** Fields of `interface_counters`, sorted by name as the client's Point writes them. */
export const INTERFACE_FIELDS: readonly FieldDef[] = [
  float('bps'), int('discards'), int('errors'), int('ifSpeed'), int('octets'), float('pps'), int('ucastPkts'),
];
/** The tag of the interface's name (ifName in the summary), after the path tags; '' (left out) when unknown. */
export const IFNAME_TAG = 'ifname';
export const INTERFACE_COUNTERS: MeasurementDef = {
  name: 'interface_counters', graphite: 'interfaces', tags: ['exporter', 'ifIndex', 'direction', IFNAME_TAG], pathTags: 3, fields: INTERFACE_FIELDS,
};
export const VIEW_PREFIX = 'view_';
/**
 * Stands for every `view_<name>` in MEASUREMENTS (the names in use, the Graphite subtrees an instance
 * may not be named after, carbon's storage pattern); the walker writes each view's own viewMeasurement.
 */
export const VIEWS: MeasurementDef = { name: `${VIEW_PREFIX}<name>`, graphite: 'views', tags: [], pathTags: 0, fields: RATE_FIELDS };
/** Shapes of views remembered (a reload may change them); past it the oldest are forgotten. */
const MAX_VIEW_DEFS = 256;

/**
 * A view key's tag name: the key's own, but `group` (an InfluxQL keyword) is `network` as in `hosts`,
 * and `direction` in a view per direction is `flowdirection` (the row's direction is the `direction`
 * tag: the interface's side in views keyed by `interface`).
 */
export function viewTagName(key: string, perDirection: boolean): string {
  return key === 'group' ? 'network' : key === 'direction' && perDirection ? 'flowdirection' : key;
}

/**
 * The measurement of one view shape: key tags in the view's key order, then `direction` when per
 * direction, then (views keyed by interface) `ifname`, which is no path node.
 */
export function viewMeasurement(name: string, keys: readonly string[], perDirection: boolean): MeasurementDef {
  const tags = keys.map((k) => viewTagName(k, perDirection));
  if (perDirection) tags.push('direction');
  const pathTags = tags.length;
  if (keys.includes('interface')) tags.push(IFNAME_TAG);
  return { name: `${VIEW_PREFIX}${name}`, graphite: `views.${graphiteNode(name)}`, tags, pathTags, fields: RATE_FIELDS };
}

export class ViewSeries {
  private readonly tags: string[] = [];
  private readonly values: number[] = [];
  /** view name → its last shape's signature, key names and measurement */
  private readonly defs = new Map<string, { sig: string; keys: string[]; m: MeasurementDef }>();

  /** Visits every view row, each view's other rows and every interface direction; returns the row count. */
  walk(s: IntervalSummary, visit: SeriesVisitor): number {
    let n = 0;
    const views = s.views;
    if (views) for (const name of Object.keys(views)) n += this.view(name, views[name]!, s.viewsOther?.[name] ?? {}, s.interval, visit);
    const rows = s.interfaces;
    if (rows) {
      const tg = this.tags, v = this.values;
      for (const r of rows) {
        tg[0] = r.exporter; tg[1] = String(r.ifIndex); tg[3] = r.ifName ?? '';
        for (const d of ['in', 'out'] as const) {
          tg[2] = d;
          setInterface(v, r[d], r.ifSpeed);
          // the name is in the cache key: a renamed interface is another series
          visit(INTERFACE_COUNTERS, `${r.exporter}\0${r.ifIndex}\0${d}\0${tg[3]}`, tg, INTERFACE_FIELDS, v);
          n++;
        }
      }
    }
    return n;
  }

  private view(name: string, rows: readonly ViewRow[], other: ViewOther, interval: number, visit: SeriesVisitor): number {
    const perDirection = other.all === undefined && (rows.length > 0 ? rows[0]!.direction !== undefined : Object.keys(other).length > 0);
    const def = this.defOf(name, rows[0], perDirection);
    const m = def.m, keys = def.keys, k = keys.length, tg = this.tags, v = this.values;
    tg.length = m.tags.length;
    // views keyed by interface: the name is the last tag, after the path tags
    const nameAt = m.pathTags < m.tags.length ? m.pathTags : -1;
    let n = 0;
    for (const r of rows) {
      let key = '';
      for (let i = 0; i < k; i++) {
        const x = r.key[keys[i]!];
        tg[i] = x === undefined ? '' : String(x);
        key += `${tg[i]}\0`;
      }
      if (perDirection) {
        tg[k] = r.direction ?? '';
        key += tg[k];
      }
      if (nameAt >= 0) {
        tg[nameAt] = r.ifName ?? '';
        key += `\0${tg[nameAt]}`;
      }
      setRates(v, r, interval);
      visit(m, key, tg, RATE_FIELDS, v);
      n++;
    }
    // the rest, written only when non-zero (as hostsOther): every key tag `other`
    for (let i = 0; i < k; i++) tg[i] = OTHER;
    if (nameAt >= 0) tg[nameAt] = '';
    for (const d of perDirection ? DIRECTION_NAMES : (['all'] as const)) {
      const o: Totals | undefined = other[d];
      if (!o || (o.bytes === 0 && o.packets === 0 && o.flows === 0)) continue;
      if (perDirection) tg[k] = d;
      setRates(v, o, interval);
      visit(m, `${OTHER}\0${d}`, tg, RATE_FIELDS, v);
      n++;
    }
    return n;
  }

  /** The view's shape from a row (its key names); without rows, the last one seen for that name. */
  private defOf(name: string, row: ViewRow | undefined, perDirection: boolean): { sig: string; keys: string[]; m: MeasurementDef } {
    const known = this.defs.get(name);
    const keys = row ? Object.keys(row.key) : known?.keys ?? [];
    const sig = `${keys.join(',')}|${perDirection}`;
    if (known && known.sig === sig) return known;
    if (this.defs.size >= MAX_VIEW_DEFS) this.defs.delete(this.defs.keys().next().value!);
    const def = { sig, keys, m: viewMeasurement(name, keys, perDirection) };
    this.defs.set(name, def);
    return def;
  }
}

/** Field order is INTERFACE_FIELDS: bps, discards, errors, ifSpeed, octets, pps, ucastPkts. */
function setInterface(v: number[], t: InterfaceTotals, ifSpeed: number): void {
  v[0] = t.bps;
  v[1] = t.discards;
  v[2] = t.errors;
  v[3] = ifSpeed;
  v[4] = t.octets;
  v[5] = t.pps;
  v[6] = t.ucastPkts;
}
