// Replays UDP datagrams from a capture file (classic pcap or pcapng, told apart by the magic). Files can
// be hundreds of MB, so they are read in chunks through one reused buffer: the yielded payload may view
// that buffer and is overwritten once the iteration moves on. Consumers copy what they keep.
import { closeSync, openSync, readSync } from 'node:fs';
import { FlowbridgeError } from '../lib/errors.js';
import { FrameParser, newPcapStats, type PcapStats, type ReassemblyLimits, type UdpPacket } from './frames.js';
import { MAX_RECORD, readPcapng, type ChunkSource } from './pcapng.js';

export type { PcapStats, UdpPacket } from './frames.js';
export { newPcapStats } from './frames.js';
export { MAX_RECORD, MAX_BLOCK } from './pcapng.js';

/** Magic numbers as read little-endian from the first four bytes. */
const enum Magic {
  MicroLE = 0xa1b2c3d4, MicroBE = 0xd4c3b2a1,
  NanoLE = 0xa1b23c4d, NanoBE = 0x4d3cb2a1,
  /** Kuznetzov's patched libpcap: 8 more bytes per record header. */
  ModifiedLE = 0xa1b2cd34, ModifiedBE = 0x34cdb2a1,
  Pcapng = 0x0a0d0d0a,
}

const FILE_HEADER = 24;
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

export interface ReadOptions {
  /** Initial read buffer size; it grows when one record needs more. */
  chunkSize?: number;
  reassembly?: Partial<ReassemblyLimits>;
}

/** A capture file that cannot be read further: names the file and the byte offset of the bad record. */
export class CaptureFileError extends FlowbridgeError {
  constructor(readonly path: string, readonly offset: number, message: string) {
    super(`${path}: ${message} at offset ${offset}`);
  }
}

class FileChunks implements ChunkSource {
  buf: Buffer;
  pos = 0;
  end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private eof = false;

  constructor(private readonly fd: number, private readonly path: string, chunkSize: number,
    private readonly stats: PcapStats) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.eof) return false;
    // Keep the unread tail at the front, then fill the rest; a record larger than the buffer grows it.
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    if (n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
    }
    while (this.end < n) {
      const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      if (got === 0) {
        this.eof = true;
        return false;
      }
      this.end += got;
      this.stats.bytesRead = this.base + this.end;
    }
    return true;
  }

  offset(): number {
    return this.base + this.pos;
  }

  fail(message: string, fileOffset = this.offset()): never {
    throw new CaptureFileError(this.path, fileOffset, message);
  }
}

/**
 * Yields every UDP datagram of the capture at `path` in file order. Fills `stats` as it goes. A record
 * cut short by the end of the file (an interrupted capture) ends the iteration and counts as truncated;
 * any other damage throws CaptureFileError naming the file and offset. Incomplete fragmented datagrams
 * left at the end are counted in stats.fragmentsDropped.
 */
export function* readUdpPackets(path: string, stats: PcapStats = newPcapStats(), options: ReadOptions = {}): Generator<UdpPacket> {
  const chunkSize = Math.max(64, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const fd = openSync(path, 'r');
  try {
    const src = new FileChunks(fd, path, chunkSize, stats);
    const frames = new FrameParser(stats, options.reassembly);
    if (!src.ensure(4)) src.fail('not a pcap or pcapng file: shorter than a file header', 0);
    const magic = src.buf.readUInt32LE(src.pos);
    switch (magic) {
      case Magic.Pcapng:
        yield* readPcapng(src, stats, frames);
        break;
      case Magic.MicroLE: case Magic.MicroBE: case Magic.NanoLE: case Magic.NanoBE:
      case Magic.ModifiedLE: case Magic.ModifiedBE:
        yield* readPcap(src, stats, frames, magic);
        break;
      default:
        src.fail(`not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`, 0);
    }
    frames.finish();
  } finally {
    closeSync(fd);
  }
}

function* readPcap(src: FileChunks, stats: PcapStats, frames: FrameParser, magic: number): Generator<UdpPacket> {
  const le = magic === Magic.MicroLE || magic === Magic.NanoLE || magic === Magic.ModifiedLE;
  const fracPerMs = magic === Magic.NanoLE || magic === Magic.NanoBE ? 1e6 : 1e3;
  const recHeader = magic === Magic.ModifiedLE || magic === Magic.ModifiedBE ? 24 : 16;
  if (!src.ensure(FILE_HEADER)) src.fail('pcap file header cut short', 0);
  let b = src.buf;
  const major = le ? b.readUInt16LE(src.pos + 4) : b.readUInt16BE(src.pos + 4);
  if (major !== 2) src.fail(`unsupported pcap version ${major}`, 4);
  // The upper bits of the link-type word hold the FCS length, which the IP total length makes moot.
  const linkType = (le ? b.readUInt32LE(src.pos + 20) : b.readUInt32BE(src.pos + 20)) & 0xffff;
  src.pos += FILE_HEADER;
  for (;;) {
    if (!src.ensure(recHeader)) {
      if (src.end > src.pos) stats.truncated++;
      return;
    }
    b = src.buf;
    const p = src.pos;
    const sec = le ? b.readUInt32LE(p) : b.readUInt32BE(p);
    const frac = le ? b.readUInt32LE(p + 4) : b.readUInt32BE(p + 4);
    const incl = le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8);
    if (incl > MAX_RECORD) src.fail(`record length ${incl} over ${MAX_RECORD}`);
    if (!src.ensure(recHeader + incl)) {
      stats.truncated++;
      return;
    }
    b = src.buf; // ensure() may have moved the bytes
    const start = src.pos + recHeader;
    src.pos = start + incl;
    stats.packets++;
    const tsMs = sec * 1000 + frac / fracPerMs;
    if (frames.parse(linkType, b, start, start + incl, tsMs)) yield frames.packet(tsMs);
  }
}
