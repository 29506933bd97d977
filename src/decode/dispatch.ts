// The decode stage: detects the format from the version word, runs the decoder, resolves the sampling
// rate, counts everything per exporter and format, and never lets an error escape a datagram.
import { DecodeError } from '../lib/errors.js';
import type { Counter, Metrics } from '../lib/counters.js';
import type { RateLimitedLog } from '../lib/log.js';
import type { FlowRecord, RecordHandler } from '../flow/record.js';
import type { DatagramDecoder } from './types.js';

export const enum Format { Unknown = 0, NetflowV5 = 5, NetflowV9 = 9, Ipfix = 10, Sflow = 5000 }

const FORMAT_NAMES: Record<number, string> = { 0: 'unknown', 5: 'netflow5', 9: 'netflow9', 10: 'ipfix', 5000: 'sflow5' };

export function formatName(f: number): string {
  return FORMAT_NAMES[f] ?? 'unknown';
}

/** Format from the first bytes: NetFlow/IPFIX carry a 16-bit version, sFlow a 32-bit one. */
export function detectFormat(buf: Buffer): Format {
  if (buf.length < 4) return Format.Unknown;
  const v16 = buf.readUInt16BE(0);
  if (v16 === 5) return Format.NetflowV5;
  if (v16 === 9) return Format.NetflowV9;
  if (v16 === 10) return Format.Ipfix;
  if (v16 === 0 && buf.readUInt16BE(2) === 5) return Format.Sflow;
  return Format.Unknown;
}

export interface SamplingConfig {
  /** rate for records whose exporter sends none (1 = unsampled) */
  default: number;
  /** exporter address -> rate; wins over what the exporter sends (for exporters that lie or omit it) */
  overrides: Readonly<Record<string, number>>;
}

interface ExporterCounters {
  datagrams: Counter;
  bytes: Counter;
  records: Counter;
}

export interface DispatcherDeps {
  decoders: Partial<Record<Format, DatagramDecoder>>;
  sampling: SamplingConfig;
  metrics: Metrics;
  log?: RateLimitedLog;
  /** exporters accepted (default: all); returning false drops and counts the datagram */
  allow?: (exporter: string) => boolean;
}

/** Small index per format for the per-exporter counter arrays. */
function formatSlot(f: Format): number {
  return f === Format.NetflowV5 ? 0 : f === Format.NetflowV9 ? 1 : f === Format.Ipfix ? 2 : 3;
}

export class Dispatcher {
  /** exporter -> counters by format slot; no string is built per datagram */
  private readonly perExporter = new Map<string, (ExporterCounters | undefined)[]>();
  private cached = 0;
  private lastExporter = '';
  private lastFormat: Format = Format.Unknown;
  private readonly unknownFormat: Counter;
  private readonly denied: Counter;
  private onRecord: RecordHandler = () => {};
  /** per-record wrapper resolving the sampling rate; one closure for the dispatcher's lifetime */
  private readonly emit: RecordHandler;
  private current: ExporterCounters | undefined;

  constructor(private readonly deps: DispatcherDeps) {
    const m = deps.metrics;
    this.unknownFormat = m.counter('decode_errors_total', 'Datagrams or sets dropped by decode errors', { kind: 'unknown_version', format: 'unknown' });
    this.denied = m.counter('datagrams_denied_total', 'Datagrams from exporters outside exporters.allow');
    const { default: def, overrides } = deps.sampling;
    const hasOverrides = Object.keys(overrides).length > 0;
    this.emit = (rec: FlowRecord) => {
      if (hasOverrides) {
        const o = overrides[rec.exporter];
        if (o !== undefined) rec.samplingRate = o;
      }
      if (!(rec.samplingRate > 0)) rec.samplingRate = def;
      this.current!.records.inc();
      this.onRecord(rec);
    };
  }

  setHandler(h: RecordHandler): void {
    this.onRecord = h;
  }

  private counters(exporter: string, format: Format): ExporterCounters {
    // datagrams of one exporter usually come in runs: the last hit is a string compare away
    if (exporter === this.lastExporter && format === this.lastFormat && this.current !== undefined) return this.current;
    let byFormat = this.perExporter.get(exporter);
    let c = byFormat?.[formatSlot(format)];
    if (c === undefined) {
      const m = this.deps.metrics, labels = { exporter, format: formatName(format) };
      c = {
        datagrams: m.counter('datagrams_decoded_total', 'Datagrams handed to a decoder', labels),
        bytes: m.counter('datagram_bytes_total', 'Bytes of datagrams handed to a decoder', labels),
        records: m.counter('records_total', 'Flow records (or sFlow flow samples) decoded', labels),
      };
      // bounded: the metrics registry folds series past its cap; the cache follows the same bound
      if (this.cached < this.deps.metrics.maxSeries) {
        if (byFormat === undefined) {
          byFormat = [undefined, undefined, undefined, undefined];
          this.perExporter.set(exporter, byFormat);
        }
        byFormat[formatSlot(format)] = c;
        this.cached++;
      }
    }
    this.lastExporter = exporter;
    this.lastFormat = format;
    return c;
  }

  /** Replaces the exporter allow-list (configuration reload); undefined accepts every exporter. */
  setAllow(allow: ((exporter: string) => boolean) | undefined): void {
    this.deps.allow = allow;
  }

  /** Handles one datagram. Never throws. Returns the number of records emitted. */
  handle(buf: Buffer, exporter: string, receivedMs: number): number {
    if (this.deps.allow && !this.deps.allow(exporter)) {
      this.denied.inc();
      return 0;
    }
    const format = detectFormat(buf);
    const decoder = this.deps.decoders[format];
    if (decoder === undefined) {
      this.unknownFormat.inc();
      this.deps.log?.warn(`unknown:${exporter}`, { exporter, first: buf.subarray(0, 4).toString('hex') }, 'datagram of unknown format dropped');
      return 0;
    }
    const c = this.counters(exporter, format);
    this.current = c;
    c.datagrams.inc();
    c.bytes.inc(buf.length);
    try {
      return decoder.decode(buf, exporter, receivedMs, this.emit);
    } catch (err) {
      this.reportError(err, exporter, format);
      return 0;
    }
  }

  /** Counts a decode error by kind, exporter and format (also the ErrorReporter given to decoders). */
  reportError(err: unknown, exporter: string, format: Format): void {
    const kind = err instanceof DecodeError ? err.kind : 'internal';
    const labels = { kind, exporter: err instanceof DecodeError && err.exporter ? err.exporter : exporter, format: formatName(format) };
    this.deps.metrics.counter('decode_errors_total', 'Datagrams or sets dropped by decode errors', labels).inc();
    if (kind === 'template_missing') {
      this.deps.metrics.counter('template_misses_total', 'Data sets dropped because their template never arrived', { exporter: labels.exporter, format: labels.format }).inc();
    }
    this.deps.log?.warn(`${kind}:${exporter}`, { exporter, format: labels.format, kind, err: (err as Error)?.message }, 'decode error');
  }
}
