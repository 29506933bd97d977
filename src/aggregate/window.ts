// One interval's accumulators. Counters are flat Float64Arrays indexed by direction*3 + metric and the
// host and port tables are integer-keyed hashes on typed arrays, so the per-record path is arithmetic
// and probes, with no allocation; strings are built only in summarize().
import { IpVersion, ipv4ToString, ipv6ToString, type FlowRecord } from '../flow/record.js';
import {
  DIRECTIONS, protocolName,
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

/**
 * Open-addressing hash of integer keys (one int32, or four for an IPv6 address) to dense entries of
 * `stride` doubles, on typed arrays: no object per entry and no string keys, so the per-record path is
 * a multiply, a probe or two and arithmetic. A one-word key sits in its slot beside the entry index, so
 * a probe touches one cache line. Entries are never removed (a window lives one interval); at most
 * `max` are created, after which find() returns -1 and the caller counts an overflow.
 */
export class KeyTable {
  size = 0;
  /** per entry: its key words */
  keys: Int32Array;
  /** per entry: `stride` accumulators */
  vals: Float64Array;
  /** per entry: the home group (hosts) */
  tags: Int32Array;
  /** per slot: [key, entry index + 1] for one-word keys, [entry index + 1] for four; 0 = empty */
  private slots: Int32Array;
  private bits: number;
  private cap: number;

  constructor(readonly width: 1 | 4, readonly stride: number, readonly max: number, initialBits = 10) {
    this.bits = initialBits;
    this.slots = new Int32Array((width === 1 ? 2 : 1) << initialBits);
    this.cap = Math.min(max, 1 << (initialBits - 1));
    this.keys = new Int32Array(this.cap * width);
    this.vals = new Float64Array(this.cap * stride);
    this.tags = new Int32Array(this.cap);
  }

  /** Entry of a one-word key, created (with `tag`) when absent and `create`; else -1. */
  find1(k: number, tag: number, create: boolean): number {
    const slots = this.slots, mask = (1 << this.bits) - 1;
    let i = Math.imul(k, 0x9e3779b1) >>> (32 - this.bits);
    for (;;) {
      const e = slots[2 * i + 1]!;
      if (e === 0) break;
      if (slots[2 * i] === k) return e - 1;
      i = (i + 1) & mask;
    }
    if (!create || this.size >= this.max) return -1;
    const e = this.add(tag);
    this.keys[e] = k;
    slots[2 * i] = k;
    slots[2 * i + 1] = e + 1;
    this.checkLoad();
    return e;
  }

  /** Entry of a four-word key (IPv6 address), as find1. */
  find4(a: number, b: number, c: number, d: number, tag: number, create: boolean): number {
    const slots = this.slots, keys = this.keys, mask = slots.length - 1;
    let i = hash4(a, b, c, d) >>> (32 - this.bits);
    for (;;) {
      const e = slots[i]!;
      if (e === 0) break;
      const at = (e - 1) * 4;
      if (keys[at] === a && keys[at + 1] === b && keys[at + 2] === c && keys[at + 3] === d) return e - 1;
      i = (i + 1) & mask;
    }
    if (!create || this.size >= this.max) return -1;
    const e = this.add(tag), at = e * 4;
    this.keys[at] = a; this.keys[at + 1] = b; this.keys[at + 2] = c; this.keys[at + 3] = d;
    slots[i] = e + 1;
    this.checkLoad();
    return e;
  }

  private add(tag: number): number {
    if (this.size === this.cap) this.growEntries();
    this.tags[this.size] = tag;
    return this.size++;
  }

  /** Keeps the load at or below one half. */
  private checkLoad(): void {
    if (this.size * 2 > 1 << this.bits) this.rehash();
  }

  private growEntries(): void {
    const cap = Math.min(this.max, this.cap * 2), w = this.width, st = this.stride;
    const keys = new Int32Array(cap * w), vals = new Float64Array(cap * st), tags = new Int32Array(cap);
    keys.set(this.keys);
    vals.set(this.vals);
    tags.set(this.tags);
    this.keys = keys; this.vals = vals; this.tags = tags; this.cap = cap;
  }

  private rehash(): void {
    this.bits++;
    const one = this.width === 1, n = 1 << this.bits, mask = n - 1, keys = this.keys;
    const slots = new Int32Array(one ? 2 * n : n);
    for (let e = 0; e < this.size; e++) {
      if (one) {
        const k = keys[e]!;
        let i = Math.imul(k, 0x9e3779b1) >>> (32 - this.bits);
        while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
        slots[2 * i] = k;
        slots[2 * i + 1] = e + 1;
      } else {
        const at = e * 4;
        let i = hash4(keys[at]!, keys[at + 1]!, keys[at + 2]!, keys[at + 3]!) >>> (32 - this.bits);
        while (slots[i] !== 0) i = (i + 1) & mask;
        slots[i] = e + 1;
      }
    }
    this.slots = slots;
  }
}

function hash4(a: number, b: number, c: number, d: number): number {
  return Math.imul(a ^ Math.imul(b, 0x85ebca6b) ^ Math.imul(c, 0xc2b2ae35) ^ Math.imul(d, 0x27d4eb2f), 0x9e3779b1);
}

/** A big-endian 32-bit word of an IPv6 address, as a signed int32 key word. */
function word(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

/** The port table key of a record: (protocol << 16) | service port. */
export function portKey(rec: FlowRecord): number {
  const proto = rec.protocol & 255;
  return (proto << 16) | service(proto, rec.srcPort, rec.dstPort);
}

/** The service port (summary.ts servicePort, inlined for the per-record path; same rule). */
function service(protocol: number, src: number, dst: number): number {
  if (protocol !== 6 && protocol !== 17 && protocol !== 132 && protocol !== 33 && protocol !== 136) return 0;
  if (src === 0) return dst;
  if (dst === 0) return src;
  return src < dst ? src : dst;
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
  /** local hosts: IPv4 keyed by the address as int32, IPv6 by its four words; tag = home group */
  readonly hosts4: KeyTable;
  readonly hosts6: KeyTable;
  readonly hostOther = new Float64Array(6);
  /** key (protocol << 16) | service port */
  readonly ports: KeyTable;
  readonly portOther = new Float64Array(12);
  /** exporter -> bytes, packets, flows, records */
  readonly exporters = new Map<string, Float64Array>();
  /** the last exporter looked up: records of one datagram share the exporter string */
  private lastExporter = '';
  private lastEntry: Float64Array | undefined;
  records = 0;
  late = 0;
  hostOverflow = 0;
  portOverflow = 0;
  exporterOverflow = 0;

  private readonly perExporter: boolean;
  private readonly maxHosts: number;
  private readonly maxExporters: number;

  constructor(readonly k: number, groupCount: number, limits: WindowLimits) {
    this.perExporter = limits.perExporter;
    this.maxHosts = limits.maxHosts;
    this.maxExporters = limits.maxExporters;
    this.groups = new Float64Array(Math.max(groupCount, 1) * 6);
    this.hosts4 = new KeyTable(1, 6, limits.maxHosts);
    this.hosts6 = new KeyTable(4, 6, limits.maxHosts, 6);
    this.ports = new KeyTable(1, 12, limits.maxPorts, 8);
  }

  /** Makes room for `count` groups (a reload appended some); what is counted stays. */
  growGroups(count: number): void {
    if (count * 6 <= this.groups.length) return;
    const g = new Float64Array(count * 6);
    g.set(this.groups);
    this.groups = g;
  }

  /**
   * Adds one portion (already renormalized by the sampling rate) of a record. `isLast` marks the
   * portion that counts the record itself, so `records` counts each record once. `portKey` is
   * portKey(rec), computed once per record by the caller (a spread record has several portions).
   */
  add(rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number,
    b: number, p: number, f: number, isLast: boolean, portKey: number): void {
    const d3 = direction * 3;
    const dir = this.dir;
    dir[d3] += b; dir[d3 + 1] += p; dir[d3 + 2] += f;
    const pa = (portKey >>> 16) * 12 + d3, pr = this.proto;
    pr[pa] += b; pr[pa + 1] += p; pr[pa + 2] += f;
    if (isLast) this.records++;

    const ports = this.ports;
    const pe = ports.find1(portKey, 0, true);
    if (pe >= 0) {
      const v = ports.vals, at = pe * 12 + d3;
      v[at] += b; v[at + 1] += p; v[at + 2] += f;
    } else {
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

    if (this.perExporter) {
      let ee = this.lastEntry;
      if (rec.exporter !== this.lastExporter || ee === undefined) {
        ee = this.exporters.get(rec.exporter);
        if (ee === undefined && this.exporters.size < this.maxExporters) {
          ee = new Float64Array(4);
          this.exporters.set(rec.exporter, ee);
        }
        this.lastExporter = rec.exporter;
        this.lastEntry = ee;
      }
      if (ee !== undefined) {
        ee[0] += b; ee[1] += p; ee[2] += f;
        if (isLast) ee[3]++;
      } else if (isLast) this.exporterOverflow++;
    }
  }

  private addHost(rec: FlowRecord, src: boolean, group: number, at: number,
    b: number, p: number, f: number, isLast: boolean): void {
    const h4 = this.hosts4, h6 = this.hosts6;
    const room = h4.size + h6.size < this.maxHosts;
    let t: KeyTable, e: number;
    if (rec.ipVersion === IpVersion.V6) {
      const a = src ? rec.src6 : rec.dst6;
      t = h6;
      e = h6.find4(word(a, 0), word(a, 4), word(a, 8), word(a, 12), group, room);
    } else {
      t = h4;
      e = h4.find1((src ? rec.src4 : rec.dst4) | 0, group, room);
    }
    if (e >= 0) {
      const v = t.vals, o = e * 6 + at;
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
    const directions = {} as Record<(typeof DIRECTIONS)[number], RateTotals>;
    DIRECTIONS.forEach((name, d) => {
      const t = totals(this.dir, d * 3);
      directions[name] = { ...t, bps: (t.bytes * 8) / secs, pps: t.packets / secs };
    });

    // hosts: top N receivers and top N senders, the rest into hostsOther
    const hostList: { host: string; group: number; v: Float64Array }[] = [];
    const h4 = this.hosts4, h6 = this.hosts6, a6 = new Uint8Array(16);
    for (let e = 0; e < h4.size; e++) {
      hostList.push({ host: ipv4ToString(h4.keys[e]! >>> 0), group: h4.tags[e]!, v: h4.vals.subarray(e * 6, e * 6 + 6) });
    }
    for (let e = 0; e < h6.size; e++) {
      for (let w = 0; w < 4; w++) {
        const x = h6.keys[e * 4 + w]!;
        a6[w * 4] = x >>> 24; a6[w * 4 + 1] = (x >>> 16) & 255; a6[w * 4 + 2] = (x >>> 8) & 255; a6[w * 4 + 3] = x & 255;
      }
      hostList.push({ host: ipv6ToString(a6), group: h6.tags[e]!, v: h6.vals.subarray(e * 6, e * 6 + 6) });
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
    const portsOther = {} as Record<(typeof DIRECTIONS)[number], Totals>;
    DIRECTIONS.forEach((direction, d) => {
      portsOther[direction] = totals(this.portOther, d * 3);
      const rows: PortRow[] = [];
      const pt = this.ports, v = pt.vals;
      for (let e = 0; e < pt.size; e++) {
        const at = e * 12 + d * 3, k = pt.keys[e]!;
        if (v[at + BYTES] === 0 && v[at + PKTS] === 0 && v[at + FLOWS] === 0) continue;
        rows.push({ protocol: protocolName(k >>> 16), port: k & 0xffff, direction, ...totals(v, at) });
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
      exporters.push({ exporter, ...totals(e, 0), records: e[3]! });
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
