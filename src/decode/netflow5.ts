// NetFlow v5: a 24-byte header and up to 30 fixed 48-byte IPv4 records; times are sysUptime-relative.
import { DecodeError } from '../lib/errors.js';
import { Reader } from '../lib/reader.js';
import { FlowRecord, Format, IpVersion, type RecordHandler } from '../flow/record.js';
import type { DatagramDecoder, ErrorReporter } from './types.js';
import { uptimeToMs } from './time.js';
import { u16at, u32at as u32 } from './wire.js';

const enum V5 { Version = 5, HeaderLen = 24, RecordLen = 48, MaxCount = 30, IntervalMask = 0x3fff }

export interface Netflow5DecoderDeps {
  report: ErrorReporter;
}

export class Netflow5Decoder implements DatagramDecoder {
  private readonly r = new Reader();
  private readonly rec = new FlowRecord();
  /** Nothing in v5 is recoverable per record, so the reporter is unused; kept for a uniform contract. */
  readonly report: ErrorReporter;

  constructor(deps: Netflow5DecoderDeps) {
    this.report = deps.report;
  }

  decode(buf: Buffer, exporter: string, receivedMs: number, emit: RecordHandler): number {
    const r = this.r.reset(buf);
    try {
      const version = r.u16();
      if (version !== V5.Version) throw new DecodeError('unknown_version', `not NetFlow v5: version ${version}`);
      const count = r.u16();
      const sysUptime = r.u32();
      const unixSecs = r.u32();
      const unixNsecs = r.u32();
      r.u32(); // flow sequence
      const engineType = r.u8();
      const engineId = r.u8();
      const sampling = r.u16();
      if (count > V5.MaxCount || V5.HeaderLen + V5.RecordLen * count > buf.length) {
        throw new DecodeError('bad_count', `v5 count ${count} in a ${buf.length}-byte datagram`);
      }
      const exportMs = unixSecs > 0 ? unixSecs * 1000 + Math.floor(unixNsecs / 1e6) : receivedMs;
      // Top 2 bits: mode (1 deterministic, 2 random); low 14: 1-in-N interval, 0 = not said.
      const rate = sampling & V5.IntervalMask;
      const rec = this.rec;
      rec.exporter = exporter;
      rec.source = Format.NetflowV5;
      // Engine type/id identify the exporting engine as v9's source id does (Cisco packs them alike).
      rec.domain = engineType * 256 + engineId;
      // The count check above bounds every record: they are read at fixed offsets without per-field
      // checks or method calls (need() re-checks the whole record area through the reader).
      r.need(V5.RecordLen * count);
      const b = r.buf;
      for (let i = 0, o = r.pos; i < count; i++, o += V5.RecordLen) {
        rec.clear();
        rec.ipVersion = IpVersion.V4;
        rec.src4 = u32(b, o);
        rec.dst4 = u32(b, o + 4);
        const nextHop = u32(b, o + 8); // 0.0.0.0: none (softflowd, a local destination)
        if (nextHop !== 0) {
          rec.nextHop4 = nextHop;
          rec.nextHopVersion = IpVersion.V4;
        }
        rec.inIf = u16at(b, o + 12);
        rec.outIf = u16at(b, o + 14);
        rec.packets = u32(b, o + 16);
        rec.bytes = u32(b, o + 20);
        const first = u32(b, o + 24);
        const last = u32(b, o + 28);
        rec.srcPort = u16at(b, o + 32);
        const dstPort = u16at(b, o + 34);
        rec.dstPort = dstPort;
        // o + 36: pad1
        rec.tcpFlags = b[o + 37]!;
        const protocol = b[o + 38]!;
        rec.protocol = protocol;
        rec.tos = b[o + 39]!;
        rec.srcAs = u16at(b, o + 40);
        rec.dstAs = u16at(b, o + 42);
        // o + 44..47: src/dst mask, pad2
        // an inverted pair is left for normalization to count (flow/normalize.ts)
        rec.startMs = uptimeToMs(exportMs, sysUptime, first);
        rec.endMs = uptimeToMs(exportMs, sysUptime, last);
        if (protocol === 1) {
          rec.icmpType = dstPort >>> 8;
          rec.icmpCode = dstPort & 255;
        }
        rec.samplingRate = rate;
        emit(rec);
      }
      r.skip(V5.RecordLen * count);
      return count;
    } catch (err) {
      if (err instanceof DecodeError) err.at(exporter, V5.Version);
      throw err;
    } finally {
      r.clear();
    }
  }
}
