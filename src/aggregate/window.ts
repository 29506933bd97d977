// One interval's accumulators. Counters are flat Float64Arrays indexed by direction*3 + metric; hosts
// and ports are counted at the ids that the shared OpenKeys gave the record once (keyindex.ts), so the
// per-portion path is arithmetic, with no allocation and no hashing; strings are built only in
// summarize().
import { IpVersion, ipv4ToString, ipv6ToString, type FlowRecord } from '../flow/record.js';
import { servicePort } from '../flow/keys.js';
import { Direction, DIRECTION_NAMES, type DirectionName } from '../classify/direction.js';
import {
  protocolName, saturate,
  type ExporterRow, type GroupRow, type HostDirection, type HostRow, type IntervalSummary, type PortRow,
  type ProtocolRow, type RateTotals, type Totals,
} from './summary.js';
import { compactIndex, Counters, KeyIndex, PAGE_BITS, PAGE_MASK, PagePool, word } from './keyindex.js';
import { OpenViews, summarizeViews, syncViewCounters, type ViewCounters } from './views.js';

// metric offsets inside a direction's triple
const BYTES = 0, PKTS = 1, FLOWS = 2;
// host/group triples: received (in) first, sent (out) second
const H_IN = 0, H_OUT = 3;

export interface WindowLimits {
  maxHosts: number;
  maxPorts: number;
  maxExporters: number;
  perExporter: boolean;
}

/**
 * The host and port ids of the open intervals, shared by them: at most `maxHosts` local hosts and
 * `maxPorts` ports across the intervals still open; ids no open interval uses are dropped when one closes.
 * prepare() also works out, once per record, the offsets every interval it spans adds at.
 */
export class OpenKeys {
  readonly hosts4: KeyIndex;
  readonly hosts6: KeyIndex;
  readonly ports: KeyIndex;
  /** the windows' counter pages, passed from a closed interval to the next */
  readonly hostPages: PagePool;
  readonly portPages: PagePool;
  /** the configured views: their tuple ids, and the tuples of the prepared record */
  readonly views: OpenViews;
  // the prepared record: offsets into a window's counter pages; -1 = overflow ("other"), -2 = not counted
  rec: FlowRecord | undefined;
  /** direction * 3, the offset of its triple */
  d3 = 0;
  protoAt = 0;
  port = -1;
  portAt = 0;
  v6 = false;
  src = -2;
  srcAt = 0;
  srcGroupAt = -1;
  dst = -2;
  dstAt = 0;
  dstGroupAt = -1;

  constructor(private readonly maxHosts: number, maxPorts: number, maxViewTuples: number) {
    this.views = new OpenViews(maxViewTuples);
    this.hosts4 = new KeyIndex(1, maxHosts);
    this.hosts6 = new KeyIndex(4, maxHosts, 6);
    this.ports = new KeyIndex(1, maxPorts, 8);
    // a page for every id an index can hold; as many kept free
    this.hostPages = new PagePool(6, (maxHosts >>> PAGE_BITS) + 1);
    this.portPages = new PagePool(12, (maxPorts >>> PAGE_BITS) + 1);
  }

  /** Looks up the record's ids: local hosts by the direction (out: source, in: destination, internal: both). */
  prepare(rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number): void {
    const d3 = direction * 3;
    this.rec = rec;
    this.d3 = d3;
    this.protoAt = (rec.protocol & 255) * 12 + d3;
    this.port = this.ports.find1(portKey(rec), 0, true);
    this.portAt = (this.port & PAGE_MASK) * 12 + d3;
    this.v6 = rec.ipVersion === IpVersion.V6;
    if (direction === Direction.Out || direction === Direction.Internal) {
      this.src = this.host(rec, true, srcGroup);
      this.srcAt = (this.src & PAGE_MASK) * 6 + H_OUT;
      this.srcGroupAt = srcGroup >= 0 ? srcGroup * 6 + H_OUT : -1;
    } else this.src = -2;
    if (direction === Direction.In || direction === Direction.Internal) {
      this.dst = this.host(rec, false, dstGroup);
      this.dstAt = (this.dst & PAGE_MASK) * 6 + H_IN;
      this.dstGroupAt = dstGroup >= 0 ? dstGroup * 6 + H_IN : -1;
    } else this.dst = -2;
    this.views.prepare(rec, direction, srcGroup, dstGroup);
  }

  /** Id of the record's source (`src`) or destination host, in hosts6 for IPv6 else hosts4; -1 = full. */
  private host(rec: FlowRecord, src: boolean, group: number): number {
    const h4 = this.hosts4, h6 = this.hosts6;
    const room = h4.size + h6.size < this.maxHosts;
    if (rec.ipVersion === IpVersion.V6) {
      const a = src ? rec.src6 : rec.dst6;
      return h6.find4(word(a, 0), word(a, 4), word(a, 8), word(a, 12), group, room);
    }
    return h4.find1((src ? rec.src4 : rec.dst4) | 0, group, room);
  }

  /** Drops the ids that none of `windows` uses, where worth it (called between records: ids change). */
  compact(windows: Iterable<Window>): void {
    const ws = [...windows];
    if (this.hosts4.crowded()) compactIndex(this.hosts4, ws.map((w) => w.hosts4));
    if (this.hosts6.crowded()) compactIndex(this.hosts6, ws.map((w) => w.hosts6));
    if (this.ports.crowded()) compactIndex(this.ports, ws.map((w) => w.ports));
    this.views.compact(ws.map((w) => w.views));
  }
}

/** The port table key of a record: (protocol << 16) | service port. */
export function portKey(rec: FlowRecord): number {
  const proto = rec.protocol & 255;
  return (proto << 16) | servicePort(proto, rec.srcPort, rec.dstPort);
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
  /** per home group: received then sent triples; grows when a reload adds groups */
  groups: Float64Array;
  /** per host id of keys.hosts4 / keys.hosts6: received then sent triples */
  readonly hosts4: Counters;
  readonly hosts6: Counters;
  readonly hostOther = new Float64Array(6);
  /** per port id of keys.ports: one triple per direction */
  readonly ports: Counters;
  readonly portOther = new Float64Array(12);
  /** exporter -> bytes, packets, flows, records */
  readonly exporters = new Map<string, Float64Array>();
  /** per view of keys.views, in its order (syncViews after a reload) */
  views: ViewCounters[];
  /** the last exporter looked up: records of one datagram share the exporter string */
  private lastExporter = '';
  private lastEntry: Float64Array | undefined;
  records = 0;
  late = 0;
  hostOverflow = 0;
  portOverflow = 0;
  exporterOverflow = 0;

  private readonly perExporter: boolean;
  private readonly maxExporters: number;

  constructor(public k: number, groupCount: number, limits: WindowLimits, private readonly keys: OpenKeys) {
    this.hosts4 = new Counters(keys.hostPages);
    this.hosts6 = new Counters(keys.hostPages);
    this.ports = new Counters(keys.portPages);
    this.perExporter = limits.perExporter;
    this.maxExporters = limits.maxExporters;
    this.groups = new Float64Array(Math.max(groupCount, 1) * 6);
    this.views = syncViewCounters([], keys.views.views);
  }

  /** Follows a change of the configured views: kept views keep their counts, new ones start empty. */
  syncViews(): void {
    this.views = syncViewCounters(this.views, this.keys.views.views);
  }

  /**
   * Empties the window for reuse as interval `k`, keeping its arrays: a closed interval's window serves
   * the next one, so the steady state allocates no counter arrays (freed and reallocated every
   * interval, they fragmented the allocator's heap and grew RSS). NaN marks a spare window.
   */
  reset(k: number): void {
    this.k = k;
    this.dir.fill(0);
    this.proto.fill(0);
    this.groups.fill(0);
    this.hosts4.reset();
    this.hosts6.reset();
    this.hostOther.fill(0);
    this.ports.reset();
    this.portOther.fill(0);
    this.exporters.clear();
    for (const v of this.views) v.reset();
    this.syncViews();
    this.lastExporter = '';
    this.lastEntry = undefined;
    this.records = this.late = this.hostOverflow = this.portOverflow = this.exporterOverflow = 0;
  }

  /** Makes room for `count` groups (a reload appended some); what is counted stays. */
  growGroups(count: number): void {
    if (count * 6 <= this.groups.length) return;
    const g = new Float64Array(count * 6);
    g.set(this.groups);
    this.groups = g;
  }

  /**
   * Adds one portion (already renormalized by the sampling rate) of the record the shared OpenKeys
   * prepared. `isLast` marks the portion that counts the record itself, so `records` counts each
   * record once.
   */
  add(b: number, p: number, f: number, isLast: boolean): void {
    const c = this.keys, d3 = c.d3;
    const dir = this.dir;
    dir[d3] += b; dir[d3 + 1] += p; dir[d3 + 2] += f;
    const pa = c.protoAt, pr = this.proto;
    pr[pa] += b; pr[pa + 1] += p; pr[pa + 2] += f;
    if (isLast) this.records++;
    const vs = this.views;
    for (let i = 0; i < vs.length; i++) vs[i]!.add(b, p, f, isLast);

    if (c.port >= 0) {
      const v = this.ports.at(c.port), at = c.portAt;
      v[at] += b; v[at + 1] += p; v[at + 2] += f;
    } else {
      add3(this.portOther, d3, b, p, f);
      if (isLast) this.portOverflow++;
    }

    if (c.src !== -2) {
      this.addHost(c.v6, c.src, c.srcAt, H_OUT, b, p, f, isLast);
      if (c.srcGroupAt >= 0) add3(this.groups, c.srcGroupAt, b, p, f);
    }
    if (c.dst !== -2) {
      this.addHost(c.v6, c.dst, c.dstAt, H_IN, b, p, f, isLast);
      if (c.dstGroupAt >= 0) add3(this.groups, c.dstGroupAt, b, p, f);
    }

    if (this.perExporter) {
      const exporter = c.rec!.exporter;
      let ee = this.lastEntry;
      if (exporter !== this.lastExporter || ee === undefined) {
        ee = this.exporters.get(exporter);
        if (ee === undefined && this.exporters.size < this.maxExporters) {
          ee = new Float64Array(4);
          this.exporters.set(exporter, ee);
        }
        this.lastExporter = exporter;
        this.lastEntry = ee;
      }
      if (ee !== undefined) {
        ee[0] += b; ee[1] += p; ee[2] += f;
        if (isLast) ee[3]++;
      } else if (isLast) this.exporterOverflow++;
    }
  }

  /** A host's triple at `o` (its id's offset), or "other" at `at` when the table was full (id -1). */
  private addHost(v6: boolean, id: number, o: number, at: number, b: number, p: number, f: number, isLast: boolean): void {
    if (id >= 0) {
      const v = (v6 ? this.hosts6 : this.hosts4).at(id);
      v[o] += b; v[o + 1] += p; v[o + 2] += f;
    } else {
      add3(this.hostOther, at, b, p, f);
      if (isLast) this.hostOverflow++;
    }
  }

  summarize(intervalMs: number, topHosts: number, topPorts: number, groupNames: readonly string[],
    collector: Record<string, number>): IntervalSummary {
    const secs = intervalMs / 1000;
    const start = (this.k * intervalMs) / 1000;
    const directions = {} as Record<DirectionName, RateTotals>;
    DIRECTION_NAMES.forEach((name, d) => {
      const t = totals(this.dir, d * 3);
      directions[name] = { ...t, bps: (t.bytes * 8) / secs, pps: t.packets / secs };
    });

    // hosts: top N receivers and top N senders, the rest into hostsOther
    const hostList: { host: string; group: number; v: Float64Array }[] = [];
    const h4 = this.keys.hosts4, h6 = this.keys.hosts6, a6 = new Uint8Array(16);
    const c4 = this.hosts4, c6 = this.hosts6;
    for (let e = 0; e < h4.size; e++) {
      if (!c4.has(e)) continue;
      hostList.push({ host: ipv4ToString(h4.keys[e]! >>> 0), group: h4.tags[e]!, v: c4.view(e)! });
    }
    for (let e = 0; e < h6.size; e++) {
      if (!c6.has(e)) continue;
      for (let w = 0; w < 4; w++) {
        const x = h6.keys[e * 4 + w]!;
        a6[w * 4] = x >>> 24; a6[w * 4 + 1] = (x >>> 16) & 255; a6[w * 4 + 2] = (x >>> 8) & 255; a6[w * 4 + 3] = x & 255;
      }
      hostList.push({ host: ipv6ToString(a6), group: h6.tags[e]!, v: c6.view(e)! });
    }
    const hosts: HostRow[] = [];
    const hostsOther = { in: totals(this.hostOther, H_IN), out: totals(this.hostOther, H_OUT) };
    for (const [direction, at] of [['in', H_IN], ['out', H_OUT]] as [HostDirection, number][]) {
      const rows = hostList.filter((h) => h.v[at + BYTES]! > 0 || h.v[at + PKTS]! > 0 || h.v[at + FLOWS]! > 0)
        .sort((a, b) => b.v[at + BYTES]! - a.v[at + BYTES]! || (a.host < b.host ? -1 : 1));
      rows.forEach((h, i) => {
        const t = totals(h.v, at);
        if (i < topHosts) hosts.push({ host: h.host, group: groupNames[h.group] ?? '', direction, ...t });
        else addTotals(hostsOther[direction], t);
      });
    }

    const ports: PortRow[] = [];
    const portsOther = {} as Record<DirectionName, Totals>;
    DIRECTION_NAMES.forEach((direction, d) => {
      portsOther[direction] = totals(this.portOther, d * 3);
      const rows: PortRow[] = [];
      const pt = this.keys.ports, pages = this.ports.pages;
      for (let e = 0; e < pt.size; e++) {
        const v = pages[e >>> PAGE_BITS]!;
        if (v.length === 0) {
          e |= PAGE_MASK; // the whole page is empty
          continue;
        }
        const at = (e & PAGE_MASK) * 12 + d * 3, k = pt.keys[e]!;
        if (v[at + BYTES] === 0 && v[at + PKTS] === 0 && v[at + FLOWS] === 0) continue;
        rows.push({ protocol: protocolName(k >>> 16), port: k & 0xffff, direction, ...totals(v, at) });
      }
      rows.sort((a, b) => b.bytes - a.bytes || a.protocol.localeCompare(b.protocol) || a.port - b.port);
      rows.forEach((r, i) => (i < topPorts ? ports.push(r) : addTotals(portsOther[direction], r)));
    });

    const protocols: ProtocolRow[] = [];
    for (let pr = 0; pr < 256; pr++) {
      DIRECTION_NAMES.forEach((direction, d) => {
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
      exporters.push({ exporter, ...totals(e, 0), records: e[3]! });
    }
    exporters.sort((a, b) => b.bytes - a.bytes || (a.exporter < b.exporter ? -1 : 1));

    const v = summarizeViews(this.views, this.keys.views.exporters, groupNames);
    const summary: IntervalSummary = {
      start, end: start + secs, interval: secs, directions, hosts, hostsOther, ports, portsOther, protocols,
      groups, exporters,
      // only when views are configured: none are by default
      ...(this.views.length > 0 ? { views: v.views, viewsOther: v.viewsOther } : {}),
      stats: {
        records: this.records, late: this.late, hostOverflow: this.hostOverflow,
        portOverflow: this.portOverflow, exporterOverflow: this.exporterOverflow, collector,
      },
    };
    if (Object.keys(v.capped).length > 0) summary.stats.viewTuplesCapped = v.capped;
    saturate(summary);
    return summary;
  }
}

function addTotals(into: Totals, t: Totals): void {
  into.bytes += t.bytes;
  into.packets += t.packets;
  into.flows += t.flows;
}
