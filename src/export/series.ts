// The series schema shared by the InfluxDB and Graphite sinks (and documented in docs/metrics.md): how
// one interval summary becomes measurements with tags and fields, and how those are named in InfluxDB
// line protocol and in Graphite paths. Names are escaped once per series and cached by the sinks.
import { escape } from '@influxdata/influxdb-client';
import type { AlertEvent } from '../alert/event.js';
import { DIRECTION_NAMES } from '../classify/direction.js';
import type { IntervalSummary, Totals } from '../aggregate/summary.js';
import type { Counter, Gauge, Metrics } from '../lib/counters.js';
import { float, graphiteNode, int, nonZero, OTHER, RATE_FIELDS, setRates, type FieldDef, type MeasurementDef, type SeriesVisitor } from './series-defs.js';
import { INTERFACE_COUNTERS, VIEWS, ViewSeries } from './series-views.js';


const EXPORTER_FIELDS: readonly FieldDef[] = [...RATE_FIELDS, int('records')];
/** per-interval deltas of one sink's counters, and its queue depth at write time */
export const SINK_FIELDS: readonly FieldDef[] = [
  int('dropped'), int('errors'), int('failed'), int('lines'), int('queue'), int('retries'),
];

export const TRAFFIC: MeasurementDef = { name: 'traffic', graphite: 'total', tags: ['direction'], pathTags: 1, fields: RATE_FIELDS };
// The summary's home-network groups are `network` here: GROUP and GROUPS are InfluxQL and SQL keywords.
export const HOSTS: MeasurementDef = { name: 'hosts', graphite: 'hosts', tags: ['host', 'direction', 'network'], pathTags: 2, fields: RATE_FIELDS };
export const PORTS: MeasurementDef = { name: 'ports', graphite: 'ports', tags: ['protocol', 'port', 'direction'], pathTags: 3, fields: RATE_FIELDS };
export const PROTOCOLS: MeasurementDef = { name: 'protocols', graphite: 'protocols', tags: ['protocol', 'direction'], pathTags: 2, fields: RATE_FIELDS };
export const NETWORKS: MeasurementDef = { name: 'networks', graphite: 'networks', tags: ['network', 'direction'], pathTags: 2, fields: RATE_FIELDS };
export const EXPORTERS: MeasurementDef = { name: 'exporters', graphite: 'exporters', tags: ['exporter'], pathTags: 1, fields: EXPORTER_FIELDS };
export const COLLECTOR: MeasurementDef = { name: 'collector', graphite: 'collector', tags: [], pathTags: 0, fields: [] };
export const SINKS: MeasurementDef = { name: 'sinks', graphite: 'sinks', tags: ['sink'], pathTags: 1, fields: SINK_FIELDS };
/**
 * One point per alert. Not `name` (Graphite's reserved tag, an InfluxQL keyword) but `alert`; the
 * string fields are ALERT_TEXT_FIELDS. Graphite gets only value and threshold.
 */
export const ALERTS: MeasurementDef = {
  name: 'alerts', graphite: 'alerts', tags: ['alert', 'kind', 'metric', 'exporter'], pathTags: 2,
  fields: [int('intervalEnd'), int('intervalStart'), float('threshold'), float('value')],
};
/** string fields of `alerts`: the definition's keys ("ipsource=10.1.1.1 …") and one readable line */
export const ALERT_TEXT_FIELDS: readonly string[] = ['detail', 'text'];

/** Every measurement; VIEWS stands for each `view_<name>` (series-views.ts builds those per view). */
export const MEASUREMENTS: readonly MeasurementDef[] = [
  TRAFFIC, HOSTS, PORTS, PROTOCOLS, NETWORKS, EXPORTERS, COLLECTOR, SINKS, ALERTS, VIEWS, INTERFACE_COUNTERS,
];
/** Measurements a sink caches names for (each view shape is one): past it the sink's cache starts over. */
export const MAX_CACHED_MEASUREMENTS = 1024;

export const ALL_PROTOCOLS = 'all';

/** The summary's interval stats that the collector measurement carries next to stats.collector. */
const INTERVAL_STATS: Record<string, 'records' | 'late' | 'hostOverflow' | 'portOverflow' | 'exporterOverflow'> = {
  intervalRecords: 'records', intervalLate: 'late', hostOverflow: 'hostOverflow', portOverflow: 'portOverflow',
  exporterOverflow: 'exporterOverflow',
};

/** One sink's counters for the `sinks` measurement (deltas over the interval, queue as a level). */
export interface SinkRow {
  sink: string;
  dropped: number;
  errors: number;
  failed: number;
  lines: number;
  queue: number;
  retries: number;
}

/**
 * A sink's counters in the Metrics registry (`sink_*_total{sink}`, `sink_queue_lines{sink}`) and its
 * row of the `sinks` measurement: the counts since the previous row, and the queue level.
 */
export class SinkCounters {
  readonly lines: Counter;
  readonly failed: Counter;
  readonly dropped: Counter;
  readonly retries: Counter;
  readonly errors: Counter;
  readonly queue: Gauge;
  private last = { dropped: 0, errors: 0, failed: 0, lines: 0, retries: 0 };

  constructor(m: Metrics, readonly sink: string) {
    const l = { sink };
    this.lines = m.counter('sink_lines_total', 'Lines (series points) a sink delivered', l);
    this.failed = m.counter('sink_lines_failed_total', 'Lines a sink gave up on after a rejected or exhausted write', l);
    this.dropped = m.counter('sink_dropped_total', 'Lines a sink dropped: buffer full (oldest first) or left at shutdown', l);
    this.retries = m.counter('sink_retries_total', 'Failed writes or connects a sink will retry', l);
    this.errors = m.counter('sink_errors_total', 'Errors raised by a sink', l);
    this.queue = m.gauge('sink_queue_lines', 'Lines waiting in a sink (buffered, being retried or sent)', l);
  }

  row(queue: number): SinkRow {
    const cur = { dropped: this.dropped.value, errors: this.errors.value, failed: this.failed.value, lines: this.lines.value,
      retries: this.retries.value };
    const p = this.last;
    this.last = cur;
    return { sink: this.sink, queue, dropped: cur.dropped - p.dropped, errors: cur.errors - p.errors, failed: cur.failed - p.failed,
      lines: cur.lines - p.lines, retries: cur.retries - p.retries };
  }
}

export class SeriesWalker {
  private readonly tags: string[] = ['', '', ''];
  /** grows to the widest row (the collector's field count varies) */
  private readonly values: number[] = [];
  private collectorKeys = '';
  private collectorFields: FieldDef[] = [];
  private collectorSrc: string[] = [];
  private readonly views = new ViewSeries();

  /** Visits every series of one summary (plus the writing sink's own row); returns the row count. */
  walk(s: IntervalSummary, visit: SeriesVisitor, sink?: SinkRow): number {
    const tg = this.tags;
    let n = 0;
    for (const d of DIRECTION_NAMES) {
      tg[0] = d;
      this.rates(TRAFFIC, d, s.directions[d], s.interval, visit);
      n++;
    }
    for (const h of s.hosts) {
      tg[0] = h.host; tg[1] = h.direction; tg[2] = h.group;
      this.rates(HOSTS, `${h.host}\0${h.direction}\0${h.group}`, h, s.interval, visit);
      n++;
    }
    for (const d of ['in', 'out'] as const) {
      if (!nonZero(s.hostsOther[d])) continue;
      tg[0] = OTHER; tg[1] = d; tg[2] = '';
      this.rates(HOSTS, `${OTHER}\0${d}\0`, s.hostsOther[d], s.interval, visit);
      n++;
    }
    for (const p of s.ports) {
      tg[0] = p.protocol; tg[1] = String(p.port); tg[2] = p.direction;
      this.rates(PORTS, `${p.protocol}\0${p.port}\0${p.direction}`, p, s.interval, visit);
      n++;
    }
    for (const d of DIRECTION_NAMES) {
      const o = s.portsOther[d];
      if (!o || !nonZero(o)) continue;
      tg[0] = ALL_PROTOCOLS; tg[1] = OTHER; tg[2] = d;
      this.rates(PORTS, `${ALL_PROTOCOLS}\0${OTHER}\0${d}`, o, s.interval, visit);
      n++;
    }
    for (const p of s.protocols) {
      tg[0] = p.protocol; tg[1] = p.direction;
      this.rates(PROTOCOLS, `${p.protocol}\0${p.direction}`, p, s.interval, visit);
      n++;
    }
    for (const g of s.groups) {
      tg[0] = g.group; tg[1] = g.direction;
      this.rates(NETWORKS, `${g.group}\0${g.direction}`, g, s.interval, visit);
      n++;
    }
    const v = this.values;
    for (const e of s.exporters) {
      tg[0] = e.exporter;
      setRates(v, e, s.interval);
      v[5] = e.records;
      visit(EXPORTERS, e.exporter, tg, EXPORTER_FIELDS, v);
      n++;
    }
    n += this.views.walk(s, visit);
    const cf = this.collectorFieldsOf(s);
    const src = this.collectorSrc;
    for (let i = 0; i < cf.length; i++) {
      const stat = INTERVAL_STATS[cf[i]!.name];
      v[i] = stat !== undefined ? s.stats[stat] : s.stats.collector[src[i]!] ?? 0;
    }
    visit(COLLECTOR, '', tg, cf, v);
    n++;
    if (sink) {
      tg[0] = sink.sink;
      v[0] = sink.dropped; v[1] = sink.errors; v[2] = sink.failed; v[3] = sink.lines; v[4] = sink.queue; v[5] = sink.retries;
      visit(SINKS, sink.sink, tg, SINK_FIELDS, v);
      n++;
    }
    return n;
  }

  private rates(m: MeasurementDef, key: string, t: Totals, interval: number, visit: SeriesVisitor): void {
    setRates(this.values, t, interval);
    visit(m, key, this.tags, RATE_FIELDS, this.values);
  }

  /** stats.collector keys can change with the collector: the field list is rebuilt only when they do. */
  private collectorFieldsOf(s: IntervalSummary): readonly FieldDef[] {
    const keys = Object.keys(s.stats.collector);
    const sig = keys.join(',');
    if (sig !== this.collectorKeys || this.collectorFields.length === 0) {
      this.collectorKeys = sig;
      // field name → the stats.collector key it reads; the interval stats win a clash
      const byName = new Map<string, string>();
      for (const k of keys) if (fieldName(k) !== '') byName.set(fieldName(k), k);
      for (const k of Object.keys(INTERVAL_STATS)) byName.set(k, '');
      const names = [...byName.keys()].sort();
      this.collectorFields = names.map(int);
      this.collectorSrc = names.map((n) => byName.get(n)!);
    }
    return this.collectorFields;
  }
}

/** Field names are ours or stats.collector keys: keep them to [A-Za-z0-9_] so both backends take them. */
function fieldName(k: string): string {
  return k.replace(/[^A-Za-z0-9_]/g, '_');
}

// ---- alerts ----

export interface AlertSeries {
  /** values in ALERTS.tags order; '' = absent */
  tags: string[];
  value: number;
  threshold: number | undefined;
  start: number;
  end: number;
  /** the definition's keys: "ipsource=10.1.1.1 icmpunreachableport=1000" */
  detail: string;
  /** one human line for annotations */
  text: string;
  /** epoch ms */
  time: number;
}

export function alertSeries(a: AlertEvent): AlertSeries {
  const keys = Object.keys(a.keys).map((k) => `${k}=${a.keys[k]}`).join(' ');
  const cmp = a.threshold === undefined ? '' : a.kind === 'cleared' ? ` <= ${a.threshold}` : ` > ${a.threshold}`;
  return {
    tags: [a.name, a.kind, a.metric, a.exporter ?? ''],
    value: a.value, threshold: a.threshold, start: a.start, end: a.end, detail: keys,
    text: `${a.kind} ${a.name}${keys ? ` ${keys}` : ''}: ${a.metric} ${a.value}${cmp}`,
    time: a.time,
  };
}

// ---- InfluxDB line protocol (the client's escaping, so lines equal what its Point writes) ----

/**
 * Tags a sink adds to every series it writes, [key, value]: the collector's `instance` (docs/scaling.md),
 * so that several collectors writing to one database never share a series.
 */
export type ExtraTags = readonly (readonly [string, string])[];

/** `measurement,tag=value,…` with tags sorted by key and empty values left out, as Point does. */
export function influxSeriesKey(m: MeasurementDef, tags: readonly string[], extra: ExtraTags = []): string {
  if (extra.length > 0) {
    const pairs: (readonly [string, string])[] = extra.filter((e) => e[1] !== '');
    for (let i = 0; i < m.tags.length; i++) if (tags[i]) pairs.push([m.tags[i]!, tags[i]!]);
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    let out = escape.measurement(m.name);
    for (const [k, v] of pairs) out += `,${escape.tag(k)}=${escape.tag(v)}`;
    return out;
  }
  let order = SORTED_TAGS.get(m);
  if (!order) {
    order = m.tags.map((k, i) => [k, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((x) => x[1]);
    SORTED_TAGS.set(m, order);
  }
  let out = escape.measurement(m.name);
  for (const i of order) {
    const v = tags[i];
    if (v) out += `,${escape.tag(m.tags[i]!)}=${escape.tag(v)}`;
  }
  return out;
}
const SORTED_TAGS = new Map<MeasurementDef, number[]>();

/** `f=1i,g=2.5` in field order; non-finite floats are left out (line protocol has no NaN). */
export function influxFields(fields: readonly FieldDef[], values: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const v = values[i]!;
    let text: string;
    if (f.int) text = `${Math.floor(v)}i`;
    else if (Number.isFinite(v)) text = String(v);
    else continue;
    out += out === '' ? `${f.name}=${text}` : `,${f.name}=${text}`;
  }
  return out;
}

// ---- Graphite names ----

/** The configured prefix ("flowbridge", "site1.flows"): each node sanitized, dots kept. */
export function graphitePrefix(prefix: string): string {
  return prefix.split('.').filter((p) => p !== '').map(graphiteNode).join('.');
}

/** Graphite 1.1 tag value: any printable ASCII but `;` and spaces, not starting with `~`; never empty. */
export function graphiteTagValue(v: string): string {
  const s = v.replace(/[^\x21-\x7e]|;/g, '_');
  return s === '' ? '_' : s[0] === '~' ? `_${s.slice(1)}` : s;
}

/** `prefix.node.tag1.tag2.` (path tags only), ready for a field name to be appended. */
export function graphitePath(prefix: string, m: MeasurementDef, tags: readonly string[]): string {
  let out = prefix === '' ? `${m.graphite}.` : `${prefix}.${m.graphite}.`;
  for (let i = 0; i < m.pathTags; i++) out += `${graphiteNode(tags[i]!)}.`;
  return out;
}

/** `;k=v;…` for a tagged series: every non-empty tag (the extra ones too), sorted by key as Graphite stores them. */
export function graphiteTags(m: MeasurementDef, tags: readonly string[], extra: ExtraTags = []): string {
  const pairs: string[] = [];
  for (let i = 0; i < m.tags.length; i++) if (tags[i]) pairs.push(`;${m.tags[i]}=${graphiteTagValue(tags[i]!)}`);
  for (const [k, v] of extra) if (v) pairs.push(`;${k}=${graphiteTagValue(v)}`);
  return pairs.sort().join('');
}
