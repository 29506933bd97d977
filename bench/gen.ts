// Synthetic exporter datagrams for benchmarks and drills: NetFlow v5, v9, IPFIX and sFlow v5 built from
// one traffic model (Zipf-distributed local hosts, remote hosts and service ports, a share of IPv6, an
// optional spoofed-source flood). Deterministic for a seed. The buffer is reused between calls: copy
// what you keep.

import type { IntervalSummary } from '../src/aggregate/summary.js';

/** xorshift32: fast, seedable, good enough to shape traffic. */
export class Rng {
  private s: number;
  constructor(seed = 1) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (this.s = x >>> 0);
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
}

/** Zipf(s) over ranks 0..n-1 (rank 0 the most frequent), sampled by binary search in the CDF. */
export class Zipf {
  private readonly cdf: Float64Array;
  constructor(readonly n: number, s: number, private readonly rng: Rng) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) this.cdf[i] = sum += 1 / Math.pow(i + 1, s);
    for (let i = 0; i < n; i++) this.cdf[i]! /= sum;
  }
  next(): number {
    const u = this.rng.float(), c = this.cdf;
    let lo = 0, hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export interface TrafficOptions {
  seed: number;
  /** local hosts, inside 10.1.0.0/16 and 2001:db8:1::/48 (the fixtures' home networks) */
  localHosts: number;
  remoteHosts: number;
  /** Zipf exponent for hosts and service ports */
  zipf: number;
  /** share of records that are IPv6 (not NetFlow v5, which carries IPv4 only) */
  v6Share: number;
  /** share of records from a spoofed source: a fresh random address inside 10.1.0.0/16, towards a remote host */
  spoofShare: number;
  /** sampling rate the exporter reports (sFlow samples, v5 header); 1 = unsampled */
  samplingRate: number;
}

export const TRAFFIC_DEFAULTS: Readonly<TrafficOptions> = Object.freeze({
  seed: 1, localHosts: 20_000, remoteHosts: 50_000, zipf: 0.9, v6Share: 0.1, spoofShare: 0, samplingRate: 1,
});

const SERVICES = [443, 80, 53, 22, 123, 993, 25, 587, 3389, 8080, 8443, 445, 5060, 1194, 51820, 3306, 5432,
  6379, 9200, 5222, 1935, 554, 161, 514, 389, 636, 21, 179, 3478, 5353, 1900, 8000, 8888, 9000, 11211, 143,
  110, 27017, 2049, 873];

/** One flow as the model draws it; addresses v4 as uint32, v6 as 16 bytes. */
export class Flow {
  v6 = false;
  src4 = 0; dst4 = 0;
  readonly src6 = new Uint8Array(16);
  readonly dst6 = new Uint8Array(16);
  srcPort = 0; dstPort = 0; protocol = 6; tcpFlags = 0;
  packets = 1; bytes = 64;
  /** epoch ms */
  startMs = 0; endMs = 0;
  inIf = 1; outIf = 2;
}

export class TrafficModel {
  readonly o: TrafficOptions;
  readonly rng: Rng;
  private readonly locals: Zipf;
  private readonly remotes: Zipf;
  private readonly services: Zipf;
  readonly flow = new Flow();

  constructor(opts: Partial<TrafficOptions> = {}) {
    this.o = { ...TRAFFIC_DEFAULTS, ...opts };
    if (this.o.localHosts > 65_000) throw new RangeError('at most 65,000 local hosts (one /16)');
    this.rng = new Rng(this.o.seed);
    this.locals = new Zipf(this.o.localHosts, this.o.zipf, this.rng);
    this.remotes = new Zipf(this.o.remoteHosts, this.o.zipf, this.rng);
    this.services = new Zipf(SERVICES.length, 1.2, this.rng);
  }

  /** Draws the next flow into this.flow, ending up to 5 s before `nowMs`; `v4only` for NetFlow v5. */
  next(nowMs: number, v4only = false): Flow {
    const f = this.flow, rng = this.rng, o = this.o;
    f.v6 = !v4only && rng.float() < o.v6Share;
    const spoof = o.spoofShare > 0 && rng.float() < o.spoofShare;
    // direction mix: 40 % in, 40 % out, 10 % internal, 10 % transit
    const d = rng.float();
    const srcLocal = spoof || (d >= 0.4 && d < 0.9), dstLocal = !spoof && (d < 0.4 || (d >= 0.8 && d < 0.9));
    const s = srcLocal ? this.locals.next() : this.remotes.next();
    const t = dstLocal ? this.locals.next() : this.remotes.next();
    if (f.v6) {
      addr6(f.src6, srcLocal, spoof ? rng.u32() & 0xffff : s);
      addr6(f.dst6, dstLocal, t);
    } else {
      f.src4 = spoof ? (0x0a010000 | (rng.u32() & 0xffff)) >>> 0 : addr4(srcLocal, s);
      f.dst4 = addr4(dstLocal, t);
    }
    const p = rng.float();
    f.protocol = p < 0.72 ? 6 : p < 0.95 ? 17 : p < 0.98 ? (f.v6 ? 58 : 1) : p < 0.99 ? 47 : 50;
    const service = SERVICES[this.services.next()]!, client = 32768 + rng.int(28232);
    if (f.protocol === 6 || f.protocol === 17) {
      if (rng.float() < 0.5) { f.srcPort = client; f.dstPort = service; } else { f.srcPort = service; f.dstPort = client; }
    } else {
      f.srcPort = 0;
      f.dstPort = f.protocol === 1 || f.protocol === 58 ? (rng.float() < 0.8 ? 8 << 8 : 3 << 8 | 3) : 0;
    }
    f.tcpFlags = f.protocol === 6 ? 0x1b : 0;
    f.packets = spoof ? 1 : 1 + Math.floor(-Math.log(1 - rng.float()) * 12);
    f.bytes = f.packets * (spoof ? 40 : 40 + rng.int(1461));
    const dur = spoof || rng.float() < 0.5 ? rng.int(1000) : rng.int(60_000);
    f.endMs = nowMs - rng.int(5000);
    f.startMs = f.endMs - dur;
    f.inIf = 1 + rng.int(4);
    f.outIf = 1 + rng.int(4);
    return f;
  }
}

/** Local i: 10.1.0.0/16 from .0.1 on; remote i: scattered over 11.0.0.0 – 170.255.255.255. */
function addr4(local: boolean, i: number): number {
  if (local) return (0x0a010001 + i) >>> 0;
  return (0x0b000000 + ((Math.imul(i + 1, 0x9e3779b1) >>> 0) % 0xa0000000)) >>> 0;
}

/** Local i: 2001:db8:1::i+1 (home); remote i: 2001:db8:2:<hash>::1. */
function addr6(b: Uint8Array, local: boolean, i: number): void {
  b.fill(0);
  b[0] = 0x20; b[1] = 0x01; b[2] = 0x0d; b[3] = 0xb8; b[5] = local ? 1 : 2;
  if (local) { b[13] = (i + 1) >>> 16; b[14] = ((i + 1) >>> 8) & 255; b[15] = (i + 1) & 255; }
  else { const h = Math.imul(i + 1, 0x9e3779b1) >>> 0; b[6] = h >>> 24; b[7] = (h >>> 16) & 255; b[8] = (h >>> 8) & 255; b[9] = h & 255; b[15] = 1; }
}

/** Big-endian writer over a reused buffer. */
class W {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  u8(v: number): this { this.buf[this.pos++] = v & 255; return this; }
  u16(v: number): this { this.buf.writeUInt16BE(v & 0xffff, this.pos); this.pos += 2; return this; }
  u32(v: number): this { this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; return this; }
  u64(v: number): this { return this.u32(Math.floor(v / 4294967296)).u32(v % 4294967296); }
  bytes(b: Uint8Array): this { this.buf.set(b, this.pos); this.pos += b.length; return this; }
  zero(n: number): this { this.buf.fill(0, this.pos, this.pos + n); this.pos += n; return this; }
}

export type GenFormat = 'netflow5' | 'netflow9' | 'ipfix' | 'sflow5';

export interface DatagramGenerator {
  readonly format: GenFormat;
  /** The next datagram exported at `nowMs` (a view of a reused buffer). */
  next(nowMs: number): Buffer;
  /** Flow records (sFlow: flow samples) in the datagram last returned. */
  records: number;
}

const MTU_PAYLOAD = 1400;
const UPTIME0 = 3_600_000; // the exporter booted an hour before the first datagram

class V5Gen implements DatagramGenerator {
  readonly format = 'netflow5';
  records = 0;
  private readonly w = new W(Buffer.alloc(24 + 48 * 30));
  private seq = 0;
  private t0 = -1;
  constructor(private readonly m: TrafficModel) {}
  next(nowMs: number): Buffer {
    if (this.t0 < 0) this.t0 = nowMs;
    const w = this.w, up = UPTIME0 + (nowMs - this.t0);
    w.pos = 0;
    w.u16(5).u16(30).u32(up).u32(Math.floor(nowMs / 1000)).u32((nowMs % 1000) * 1e6).u32(this.seq).u8(0).u8(0)
      .u16(this.m.o.samplingRate > 1 ? 0x4000 | this.m.o.samplingRate : 0);
    for (let i = 0; i < 30; i++) {
      const f = this.m.next(nowMs, true);
      w.u32(f.src4).u32(f.dst4).u32(0).u16(f.inIf).u16(f.outIf).u32(f.packets).u32(f.bytes)
        .u32(up - (nowMs - f.startMs)).u32(up - (nowMs - f.endMs)).u16(f.srcPort).u16(f.dstPort)
        .u8(0).u8(f.tcpFlags).u8(f.protocol).u8(0).u16(0).u16(0).u8(16).u8(24).u16(0);
    }
    this.seq += 30;
    this.records = 30;
    return w.buf;
  }
}

// v9 (softflowd's layout) and IPFIX (pmacctd-like: 64-bit counters, millisecond timestamps) templates.
type Spec = [id: number, len: number];
const V9_4: Spec[] = [[1, 4], [2, 4], [22, 4], [21, 4], [8, 4], [12, 4], [7, 2], [11, 2], [4, 1], [6, 1], [5, 1], [10, 2], [14, 2]];
const toV6 = (t: Spec[]): Spec[] => t.map(([id, len]): Spec => (id === 8 ? [27, 16] : id === 12 ? [28, 16] : [id, len]));
const V9_6 = toV6(V9_4);
const IPFIX_4: Spec[] = [[1, 8], [2, 8], [152, 8], [153, 8], [8, 4], [12, 4], [7, 2], [11, 2], [4, 1], [6, 1], [5, 1], [10, 4], [14, 4]];
const IPFIX_6 = toV6(IPFIX_4);
const recLen = (t: Spec[]) => t.reduce((a, [, l]) => a + l, 0);

/** NetFlow v9 or IPFIX: templates every `templateEvery` datagrams, then an IPv4 and an IPv6 data set. */
class TemplatedGen implements DatagramGenerator {
  records = 0;
  private readonly w = new W(Buffer.alloc(2048));
  private readonly v4 = new W(Buffer.alloc(2048));
  private readonly v6 = new W(Buffer.alloc(2048));
  private readonly t4: Spec[];
  private readonly t6: Spec[];
  private n = 0;
  private seq = 0;
  private t0 = -1;
  constructor(readonly format: 'netflow9' | 'ipfix', private readonly m: TrafficModel, private readonly templateEvery = 20) {
    [this.t4, this.t6] = format === 'ipfix' ? [IPFIX_4, IPFIX_6] : [V9_4, V9_6];
  }

  private field(w: W, id: number, len: number, f: Flow, up: number, nowMs: number): void {
    const v = (x: number) => (len === 8 ? w.u64(x) : len === 4 ? w.u32(x) : len === 2 ? w.u16(x) : w.u8(x));
    switch (id) {
      case 1: v(f.bytes); break;
      case 2: v(f.packets); break;
      case 22: v(up - (nowMs - f.startMs)); break;
      case 21: v(up - (nowMs - f.endMs)); break;
      case 152: v(f.startMs); break;
      case 153: v(f.endMs); break;
      case 8: w.u32(f.src4); break;
      case 12: w.u32(f.dst4); break;
      case 27: w.bytes(f.src6); break;
      case 28: w.bytes(f.dst6); break;
      case 7: v(f.srcPort); break;
      case 11: v(f.dstPort); break;
      case 4: v(f.protocol); break;
      case 6: v(f.tcpFlags); break;
      case 10: v(f.inIf); break;
      case 14: v(f.outIf); break;
      default: w.zero(len);
    }
  }

  next(nowMs: number): Buffer {
    if (this.t0 < 0) this.t0 = nowMs;
    const ipfix = this.format === 'ipfix', up = UPTIME0 + (nowMs - this.t0);
    const w = this.w, v4 = this.v4, v6 = this.v6;
    w.pos = 0;
    if (ipfix) w.u16(10).u16(0).u32(Math.floor(nowMs / 1000)).u32(this.seq).u32(1);
    else w.u16(9).u16(0).u32(up).u32(Math.floor(nowMs / 1000)).u32(this.seq).u32(1);
    const withTemplates = this.n++ % this.templateEvery === 0;
    if (withTemplates) {
      const at = w.pos;
      w.u16(ipfix ? 2 : 0).u16(0);
      for (const [id, t] of [[256, this.t4], [257, this.t6]] as const) {
        w.u16(id).u16(t.length);
        for (const [fid, len] of t) w.u16(fid).u16(len);
      }
      w.buf.writeUInt16BE(w.pos - at, at + 2);
    }
    const l4 = recLen(this.t4), l6 = recLen(this.t6);
    v4.pos = v6.pos = 0;
    let n = 0;
    for (;;) {
      const f = this.m.next(nowMs);
      const tw = f.v6 ? v6 : v4, len = f.v6 ? l6 : l4;
      if (w.pos + (v4.pos ? v4.pos + 4 : 0) + (v6.pos ? v6.pos + 4 : 0) + len + 4 > MTU_PAYLOAD) break;
      for (const [id, fl] of f.v6 ? this.t6 : this.t4) this.field(tw, id, fl, f, up, nowMs);
      n++;
    }
    for (const [id, d] of [[256, v4], [257, v6]] as const) {
      if (d.pos === 0) continue;
      w.u16(id).u16(d.pos + 4).bytes(d.buf.subarray(0, d.pos));
    }
    // v9 counts records (templates included) in the header; IPFIX states the message length
    w.buf.writeUInt16BE(ipfix ? w.pos : n + (withTemplates ? 2 : 0), 2);
    this.seq += ipfix ? n : 1;
    this.records = n;
    return w.buf.subarray(0, w.pos);
  }
}

/** sFlow v5: flow samples (raw Ethernet/IP/L4 header + extended switch) and a counter sample now and then. */
class SflowGen implements DatagramGenerator {
  readonly format = 'sflow5';
  records = 0;
  private readonly w = new W(Buffer.alloc(2048));
  private readonly h = new W(Buffer.alloc(256));
  private seq = 0;
  private sampleSeq = 0;
  private t0 = -1;
  constructor(private readonly m: TrafficModel) {}

  /** Ethernet + IPv4/IPv6 + TCP/UDP/ICMP header of one sampled packet, cut at 128 bytes. */
  private header(f: Flow, size: number): number {
    const h = this.h;
    h.pos = 0;
    h.zero(12).u16(f.v6 ? 0x86dd : 0x0800);
    const l4 = f.protocol === 6 ? 20 : f.protocol === 17 ? 8 : 8;
    if (f.v6) {
      h.u32(0x60000000).u16(size - 40).u8(f.protocol).u8(64).bytes(f.src6).bytes(f.dst6);
    } else {
      h.u8(0x45).u8(0).u16(size).u16(0).u16(0x4000).u8(64).u8(f.protocol).u16(0).u32(f.src4).u32(f.dst4);
    }
    if (f.protocol === 6) h.u16(f.srcPort).u16(f.dstPort).u32(1).u32(1).u8(0x50).u8(f.tcpFlags).u16(65535).u32(0);
    else if (f.protocol === 17) h.u16(f.srcPort).u16(f.dstPort).u16(size - (f.v6 ? 40 : 20)).u16(0);
    else if (f.protocol === 1 || f.protocol === 58) h.u8(f.dstPort >>> 8).u8(f.dstPort & 255).zero(6);
    else h.zero(l4);
    const frame = size + 14;
    const cut = Math.min(128, frame);
    if (h.pos < cut) h.zero(cut - h.pos);
    return cut;
  }

  next(nowMs: number): Buffer {
    if (this.t0 < 0) this.t0 = nowMs;
    const w = this.w, rate = Math.max(1, this.m.o.samplingRate);
    w.pos = 0;
    w.u32(5).u32(1).u32(0xc0000201).u32(0).u32(this.seq++).u32(UPTIME0 + nowMs - this.t0);
    const countAt = w.pos;
    w.u32(0);
    let n = 0, samples = 0;
    if (this.seq % 10 === 1) {
      // generic interface counters (0:2 / 0:1), 88 bytes
      w.u32(2).u32(12 + 8 + 88).u32(this.seq).u32(3).u32(1).u32(1).u32(88)
        .u32(3).u32(6).u64(1e9).u32(1).u32(3).zero(64);
      samples++;
    }
    while (w.pos + 260 <= MTU_PAYLOAD) {
      const f = this.m.next(nowMs);
      const size = Math.min(1500, Math.max(f.v6 ? 60 : 40, Math.round(f.bytes / f.packets)));
      const hlen = this.header(f, size);
      const plen = (hlen + 3) & ~3;
      const rawLen = 16 + plen, flowLen = 32 + 8 + rawLen + 8 + 16;
      w.u32(1).u32(flowLen).u32(++this.sampleSeq).u32(3).u32(rate).u32(this.sampleSeq * rate).u32(0)
        .u32(f.inIf).u32(f.outIf).u32(2)
        .u32(1).u32(rawLen).u32(1).u32(size + 14 + 4).u32(4).u32(hlen).bytes(this.h.buf.subarray(0, hlen)).zero(plen - hlen)
        .u32(1001).u32(16).u32(10).u32(0).u32(10).u32(0);
      n++;
      samples++;
    }
    w.buf.writeUInt32BE(samples, countAt);
    this.records = n;
    return w.buf.subarray(0, w.pos);
  }
}

export function createGenerator(format: GenFormat, opts: Partial<TrafficOptions> = {}): DatagramGenerator {
  const m = new TrafficModel(opts);
  switch (format) {
    case 'netflow5': return new V5Gen(m);
    case 'netflow9': return new TemplatedGen('netflow9', m);
    case 'ipfix': return new TemplatedGen('ipfix', m);
    case 'sflow5': return new SflowGen(m);
  }
}

/** `count` datagrams of one format, copied (for benchmarks that replay them), exported from `t0Ms` on at `pps`. */
export function datagrams(format: GenFormat, count: number, t0Ms: number, opts: Partial<TrafficOptions> = {}, pps = 1000):
  { buf: Buffer; ts: number; records: number }[] {
  const g = createGenerator(format, opts);
  const out: { buf: Buffer; ts: number; records: number }[] = [];
  for (let i = 0; i < count; i++) {
    const ts = t0Ms + Math.floor((i * 1000) / pps);
    out.push({ buf: Buffer.from(g.next(ts)), ts, records: g.records });
  }
  return out;
}

/** NetFlow v5 datagrams of 30 records each: sources 10.x.y.z (distinct, inside home) to one outside host. */
/** `remote`: the distinct addresses are remote sources (100/8) sending to 10.0.0.1, not sources in 10/8. */
export function* floodV5(sources: number, bytes: number, exportSec: number, remote = false): Generator<Buffer> {
  const buf = Buffer.alloc(24 + 48 * 30);
  for (let i = 0; i < sources; i += 30) {
    const n = Math.min(30, sources - i);
    buf.fill(0);
    buf.writeUInt16BE(5, 0);
    buf.writeUInt16BE(n, 2);
    buf.writeUInt32BE(100_000, 4); // sysUptime ms
    buf.writeUInt32BE(exportSec, 8);
    for (let j = 0; j < n; j++) {
      const o = 24 + 48 * j;
      const spoofed = ((remote ? 0x64000000 : 0x0a000000) + ((i + j) * 7919) % 0x1000000) >>> 0; // distinct in 100/8 or 10/8
      buf.writeUInt32BE(spoofed, o);
      buf.writeUInt32BE(remote ? 0x0a000001 : 0xc6336401, o + 4); // 10.0.0.1 or 198.51.100.1
      buf.writeUInt32BE(1, o + 16);
      buf.writeUInt32BE(bytes, o + 20);
      buf.writeUInt32BE(99_000, o + 24);
      buf.writeUInt32BE(99_000, o + 28);
      buf.writeUInt16BE(40000, o + 32);
      buf.writeUInt16BE(80, o + 34);
      buf[o + 38] = 6;
    }
    yield n === 30 ? buf : buf.subarray(0, 24 + 48 * n);
  }
}

const ZERO = { bytes: 0, packets: 0, flows: 0 };

/**
 * One interval starting at `start` with `hosts` host rows (half receivers, half senders, 4 per /24) and
 * little else: what a sink formats and sends for a network of that size. Bytes differ per interval.
 */
export function hostsSummary(start: number, hosts: number): IntervalSummary {
  const rows: IntervalSummary['hosts'] = [];
  for (let i = 0; i < hosts; i++) {
    const n = i >> 1;
    rows.push({ host: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, group: 'home', direction: i & 1 ? 'out' : 'in',
      bytes: 1500 * (i + 1) + start, packets: i + 1, flows: 1 });
  }
  const d = { bytes: 1, packets: 1, flows: 1, bps: 0.8, pps: 0.1 };
  const z = ZERO;
  return {
    start, end: start + 10, interval: 10, directions: { in: d, out: d, internal: d, external: d }, hosts: rows,
    hostsOther: { in: z, out: z }, ports: [], portsOther: { in: z, out: z, internal: z, external: z }, protocols: [], groups: [],
    exporters: [], stats: { records: 0, late: 0, hostOverflow: 0, portOverflow: 0, exporterOverflow: 0, collector: {} },
  };
}
