// The immutable summary of one closed interval: what every sink receives. docs/output.md documents it.
import { DIRECTION_NAMES, type DirectionName } from '../classify/direction.js';
import type { InterfaceRow } from './interface-counters.js';

export type HostDirection = 'in' | 'out';

export interface Totals {
  bytes: number;
  packets: number;
  flows: number;
}

export interface RateTotals extends Totals {
  /** bits per second and packets per second over the interval length */
  bps: number;
  pps: number;
}

export interface HostRow extends Totals {
  host: string;
  group: string;
  /** in = received by the host, out = sent by it */
  direction: HostDirection;
}

export interface PortRow extends Totals {
  protocol: string;
  port: number;
  direction: DirectionName;
}

export interface ProtocolRow extends Totals {
  protocol: string;
  direction: DirectionName;
}

export interface GroupRow extends Totals {
  group: string;
  direction: HostDirection;
}

export interface ExporterRow extends Totals {
  exporter: string;
  records: number;
}

/** One key tuple of a view (docs/output.md): the key values by key name, and its counters. */
export interface ViewRow extends Totals {
  key: Record<string, string | number>;
  /** absent in a view counted per: none */
  direction?: DirectionName;
  /** views keyed by interface: the interface's name, configured or learned (absent when unknown) */
  ifName?: string;
}

/** The rest of a view's traffic, per direction (or under "all" for per: none). */
export type ViewOther = Partial<Record<DirectionName | 'all', Totals>>;

export interface IntervalStats {
  /** flow records added to this interval (a spread record counts once, in its last interval) */
  records: number;
  /** portions of records that arrived after their interval had closed and were added here */
  late: number;
  /** records whose local host did not fit the host table (counted in hostsOther) */
  hostOverflow: number;
  portOverflow: number;
  exporterOverflow: number;
  /** per view: records whose key tuple did not fit aggregate.maxViewTuples (present only when some did) */
  viewTuplesCapped?: Record<string, number>;
  /** counters capped at MAX_COUNTER (present only when some were: see saturate) */
  saturated?: number;
  /** collector counters over the wall-clock period that ended with this summary */
  collector: Record<string, number>;
}

export interface IntervalSummary {
  /** epoch seconds; end - start = interval */
  start: number;
  end: number;
  interval: number;
  directions: Record<DirectionName, RateTotals>;
  /** top N receivers (direction in) and top N senders (direction out), by bytes */
  hosts: HostRow[];
  /** the rest of the local-host traffic: hosts + hostsOther = directions.in + internal (for in), out + internal (for out) */
  hostsOther: Record<HostDirection, Totals>;
  ports: PortRow[];
  /** ports + portsOther = directions, per direction */
  portsOther: Record<DirectionName, Totals>;
  protocols: ProtocolRow[];
  groups: GroupRow[];
  exporters: ExporterRow[];
  /**
   * Per configured view (`views`), its top key tuples per direction; views + viewsOther = the traffic
   * that has the view's keys and passes its filter. Always set by the aggregator (optional for sinks'
   * hand-made summaries).
   */
  views?: Record<string, ViewRow[]>;
  viewsOther?: Record<string, ViewOther>;
  /** sFlow counter samples' rise per exporter and ifIndex in this interval (present only when any) */
  interfaces?: InterfaceRow[];
  stats: IntervalStats;
}

/** The largest counter a summary holds: above it a float sum is no longer an exact integer. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

function cap(t: Totals): number {
  let n = 0;
  if (t.bytes > MAX_COUNTER) { t.bytes = MAX_COUNTER; n++; }
  if (t.packets > MAX_COUNTER) { t.packets = MAX_COUNTER; n++; }
  if (t.flows > MAX_COUNTER) { t.flows = MAX_COUNTER; n++; }
  return n;
}

/**
 * Caps every counter of a freshly built summary at MAX_COUNTER and returns how many it capped (also
 * set as stats.saturated). Each record is bounded by line rate (flow/normalize.ts), so only a flood of
 * records claiming it can get here; a sum past 2^53 is not exact, and a sink must never write it as if
 * it were (nor as 7.9e+28, which InfluxDB rejects).
 */
export function saturate(s: IntervalSummary): number {
  let n = 0;
  const secs = s.interval;
  for (const d of DIRECTION_NAMES) {
    const t = s.directions[d], c = cap(t);
    if (c > 0) {
      n += c;
      t.bps = (t.bytes * 8) / secs;
      t.pps = t.packets / secs;
    }
    n += cap(s.portsOther[d]);
  }
  n += cap(s.hostsOther.in) + cap(s.hostsOther.out);
  for (const rows of [s.hosts, s.ports, s.protocols, s.groups, s.exporters, ...Object.values(s.views ?? {})] as Totals[][]) {
    for (const r of rows) n += cap(r);
  }
  for (const o of Object.values(s.viewsOther ?? {})) for (const t of Object.values(o)) n += cap(t);
  if (n > 0) s.stats.saturated = n;
  return n;
}

const PROTOCOL_NAMES: Record<number, string> = {
  1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'ipv6-icmp',
  89: 'ospf', 103: 'pim', 112: 'vrrp', 132: 'sctp',
};

export function protocolName(p: number): string {
  return PROTOCOL_NAMES[p] ?? String(p);
}

