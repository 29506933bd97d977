// sFlow v5 datagram decoder (sflow_version_5.txt). Each flow sample becomes exactly one FlowRecord
// (one sampled packet, packets = 1, samplingRate = the sample's rate); counter samples update the
// optional SflowCounterStore and emit nothing. Every length and count is checked against the bytes
// left and read through a Reader window, so a lying length can cost at most that datagram.
// Bytes are IP-layer bytes (IPv4 total length, IPv6 payload + 40). A sampled frame without a usable IP
// header is still emitted, with ipVersion 0 and bytes = frame - stripped - link header, so frame
// totals stay visible; consumers count those as non-IP.
import { Reader } from '../lib/reader.js';
import { DecodeError } from '../lib/errors.js';
import { FlowRecord, Format, IpVersion, ipv4ToString, ipv6ToString, type RecordHandler } from '../flow/record.js';
import type { DatagramDecoder, ErrorReporter } from './types.js';
import { parsePacketHeader } from './packet.js';
import { u32at } from './wire.js';
import { IfCounters, readGenericIfCounters, type SflowCounterStore } from './counters-sflow.js';
import { AddrType, SampleRouting } from './sflow-routing.js';

export const SFLOW_VERSION = 5;

export const SFLOW_DEFAULTS = {
  /** Samples per datagram beyond which the datagram is rejected (a 64 KiB datagram holds fewer). */
  maxSamples: 1000,
  /** Flow/counter records per sample beyond which the sample is rejected. */
  maxRecords: 1000,
} as const;

/** data_format words with enterprise 0: the whole word equals the format number. */
const enum SampleFormat { Flow = 1, Counter = 2, ExpandedFlow = 3, ExpandedCounter = 4 }
const enum FlowFormat { RawHeader = 1, SampledIpv4 = 3, SampledIpv6 = 4, ExtSwitch = 1001, ExtRouter = 1002, ExtGateway = 1003 }
const enum CounterFormat { GenericIf = 1 }

/** Smallest encodings: a sample or record is at least its format + length words. */
const MIN_ENTRY = 8;

export interface SflowDecoderOptions {
  report: ErrorReporter;
  counters?: SflowCounterStore;
  maxSamples?: number;
  maxRecords?: number;
}

/** What the decoder has seen, for metrics and tests (monotonic). */
export class SflowStats {
  datagrams = 0;
  flowSamples = 0;
  counterSamples = 0;
  /** Samples of unknown formats skipped by their length. */
  unknownSamples = 0;
  /** Samples dropped because their content was inconsistent (reported to the ErrorReporter). */
  badSamples = 0;
  /** Flow samples whose raw header held no IP header (emitted with ipVersion 0). */
  nonIp = 0;
}

export class SflowDecoder implements DatagramDecoder {
  readonly stats = new SflowStats();
  private readonly r = new Reader();
  private readonly rec = new FlowRecord();
  private readonly report: ErrorReporter;
  private readonly counters: SflowCounterStore | undefined;
  private readonly maxSamples: number;
  private readonly maxRecords: number;
  private readonly scratchCounters = new IfCounters();
  /** Routing records of the sample being read, applied once its records are all read. */
  private readonly routing = new SampleRouting();
  // Agent text is cached per address so the per-datagram cost is a compare, not a string build.
  private lastAgent4 = -1;
  private readonly lastAgent6 = new Uint8Array(16);
  private readonly agent6 = new Uint8Array(16);
  private lastAgentText = '';
  private lastAgentType = 0;
  // Per-datagram context used by the sample decoders.
  private agent = '';
  private subAgent = 0;
  private receivedMs = 0;
  /** the datagram's agent uptime (ms) */
  private uptimeMs = -1;

  constructor(opts: SflowDecoderOptions) {
    this.report = opts.report;
    this.counters = opts.counters;
    this.maxSamples = opts.maxSamples ?? SFLOW_DEFAULTS.maxSamples;
    this.maxRecords = opts.maxRecords ?? SFLOW_DEFAULTS.maxRecords;
  }

  /**
   * Decodes one datagram. `exporter` (the UDP source) only labels errors: records carry the agent
   * address, sFlow's own identity of the device. A sample whose content is inconsistent is reported
   * and skipped; a sample length past the datagram end throws 'bad_length' (rest of datagram lost).
   */
  decode(buf: Buffer, exporter: string, receivedMs: number, emit: RecordHandler): number {
    const r = this.r.reset(buf);
    this.stats.datagrams++;
    this.subAgent = -1;
    let emitted = 0;
    try {
      const version = r.u32();
      if (version !== SFLOW_VERSION) throw new DecodeError('unknown_version', `sFlow version ${version}, expected 5`);
      this.agent = this.readAgent(r);
      this.subAgent = r.u32();
      r.skip(4); // datagram sequence
      // the agent's uptime tells a restart from a counter wrap; flows still take the receive time
      this.uptimeMs = r.u32();
      const n = r.u32();
      if (n > this.maxSamples || n * MIN_ENTRY > r.left()) {
        throw new DecodeError('bad_count', `${n} samples in ${r.left()} bytes`);
      }
      this.receivedMs = receivedMs;
      const rec = this.rec;
      rec.exporter = this.agent;
      rec.source = Format.Sflow;
      rec.domain = this.subAgent;
      for (let i = 0; i < n; i++) {
        const format = r.u32();
        const len = r.u32();
        if (len > r.left()) {
          throw new DecodeError('bad_length', `sample ${i} of ${len} bytes, ${r.left()} left`);
        }
        const saved = r.enter(len);
        const sampleEnd = r.end;
        try {
          switch (format) {
            case SampleFormat.Flow: emitted += this.flowSample(r, false, emit); break;
            case SampleFormat.ExpandedFlow: emitted += this.flowSample(r, true, emit); break;
            case SampleFormat.Counter: this.counterSample(r, false); break;
            case SampleFormat.ExpandedCounter: this.counterSample(r, true); break;
            default: this.stats.unknownSamples++;
          }
        } catch (e) {
          // The sample's own length was sound, so its inconsistency is confined to it.
          if (!(e instanceof DecodeError)) throw e;
          this.stats.badSamples++;
          this.report(e.at(exporter, SFLOW_VERSION, this.subAgent));
          // a record's window may still be open: the next sample starts where this one ends
          r.end = sampleEnd;
        }
        r.leave(saved);
      }
    } catch (e) {
      if (e instanceof DecodeError) throw e.at(exporter, SFLOW_VERSION, this.subAgent);
      throw e;
    } finally {
      r.clear();
    }
    return emitted;
  }

  private readAgent(r: Reader): string {
    const type = r.u32();
    if (type === AddrType.V4) {
      const a = r.u32();
      if (this.lastAgentType !== AddrType.V4 || a !== this.lastAgent4) {
        this.lastAgentText = ipv4ToString(a);
        this.lastAgent4 = a;
        this.lastAgentType = AddrType.V4;
      }
    } else if (type === AddrType.V6) {
      const a = this.agent6;
      r.copyTo(a, 16);
      const last = this.lastAgent6;
      let same = this.lastAgentType === AddrType.V6;
      for (let i = 0; same && i < 16; i++) same = a[i] === last[i];
      if (!same) {
        this.lastAgentText = ipv6ToString(a);
        last.set(a);
        this.lastAgentType = AddrType.V6;
      }
    } else {
      throw new DecodeError('unsupported_format', `sFlow agent address type ${type}`);
    }
    return this.lastAgentText;
  }

  /** Flow sample (0:1) or expanded flow sample (0:3): one emitted record. */
  private flowSample(r: Reader, expanded: boolean, emit: RecordHandler): number {
    // The fixed part is checked once, then read in place (wire.ts).
    const fixed = expanded ? 44 : 32;
    r.need(fixed);
    const b = r.buf, o = r.pos;
    // sequence, source id (expanded: type + index), rate, sample pool, drops, interfaces, record count
    let inIf: number, outIf: number, n: number, rate: number;
    if (expanded) {
      rate = u32at(b, o + 12);
      inIf = iface(u32at(b, o + 24), u32at(b, o + 28));
      outIf = iface(u32at(b, o + 32), u32at(b, o + 36));
      n = u32at(b, o + 40);
    } else {
      rate = u32at(b, o + 8);
      const i = u32at(b, o + 20), x = u32at(b, o + 24);
      inIf = iface(i >>> 30, i & 0x3fffffff);
      outIf = iface(x >>> 30, x & 0x3fffffff);
      n = u32at(b, o + 28);
    }
    r.pos = o + fixed;
    if (n > this.maxRecords || n * MIN_ENTRY > r.left()) {
      throw new DecodeError('bad_count', `${n} flow records in ${r.left()} bytes`);
    }
    const rec = this.rec, routing = this.routing;
    rec.clear();
    routing.reset();
    let haveHeader = false, haveSampled = false;
    let switchVlan = 0, frameLen = 0, frameRest = 0;
    for (let i = 0; i < n; i++) {
      r.need(8);
      const format = u32at(r.buf, r.pos);
      const len = u32at(r.buf, r.pos + 4);
      r.pos += 8;
      const saved = r.enter(len);
      switch (format) {
        case FlowFormat.RawHeader: {
          if (haveHeader) break; // one packet per sample: later headers would be the same packet
          r.need(16);
          const b = r.buf, o = r.pos;
          const proto = u32at(b, o);
          const frame = u32at(b, o + 4);
          const stripped = u32at(b, o + 8);
          const hlen = u32at(b, o + 12);
          r.pos = o + 16;
          const at = r.pos;
          r.skip(hlen); // bounds-checks the header against the record window
          rec.clear(); // the raw header wins over a sampled IPv4/IPv6 record read before it
          const l2 = parsePacketHeader(r.buf, at, at + hlen, proto, rec);
          haveHeader = true;
          frameLen = frame;
          // Fallback IP-layer length: the frame minus what the agent stripped (FCS, usually)
          // minus the link-layer header parsed (0 when the link layer is unknown).
          frameRest = frame - stripped - l2;
          break;
        }
        case FlowFormat.SampledIpv4:
        case FlowFormat.SampledIpv6:
          if (haveHeader) break;
          this.sampledIp(r, format === FlowFormat.SampledIpv6);
          haveSampled = true;
          break;
        case FlowFormat.ExtSwitch: {
          const v = r.u32();
          if (v <= 4095) switchVlan = v;
          break;
        }
        case FlowFormat.ExtRouter: routing.router(r); break;
        case FlowFormat.ExtGateway: routing.gateway(r); break;
      }
      r.leave(saved);
    }
    if (haveHeader) {
      rec.frameBytes = frameLen;
      if (rec.ipVersion === IpVersion.None || rec.bytes === 0) rec.bytes = frameRest > 0 ? frameRest : 0;
      if (rec.ipVersion === IpVersion.None) this.stats.nonIp++;
    } else if (!haveSampled) {
      this.stats.nonIp++;
    }
    if (rec.vlan === 0) rec.vlan = switchVlan; // a tag in the header is what was on the wire
    routing.apply(rec);
    rec.packets = 1;
    rec.samplingRate = rate === 0 ? -1 : rate; // 0 is no sFlow rate: counted by normalization, not taken as "not said"
    rec.inIf = inIf;
    rec.outIf = outIf;
    rec.startMs = rec.endMs = this.receivedMs;
    this.stats.flowSamples++;
    emit(rec);
    return 1;
  }

  /** Sampled IPv4 (0:3) / IPv6 (0:4) record: the agent's own parse, used when no header came. */
  private sampledIp(r: Reader, v6: boolean): void {
    const rec = this.rec;
    rec.clear();
    const length = r.u32();
    const proto = r.u32();
    if (v6) {
      r.copyTo(rec.src6, 16);
      r.copyTo(rec.dst6, 16);
    } else {
      rec.src4 = r.u32();
      rec.dst4 = r.u32();
    }
    rec.srcPort = r.u32() & 0xffff;
    rec.dstPort = r.u32() & 0xffff;
    rec.tcpFlags = r.u32() & 0xff;
    // tos (IPv4) / priority (IPv6): the last word, read only when the record has it
    if (r.left() >= 4) rec.tos = r.u32() & 0xff;
    rec.ipVersion = v6 ? IpVersion.V6 : IpVersion.V4;
    rec.protocol = proto & 0xff;
    rec.bytes = length; // "length of the IP packet excluding lower layer encapsulations"
  }

  /** Counter sample (0:2) or expanded (0:4): generic interface counters into the store. */
  private counterSample(r: Reader, expanded: boolean): void {
    const sequence = r.u32(); // restarts with the counters (sFlow v5 §5): another sign of a reset
    r.skip(expanded ? 8 : 4); // source id
    const n = r.u32();
    if (n > this.maxRecords || n * MIN_ENTRY > r.left()) {
      throw new DecodeError('bad_count', `${n} counter records in ${r.left()} bytes`);
    }
    this.stats.counterSamples++;
    const store = this.counters;
    for (let i = 0; i < n; i++) {
      const format = r.u32();
      const len = r.u32();
      const saved = r.enter(len);
      if (format === CounterFormat.GenericIf && store !== undefined) {
        const c = this.scratchCounters;
        readGenericIfCounters(r, c); // into scratch first: a short record must not half-update the store
        c.agent = this.agent;
        c.subAgent = this.subAgent;
        c.receivedMs = this.receivedMs;
        c.sequence = sequence;
        c.uptimeMs = this.uptimeMs;
        store.put(c);
      }
      r.leave(saved);
    }
  }
}


/** Interface from sFlow's (format, value): format 0 is an ifIndex; 1 (dropped) and 2 (multiple) are not. */
function iface(format: number, value: number): number {
  // 0x3FFFFFFF: input unknown, output the agent itself (sFlow v5 §5): no interface, like a discard
  return format === 0 && value !== 0x3fffffff ? value : 0;
}

