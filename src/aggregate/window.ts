// One interval's accumulators. Counters are flat Float64Arrays indexed by direction*3 + metric so the
// per-record path is arithmetic and one Map lookup per table; strings are built only in summarize().
import { IpVersion, ipv4ToString, ipv6ToString, type FlowRecord } from '../flow/record.js';
import {
  DIRECTIONS, protocolName, servicePort,
  type ExporterRow, type GroupRow, type HostDirection, type HostRow, type IntervalSummary, type PortRow,
  type ProtocolRow, type RateTotals, type Totals,
} from './summary.js';

// metric offsets inside a direction's triple
const BYTES = 0, PKTS = 1, FLOWS = 2;
// host/group triples: received (in) first, sent (out) second
const H_IN = 0, H_OUT = 3;
// Direction codes (src/classify/direction.ts): in 0, out 1, internal 2, external 3
const D_IN = 0, D_OUT = 1, D_INTERNAL = 2;

export interface WindowLimits {
  maxHosts: number;
  maxPorts: number;
  maxExporters: number;
  perExporter: boolean;
}

class HostEntry {
  readonly v = new Float64Array(6);
  constructor(readonly group: number) {}
}

class PortEntry {
  readonly v = new Float64Array(12);
}

class ExporterEntry {
  readonly v = new Float64Array(4); // bytes, packets, flows, records
}

function add3(a: Float64Array, at: number, b: number, p: number, f: number): void {
  a[at + BYTES] += b;
  a[at + PKTS] += p;
  a[at + FLOWS] += f;
}

function totals(a: Float64Array, at: number): Totals {
  return { bytes: a[at + BYTES]!, packets: a[at + PKTS]!, flows: a[at + FLOWS]! };
}

export class Window {
  readonly dir = new Float64Array(12);
  readonly proto = new Float64Array(256 * 12);
  readonly groups: Float64Array;
  readonly hosts4 = new Map<number, HostEntry>();
  readonly hosts6 = new Map<string, HostEntry>();
  readonly hostOther = new Float64Array(6);
  readonly ports = new Map<number, PortEntry>();
  readonly portOther = new Float64Array(12);
  readonly exporters = new Map<string, ExporterEntry>();
  records = 0;
  late = 0;
  hostOverflow = 0;
  portOverflow = 0;
  exporterOverflow = 0;

  constructor(readonly k: number, groupCount: number, private readonly limits: WindowLimits) {
    this.groups = new Float64Array(Math.max(groupCount, 1) * 6);
  }

  /**
   * Adds one portion (already renormalized by the sampling rate) of a record. `isLast` marks the
   * portion that counts the record itself, so `records` counts each record once.
   */
  add(rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number,
    b: number, p: number, f: number, isLast: boolean): void {
    const d3 = direction * 3;
    add3(this.dir, d3, b, p, f);
    add3(this.proto, (rec.protocol & 255) * 12 + d3, b, p, f);
    if (isLast) this.records++;

    const pkey = ((rec.protocol & 255) << 16) | servicePort(rec.protocol, rec.srcPort, rec.dstPort);
    let pe = this.ports.get(pkey);
    if (pe === undefined && this.ports.size < this.limits.maxPorts) {
      pe = new PortEntry();
      this.ports.set(pkey, pe);
    }
    if (pe !== undefined) add3(pe.v, d3, b, p, f);
    else {
      add3(this.portOther, d3, b, p, f);
      if (isLast) this.portOverflow++;
    }

    if (direction === D_OUT || direction === D_INTERNAL) {
      this.addHost(rec, true, srcGroup, H_OUT, b, p, f, isLast);
      if (srcGroup >= 0) add3(this.groups, srcGroup * 6 + H_OUT, b, p, f);
    }
    if (direction === D_IN || direction === D_INTERNAL) {
      this.addHost(rec, false, dstGroup, H_IN, b, p, f, isLast);
      if (dstGroup >= 0) add3(this.groups, dstGroup * 6 + H_IN, b, p, f);
    }

    if (this.limits.perExporter) {
      let ee = this.exporters.get(rec.exporter);
      if (ee === undefined && this.exporters.size < this.limits.maxExporters) {
        ee = new ExporterEntry();
        this.exporters.set(rec.exporter, ee);
      }
      if (ee !== undefined) {
        add3(ee.v, 0, b, p, f);
        if (isLast) ee.v[3]!++;
      } else if (isLast) this.exporterOverflow++;
    }
  }

  private addHost(rec: FlowRecord, src: boolean, group: number, at: number,
    b: number, p: number, f: number, isLast: boolean): void {
    let he: HostEntry | undefined;
    const full = this.hosts4.size + this.hosts6.size >= this.limits.maxHosts;
    if (rec.ipVersion === IpVersion.V6) {
      const key = (src ? rec.src6 : rec.dst6).toString('hex');
      he = this.hosts6.get(key);
      if (he === undefined && !full) {
        he = new HostEntry(group);
        this.hosts6.set(key, he);
      }
    } else {
      const key = src ? rec.src4 : rec.dst4;
      he = this.hosts4.get(key);
      if (he === undefined && !full) {
        he = new HostEntry(group);
        this.hosts4.set(key, he);
      }
    }
    if (he !== undefined) add3(he.v, at, b, p, f);
    else {
      add3(this.hostOther, at, b, p, f);
      if (isLast) this.hostOverflow++;
    }
  }

  summarize(intervalMs: number, topHosts: number, topPorts: number, groupNames: readonly string[],
    collector: Record<string, number>): IntervalSummary {
    const secs = intervalMs / 1000;
    const start = (this.k * intervalMs) / 1000;
    const directions = {} as Record<(typeof DIRECTIONS)[number], RateTotals>;
    DIRECTIONS.forEach((name, d) => {
      const t = totals(this.dir, d * 3);
      directions[name] = { ...t, bps: (t.bytes * 8) / secs, pps: t.packets / secs };
    });

    // hosts: top N receivers and top N senders, the rest into hostsOther
    const hostList: { host: string; e: HostEntry }[] = [];
    for (const [k, e] of this.hosts4) hostList.push({ host: ipv4ToString(k), e });
    for (const [k, e] of this.hosts6) hostList.push({ host: ipv6ToString(Buffer.from(k, 'hex')), e });
    const hosts: HostRow[] = [];
    const hostsOther = { in: totals(this.hostOther, H_IN), out: totals(this.hostOther, H_OUT) };
    for (const [direction, at] of [['in', H_IN], ['out', H_OUT]] as [HostDirection, number][]) {
      const rows = hostList.filter((h) => h.e.v[at + BYTES]! > 0 || h.e.v[at + PKTS]! > 0 || h.e.v[at + FLOWS]! > 0)
        .sort((a, b) => b.e.v[at + BYTES]! - a.e.v[at + BYTES]! || (a.host < b.host ? -1 : 1));
      rows.forEach((h, i) => {
        const t = totals(h.e.v, at);
        if (i < topHosts) hosts.push({ host: h.host, group: groupNames[h.e.group] ?? '', direction, ...t });
        else addTotals(hostsOther[direction], t);
      });
    }

    const ports: PortRow[] = [];
    const portsOther = {} as Record<(typeof DIRECTIONS)[number], Totals>;
    DIRECTIONS.forEach((direction, d) => {
      portsOther[direction] = totals(this.portOther, d * 3);
      const rows: PortRow[] = [];
      for (const [k, e] of this.ports) {
        if (e.v[d * 3 + BYTES] === 0 && e.v[d * 3 + PKTS] === 0 && e.v[d * 3 + FLOWS] === 0) continue;
        rows.push({ protocol: protocolName(k >>> 16), port: k & 0xffff, direction, ...totals(e.v, d * 3) });
      }
      rows.sort((a, b) => b.bytes - a.bytes || a.protocol.localeCompare(b.protocol) || a.port - b.port);
      rows.forEach((r, i) => (i < topPorts ? ports.push(r) : addTotals(portsOther[direction], r)));
    });

    const protocols: ProtocolRow[] = [];
    for (let pr = 0; pr < 256; pr++) {
      DIRECTIONS.forEach((direction, d) => {
        const at = pr * 12 + d * 3;
        if (this.proto[at + BYTES] || this.proto[at + PKTS] || this.proto[at + FLOWS]) {
          protocols.push({ protocol: protocolName(pr), direction, ...totals(this.proto, at) });
        }
      });
    }

    const groups: GroupRow[] = [];
    groupNames.forEach((group, g) => {
      for (const [direction, at] of [['in', H_IN], ['out', H_OUT]] as [HostDirection, number][]) {
        const t = totals(this.groups, g * 6 + at);
        if (t.bytes || t.packets || t.flows) groups.push({ group, direction, ...t });
      }
    });

    const exporters: ExporterRow[] = [];
    for (const [exporter, e] of this.exporters) {
      exporters.push({ exporter, ...totals(e.v, 0), records: e.v[3]! });
    }
    exporters.sort((a, b) => b.bytes - a.bytes || (a.exporter < b.exporter ? -1 : 1));

    return {
      start, end: start + secs, interval: secs, directions, hosts, hostsOther, ports, portsOther, protocols,
      groups, exporters,
      stats: {
        records: this.records, late: this.late, hostOverflow: this.hostOverflow,
        portOverflow: this.portOverflow, exporterOverflow: this.exporterOverflow, collector,
      },
    };
  }
}

function addTotals(into: Totals, t: Totals): void {
  into.bytes += t.bytes;
  into.packets += t.packets;
  into.flows += t.flows;
}
