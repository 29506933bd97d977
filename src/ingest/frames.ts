// Captured frame → IP → UDP, shared by the pcap and pcapng readers. Replay of exporter captures needs
// only UDP; everything else is counted and skipped. Headers are read through the bounds-checked Reader;
// a frame cut short inside a header is counted as truncated, never thrown to the file reader.
import { Reader } from '../lib/reader.js';
import { TruncatedError } from '../lib/errors.js';
import { ipv4ToString, ipv6ToString } from '../flow/record.js';

/** pcap LINKTYPE_* values understood here (12 and 14 are raw IP on some BSDs). */
export const enum LinkType {
  Null = 0, Ethernet = 1, RawIp12 = 12, RawIp14 = 14, RawIp = 101, Loop = 108, LinuxSll = 113,
  Ipv4 = 228, Ipv6 = 229, LinuxSll2 = 276,
}

const enum EtherType { Ipv4 = 0x0800, Ipv6 = 0x86dd, Vlan = 0x8100, QinQ = 0x88a8, QinQOld = 0x9100 }
const enum Proto { HopByHop = 0, Udp = 17, Routing = 43, Fragment = 44, DestOpts = 60 }
/** Network layer found under the link header. */
const enum Net { Unsupported = -1, Other = 0, V4 = 4, V6 = 6 }

const MAX_VLAN_TAGS = 4;
const MAX_EXT_HEADERS = 8;
/** Caps the holes tracked per datagram; only pathological tiny out-of-order fragments reach it. */
const MAX_RANGES = 256;
const EMPTY = Buffer.alloc(0);

/** One UDP datagram from a capture. `payload` may view a reused buffer: copy what you keep. */
export interface UdpPacket {
  /** Capture time, epoch milliseconds with sub-millisecond fraction. */
  tsMs: number;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  payload: Buffer;
}

/** Counters filled while reading a capture. */
export interface PcapStats {
  /** Packet records read from the file. */
  packets: number;
  /** UDP datagrams produced (reassembled ones included). */
  udp: number;
  /** Packets that are not UDP over IPv4/IPv6 (ARP, TCP, ICMP...). */
  nonUdp: number;
  /** A truncated last file record, or a frame cut short by the snap length. */
  truncated: number;
  /** UDP fragments taken into reassembly. */
  fragments: number;
  /** Datagrams completed from fragments. */
  reassembled: number;
  /** Malformed frames and unsupported link types. */
  errors: number;
  /** Incomplete datagrams given up (timeout, capacity, size, inconsistency, end of file). */
  fragmentsDropped?: number;
  /** Bytes of the file read so far (progress). */
  bytesRead?: number;
}

export function newPcapStats(): PcapStats {
  return { packets: 0, udp: 0, nonUdp: 0, truncated: 0, fragments: 0, reassembled: 0, errors: 0, fragmentsDropped: 0, bytesRead: 0 };
}

export interface ReassemblyLimits {
  /** Datagrams being reassembled at once; the oldest is dropped beyond this. */
  maxDatagrams: number;
  /** Capture-time age after which an incomplete datagram is dropped. */
  timeoutMs: number;
  /** Largest reassembled IP payload. */
  maxBytes: number;
}

export const REASSEMBLY_DEFAULTS: Readonly<ReassemblyLimits> = { maxDatagrams: 1024, timeoutMs: 30_000, maxBytes: 65_535 };

interface Pending {
  firstMs: number;
  buf: Buffer;
  /** Payload length once the last fragment was seen, else -1. */
  total: number;
  /** Received byte ranges, flat [start, end, ...], sorted and merged. */
  ranges: number[];
  srcAddr: string;
  dstAddr: string;
}

export class FrameParser {
  /** The datagram found by the last successful parse(); payload views a capture or reassembly buffer. */
  srcAddr = '';
  srcPort = 0;
  dstAddr = '';
  dstPort = 0;
  payload: Buffer = EMPTY;

  private readonly r = new Reader();
  private readonly limits: ReassemblyLimits;
  private readonly pending = new Map<string, Pending>();
  // Exporters are few: remembering the last address text avoids building a string per packet.
  private lastSrc4 = -1;
  private lastSrc4Text = '';
  private lastDst4 = -1;
  private lastDst4Text = '';
  private readonly src6 = new Uint8Array(16);
  private readonly dst6 = new Uint8Array(16);
  private readonly lastSrc6 = new Uint8Array(16);
  private readonly lastDst6 = new Uint8Array(16);
  private lastSrc6Text = '';
  private lastDst6Text = '';

  constructor(readonly stats: PcapStats, limits: Partial<ReassemblyLimits> = {}) {
    this.limits = { ...REASSEMBLY_DEFAULTS, ...limits };
  }

  /** Datagrams currently awaiting fragments. */
  pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Parses the frame in buf[start, end) captured with `linkType` at `tsMs`. Returns true when a UDP
   * datagram is ready in srcAddr/srcPort/dstAddr/dstPort/payload; false when the frame was counted and
   * skipped (or held as a fragment). Does not count stats.packets: that is the file reader's record count.
   */
  parse(linkType: number, buf: Buffer, start: number, end: number, tsMs: number): boolean {
    if (this.pending.size > 0) this.expire(tsMs);
    const r = this.r.reset(buf, start, end);
    try {
      const net = this.link(linkType);
      if (net === Net.V4) return this.ipv4(tsMs);
      if (net === Net.V6) return this.ipv6(tsMs);
      if (net === Net.Other) this.stats.nonUdp++;
      else this.stats.errors++;
      return false;
    } catch (e) {
      if (!(e instanceof TruncatedError)) throw e;
      this.stats.truncated++;
      return false;
    } finally {
      r.clear();
    }
  }

  /** Gives up every incomplete datagram (end of capture); returns how many. */
  finish(): number {
    const n = this.pending.size;
    this.pending.clear();
    this.dropped(n);
    return n;
  }

  /** A fresh UdpPacket from the last parse() result. */
  packet(tsMs: number): UdpPacket {
    return { tsMs, srcAddr: this.srcAddr, srcPort: this.srcPort, dstAddr: this.dstAddr, dstPort: this.dstPort, payload: this.payload };
  }

  private link(linkType: number): Net {
    const r = this.r;
    switch (linkType) {
      case LinkType.Ethernet:
        r.skip(12);
        return this.etherType(r.u16());
      case LinkType.LinuxSll:
        r.skip(14);
        return this.etherType(r.u16());
      case LinkType.LinuxSll2: {
        const t = r.u16();
        r.skip(18);
        return this.etherType(t);
      }
      case LinkType.RawIp: case LinkType.RawIp12: case LinkType.RawIp14: {
        r.need(1);
        const v = r.buf[r.pos]! >> 4;
        return v === 4 ? Net.V4 : v === 6 ? Net.V6 : Net.Other;
      }
      case LinkType.Ipv4: return Net.V4;
      case LinkType.Ipv6: return Net.V6;
      case LinkType.Null: case LinkType.Loop: {
        // The address family is in the capturing host's byte order (network order on OpenBSD loop):
        // whichever reading is small is the right one.
        r.need(4);
        const le = r.buf.readUInt32LE(r.pos), be = r.buf.readUInt32BE(r.pos);
        r.skip(4);
        const af = le < 256 ? le : be;
        if (af === 2) return Net.V4;
        if (af === 24 || af === 28 || af === 30) return Net.V6;
        return Net.Other;
      }
      default:
        return Net.Unsupported;
    }
  }

  private etherType(t: number): Net {
    const r = this.r;
    for (let i = 0; i < MAX_VLAN_TAGS && (t === EtherType.Vlan || t === EtherType.QinQ || t === EtherType.QinQOld); i++) {
      r.skip(2); // tag control information
      t = r.u16();
    }
    return t === EtherType.Ipv4 ? Net.V4 : t === EtherType.Ipv6 ? Net.V6 : Net.Other;
  }

  private ipv4(tsMs: number): boolean {
    const r = this.r;
    const s = r.pos;
    const vihl = r.u8();
    const ihl = (vihl & 15) * 4;
    r.skip(1);
    const total = r.u16();
    if (vihl >> 4 !== 4 || ihl < 20 || total < ihl) return this.malformed();
    const id = r.u16();
    const ff = r.u16();
    r.skip(1);
    const proto = r.u8();
    r.skip(2);
    const src = r.u32();
    const dst = r.u32();
    r.skip(ihl - 20);
    // Total length bounds the payload (dropping Ethernet padding) unless the snap length cut it first.
    const cut = s + total > r.end;
    if (!cut) r.end = s + total;
    if (proto !== Proto.Udp) {
      this.stats.nonUdp++;
      return false;
    }
    const more = (ff & 0x2000) !== 0;
    const off = (ff & 0x1fff) * 8;
    if (more || off > 0) {
      if (cut) return this.cutShort();
      // Key (src, dst, id); the protocol is always UDP here, other protocols were skipped above.
      return this.fragment(`4|${src}|${dst}|${id}`, off, more, tsMs, this.v4Src(src), this.v4Dst(dst));
    }
    this.srcAddr = this.v4Src(src);
    this.dstAddr = this.v4Dst(dst);
    return this.udp(cut);
  }

  private ipv6(tsMs: number): boolean {
    const r = this.r;
    if (r.u32() >>> 28 !== 6) return this.malformed();
    const plen = r.u16();
    let nh = r.u8();
    r.skip(1);
    r.copyTo(this.src6, 16);
    r.copyTo(this.dst6, 16);
    const cut = r.pos + plen > r.end;
    if (!cut) r.end = r.pos + plen;
    let fragOff = 0, more = false, id = 0;
    for (let i = 0; i < MAX_EXT_HEADERS; i++) {
      if (nh === Proto.Fragment) {
        nh = r.u8();
        r.skip(1);
        const om = r.u16();
        id = r.u32();
        fragOff = om & 0xfff8;
        more = (om & 1) !== 0;
      } else if (nh === Proto.HopByHop || nh === Proto.Routing || nh === Proto.DestOpts) {
        nh = r.u8();
        r.skip(r.u8() * 8 + 6);
      } else {
        break;
      }
    }
    if (nh !== Proto.Udp) {
      // Also a chain longer than MAX_EXT_HEADERS: nothing here needs one.
      if (nh === Proto.HopByHop || nh === Proto.Routing || nh === Proto.DestOpts || nh === Proto.Fragment) return this.malformed();
      this.stats.nonUdp++;
      return false;
    }
    if (more || fragOff > 0) {
      if (cut) return this.cutShort();
      const src = ipv6ToString(this.src6), dst = ipv6ToString(this.dst6);
      return this.fragment(`6|${src}|${dst}|${id}`, fragOff, more, tsMs, src, dst);
    }
    this.srcAddr = this.v6Text(this.src6, this.lastSrc6, true);
    this.dstAddr = this.v6Text(this.dst6, this.lastDst6, false);
    return this.udp(cut);
  }

  /** UDP header at the reader's position; the UDP length field, bounded by what was captured. */
  private udp(cut: boolean): boolean {
    const r = this.r;
    const avail = r.left();
    if (avail < 8) return cut ? this.cutShort() : this.malformed();
    const sp = r.u16(), dp = r.u16(), len = r.u16();
    r.skip(2);
    if (len < 8 || (len > avail && !cut)) return this.malformed();
    let n = len - 8;
    if (len > avail) {
      this.stats.truncated++;
      n = avail - 8;
    }
    this.payload = r.bytes(n);
    this.srcPort = sp;
    this.dstPort = dp;
    this.stats.udp++;
    return true;
  }

  private cutShort(): false {
    this.stats.truncated++;
    return false;
  }

  private malformed(): false {
    this.stats.errors++;
    return false;
  }

  private dropped(n: number): void {
    this.stats.fragmentsDropped = (this.stats.fragmentsDropped ?? 0) + n;
  }

  // --- fragment reassembly: rare in exporter traffic, so a string key and a Pending per datagram are fine.

  private fragment(key: string, off: number, more: boolean, tsMs: number, srcAddr: string, dstAddr: string): boolean {
    const r = this.r;
    const lim = this.limits;
    const len = r.left();
    const endOff = off + len;
    this.stats.fragments++;
    let p = this.pending.get(key);
    // Checked before anything is evicted for it: bigger than allowed, a non-final fragment that is not
    // a multiple of 8 bytes, or a final fragment disagreeing with what was already received.
    const bad = endOff > lim.maxBytes || (more && (len & 7) !== 0) || (p !== undefined && (
      (p.total >= 0 && (endOff > p.total || (!more && p.total !== endOff))) ||
      (!more && p.ranges.length > 0 && p.ranges[p.ranges.length - 1]! > endOff)));
    if (bad || (p !== undefined && !addRange(p.ranges, off, endOff))) {
      if (p !== undefined) this.pending.delete(key);
      this.dropped(1);
      return false;
    }
    if (p === undefined) {
      if (this.pending.size >= lim.maxDatagrams) {
        // Map order is arrival order: the first entry is the oldest.
        for (const k of this.pending.keys()) { this.pending.delete(k); break; }
        this.dropped(1);
      }
      p = { firstMs: tsMs, buf: EMPTY, total: -1, ranges: [off, endOff], srcAddr, dstAddr };
      this.pending.set(key, p);
    }
    if (!more) p.total = endOff;
    if (endOff > p.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(lim.maxBytes, Math.max(endOff, p.buf.length * 2, 2048)));
      p.buf.copy(grown);
      p.buf = grown;
    }
    r.buf.copy(p.buf, off, r.pos, r.end);
    const rg = p.ranges;
    if (p.total < 0 || rg.length !== 2 || rg[0] !== 0 || rg[1] !== p.total) return false;
    this.pending.delete(key);
    this.stats.reassembled++;
    this.srcAddr = p.srcAddr;
    this.dstAddr = p.dstAddr;
    r.reset(p.buf, 0, p.total);
    return this.udp(false);
  }

  private expire(tsMs: number): void {
    const limit = tsMs - this.limits.timeoutMs;
    // Arrival order approximates capture-time order, so stop at the first entry still young.
    for (const [k, p] of this.pending) {
      if (p.firstMs >= limit) break;
      this.pending.delete(k);
      this.dropped(1);
    }
  }

  private v4Src(a: number): string {
    if (a !== this.lastSrc4) { this.lastSrc4 = a; this.lastSrc4Text = ipv4ToString(a); }
    return this.lastSrc4Text;
  }

  private v4Dst(a: number): string {
    if (a !== this.lastDst4) { this.lastDst4 = a; this.lastDst4Text = ipv4ToString(a); }
    return this.lastDst4Text;
  }

  private v6Text(a: Uint8Array, last: Uint8Array, isSrc: boolean): string {
    let same = (isSrc ? this.lastSrc6Text : this.lastDst6Text) !== '';
    for (let i = 0; same && i < 16; i++) same = a[i] === last[i];
    if (same) return isSrc ? this.lastSrc6Text : this.lastDst6Text;
    last.set(a);
    const text = ipv6ToString(a);
    if (isSrc) this.lastSrc6Text = text;
    else this.lastDst6Text = text;
    return text;
  }
}

/** Merges [s, e) into sorted, merged flat ranges; false when too many holes would be tracked. */
export function addRange(ranges: number[], s: number, e: number): boolean {
  let i = 0;
  while (i < ranges.length && ranges[i + 1]! < s) i += 2;
  let j = i;
  while (j < ranges.length && ranges[j]! <= e) {
    s = Math.min(s, ranges[j]!);
    e = Math.max(e, ranges[j + 1]!);
    j += 2;
  }
  if (j === i && ranges.length >= MAX_RANGES * 2) return false;
  ranges.splice(i, j - i, s, e);
  return true;
}
