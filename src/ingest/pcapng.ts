// pcapng block reader: sections in either byte order, interfaces with their link type, timestamp
// resolution and offset, and the packet blocks (enhanced, simple, obsolete). Other blocks are skipped by
// their length. The whole block is made available (and its trailing length checked) before any field is
// read, and every field offset is checked against the block body, so a bad length cannot over-read.
import type { FrameParser, PcapStats, UdpPacket } from './frames.js';

/** Largest captured packet accepted; a larger length is taken as corruption. */
export const MAX_RECORD = 256 * 1024;
/** A packet block is its data plus headers and options; 64 KiB of options is already absurd. */
export const MAX_BLOCK = MAX_RECORD + 64 * 1024;
/** Interfaces per section; each packet names one by index. */
const MAX_INTERFACES = 65_536;

/** The chunked file window the readers work on (implemented in pcap.ts). */
export interface ChunkSource {
  buf: Buffer;
  /** Index in buf of the next unread byte. */
  pos: number;
  /** Index in buf after the last valid byte. */
  end: number;
  /** Makes n bytes available from pos (may move them, invalidating earlier views); false at end of file. */
  ensure(n: number): boolean;
  /** File offset of buf[pos]. */
  offset(): number;
  /** Throws the corruption error naming the file and the offset. */
  fail(message: string, fileOffset?: number): never;
}

const enum Block { Section = 0x0a0d0d0a, Interface = 1, ObsoletePacket = 2, SimplePacket = 3, EnhancedPacket = 6 }
const enum Opt { End = 0, TsResol = 9, TsOffset = 14 }
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const TWO32 = 4294967296;
/** Largest tick rate for which the exact split division below stays within 2^53. */
const EXACT_RATE_MAX = 2 ** 37;

interface Iface {
  linkType: number;
  /** Ticks per second (if_tsresol). */
  rate: number;
  /** if_tsoffset, in milliseconds. */
  offsetMs: number;
}

function u32(b: Buffer, p: number, le: boolean): number {
  return le ? b.readUInt32LE(p) : b.readUInt32BE(p);
}

function u16(b: Buffer, p: number, le: boolean): number {
  return le ? b.readUInt16LE(p) : b.readUInt16BE(p);
}

/**
 * Epoch ms of a 64-bit tick count, without BigInt: long division of (hi, lo) by the rate in 16-bit
 * steps keeps every intermediate exact, so nanosecond timestamps keep their sub-millisecond digits.
 */
export function ticksToMs(hi: number, lo: number, rate: number): number {
  if (rate > EXACT_RATE_MAX) return ((hi * TWO32 + lo) / rate) * 1000;
  const q1 = Math.floor(hi / rate), r1 = hi - q1 * rate;
  const a = r1 * 65536 + (lo >>> 16);
  const q2 = Math.floor(a / rate), r2 = a - q2 * rate;
  const b = r2 * 65536 + (lo & 0xffff);
  const q3 = Math.floor(b / rate), r3 = b - q3 * rate;
  return (q1 * TWO32 + q2 * 65536 + q3) * 1000 + (r3 * 1000) / rate;
}

/**
 * Reads blocks from src (positioned on the first Section Header Block) to the end of the file.
 * A block cut short by the end of the file is counted in stats.truncated and ends the read.
 */
export function* readPcapng(src: ChunkSource, stats: PcapStats, frames: FrameParser): Generator<UdpPacket> {
  let le = true;
  const ifaces: Iface[] = [];
  let lastMs = 0; // simple packet blocks carry no time: they get the previous packet's
  for (;;) {
    if (!src.ensure(8)) {
      if (src.end > src.pos) stats.truncated++;
      return;
    }
    const at = src.offset();
    let b = src.buf;
    let p = src.pos;
    const type = u32(b, p, le); // the section type reads the same in both orders
    if (type === Block.Section) {
      if (!src.ensure(12)) { stats.truncated++; return; }
      b = src.buf;
      p = src.pos;
      if (b.readUInt32LE(p + 8) === BYTE_ORDER_MAGIC) le = true;
      else if (b.readUInt32BE(p + 8) === BYTE_ORDER_MAGIC) le = false;
      else src.fail('pcapng section header with a bad byte-order magic', at + 8);
      ifaces.length = 0;
    }
    const len = u32(b, p + 4, le);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) src.fail(`bad pcapng block length ${len} (block type ${type})`, at);
    if (!src.ensure(len)) { stats.truncated++; return; }
    b = src.buf;
    p = src.pos;
    const trailer = u32(b, p + len - 4, le);
    if (trailer !== len) src.fail(`pcapng block length ${len} does not match its trailing length ${trailer}`, at);
    const body = p + 8;
    const bodyLen = len - 12;
    src.pos = p + len; // consumed: what follows reads only inside [body, body + bodyLen)

    switch (type) {
      case Block.Section: {
        if (bodyLen < 16) src.fail('pcapng section header too short', at);
        const major = u16(b, body + 4, le);
        if (major !== 1) src.fail(`unsupported pcapng version ${major}.${u16(b, body + 6, le)}`, at);
        break;
      }
      case Block.Interface: {
        if (bodyLen < 8) src.fail('pcapng interface block too short', at);
        if (ifaces.length >= MAX_INTERFACES) src.fail(`more than ${MAX_INTERFACES} interfaces in one section`, at);
        ifaces.push(readInterface(src, b, body, body + bodyLen, le, at));
        break;
      }
      case Block.EnhancedPacket: case Block.ObsoletePacket: {
        if (bodyLen < 20) src.fail('pcapng packet block too short', at);
        const obsolete = type === Block.ObsoletePacket;
        const id = obsolete ? u16(b, body, le) : u32(b, body, le);
        const cap = u32(b, body + 12, le);
        if (cap > MAX_RECORD) src.fail(`captured length ${cap} over ${MAX_RECORD}`, at);
        if (20 + cap > bodyLen) src.fail(`captured length ${cap} exceeds its block`, at);
        const ifc = ifaces[id];
        if (!ifc) src.fail(`packet names interface ${id}, but the section has ${ifaces.length}`, at);
        stats.packets++;
        lastMs = ticksToMs(u32(b, body + 4, le), u32(b, body + 8, le), ifc.rate) + ifc.offsetMs;
        if (frames.parse(ifc.linkType, b, body + 20, body + 20 + cap, lastMs)) yield frames.packet(lastMs);
        break;
      }
      case Block.SimplePacket: {
        if (bodyLen < 4) src.fail('pcapng simple packet block too short', at);
        const ifc = ifaces[0];
        if (!ifc) src.fail('simple packet block before any interface block', at);
        const orig = u32(b, body, le);
        const cap = Math.min(orig, bodyLen - 4); // the snap length is implied by the block size
        stats.packets++;
        if (frames.parse(ifc.linkType, b, body + 4, body + 4 + cap, lastMs)) yield frames.packet(lastMs);
        break;
      }
      default:
        break; // name resolution, statistics, custom and future blocks
    }
  }
}

function readInterface(src: ChunkSource, b: Buffer, body: number, end: number, le: boolean, at: number): Iface {
  const ifc: Iface = { linkType: u16(b, body, le), rate: 1e6, offsetMs: 0 };
  let p = body + 8;
  // Each option is at least 4 bytes, so this loop ends within the (bounded) block.
  while (p + 4 <= end) {
    const code = u16(b, p, le), olen = u16(b, p + 2, le);
    if (code === Opt.End) break;
    const v = p + 4;
    if (v + olen > end) src.fail(`pcapng option ${code} of ${olen} bytes overruns its block`, at);
    if (code === Opt.TsResol && olen >= 1) {
      const r = b[v]!;
      const exp = r & 0x7f;
      if ((r & 0x80 ? exp > 52 : exp > 15)) src.fail(`unsupported if_tsresol ${r}`, at);
      ifc.rate = r & 0x80 ? 2 ** exp : 10 ** exp;
    } else if (code === Opt.TsOffset && olen >= 8) {
      // Signed 64-bit seconds: the high word carries the sign.
      const hi = le ? b.readInt32LE(v + 4) : b.readInt32BE(v);
      const lo = le ? b.readUInt32LE(v) : b.readUInt32BE(v + 4);
      ifc.offsetMs = (hi * TWO32 + lo) * 1000;
    }
    p = v + ((olen + 3) & ~3);
  }
  return ifc;
}
