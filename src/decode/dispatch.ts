// The decode stage: detects the format from the version word, runs the decoder, counts everything per
// exporter and format (records the next stage had to adjust included: adjusted()), and never lets an
// error escape a datagram.
import { DecodeError } from '../lib/errors.js';
import type { Counter, Metrics } from '../lib/counters.js';
import type { RateLimitedLog } from '../lib/log.js';
import { Format, type FlowRecord, type RecordHandler } from '../flow/record.js';
import { BAD_KINDS } from '../flow/normalize.js';
import type { DatagramDecoder } from './types.js';

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

interface ExporterCounters {
  /** the exporter label: the exporter, or "other" past the cache's bound */
  exporter: string;
  datagrams: Counter;
  bytes: Counter;
  records: Counter;
  /** records adjusted by normalization, by BAD_KINDS index; created on the first */
  adjusted: (Counter | undefined)[] | undefined;
  /** decode_errors_total by kind; created on the first */
  errors: Map<string, Counter> | undefined;
  /** event_records_total; created on the first */
  events: Counter | undefined;
}

/** Error kinds cached per exporter (there are about ten). */
const MAX_ERROR_KINDS = 16;

export interface DispatcherDeps {
  decoders: Partial<Record<Format, DatagramDecoder>>;
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
  /** counters of the exporters past the cache's bound, by format slot */
  private readonly overflow: (ExporterCounters | undefined)[] = [undefined, undefined, undefined, undefined];
  private cached = 0;
  private lastExporter = '';
  private lastFormat: Format = Format.Unknown;
  private readonly unknownFormat: Counter;
  private readonly denied: Counter;
  private onRecord: RecordHandler = () => {};
  /** per-record wrapper counting the record; one closure for the dispatcher's lifetime, small enough to inline */
  private readonly emit: RecordHandler;
  private current: ExporterCounters | undefined;
  /** the datagram being decoded: its format */
  private format: Format = Format.Unknown;
  /** Bad bits of the records adjusted in this datagram, and how many: logged once at its end */
  private bad = 0;
  private badRecords = 0;

  constructor(private readonly deps: DispatcherDeps) {
    const m = deps.metrics;
    this.unknownFormat = m.counter('decode_errors_total', 'Datagrams or sets dropped by decode errors', { kind: 'unknown_version', format: 'unknown' });
    this.denied = m.counter('datagrams_denied_total', 'Datagrams from exporters outside exporters.allow');
    deps.log?.setMetrics(m); // logs_suppressed_total{kind} beside the decode error counters
    this.emit = (rec: FlowRecord) => {
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
    const slot = formatSlot(format);
    let byFormat = this.perExporter.get(exporter);
    let c = byFormat?.[slot];
    if (c === undefined) {
      // bounded as the registry's series are: past the cap every new exporter counts as "other", once
      // per format, so a flood of spoofed exporters costs no registry lookup per datagram
      const full = this.cached >= this.deps.metrics.maxSeries;
      c = full ? this.overflow[slot] : undefined;
      if (c === undefined) {
        c = this.newCounters(full ? 'other' : exporter, format);
        if (full) this.overflow[slot] = c;
        else {
          if (byFormat === undefined) {
            byFormat = [undefined, undefined, undefined, undefined];
            this.perExporter.set(exporter, byFormat);
          }
          byFormat[slot] = c;
          this.cached++;
        }
      }
    }
    this.lastExporter = exporter;
    this.lastFormat = format;
    return c;
  }

  private newCounters(exporter: string, format: Format): ExporterCounters {
    const m = this.deps.metrics, labels = { exporter, format: formatName(format) };
    return {
      exporter,
      datagrams: m.counter('datagrams_decoded_total', 'Datagrams handed to a decoder', labels),
      bytes: m.counter('datagram_bytes_total', 'Bytes of datagrams handed to a decoder', labels),
      records: m.counter('records_total', 'Flow records (or sFlow flow samples) decoded', labels),
      adjusted: undefined,
      errors: undefined,
      events: undefined,
    };
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
    this.format = format;
    c.datagrams.inc();
    c.bytes.inc(buf.length);
    try {
      return decoder.decode(buf, exporter, receivedMs, this.emit);
    } catch (err) {
      this.reportError(err, exporter, format);
      return 0;
    } finally {
      if (this.bad !== 0) this.logAdjusted(exporter);
      const ev = decoder.events;
      if (ev !== undefined && ev > 0) {
        (c.events ??= this.deps.metrics.counter('event_records_total',
          'Records without traffic counters (NAT and firewall events): counted here, not as flows',
          { exporter: c.exporter, format: formatName(format) })).inc(ev);
      }
    }
  }

  /**
   * Counts a record of the datagram being decoded that normalization (flow/normalize.ts, run by the
   * record handler) had to adjust, by kind; logged once per datagram (logAdjusted).
   */
  adjusted(bad: number): void {
    const c = this.current!;
    const byKind = (c.adjusted ??= [undefined, undefined, undefined]);
    for (let i = 0; i < BAD_KINDS.length; i++) {
      const [bit, kind] = BAD_KINDS[i]!;
      if ((bad & bit) === 0) continue;
      (byKind[i] ??= this.deps.metrics.counter('records_adjusted_total',
        'Records counted after adjusting what cannot be: times (bad_time), counters (bad_counter), sampling rate (bad_sampling)',
        { kind, exporter: c.exporter, format: formatName(this.format) })).inc();
    }
    this.bad |= bad;
    this.badRecords++;
  }

  /** One rate-limited line per kind for the records of this datagram that were adjusted. */
  private logAdjusted(exporter: string): void {
    for (const [bit, kind] of BAD_KINDS) {
      if ((this.bad & bit) === 0) continue;
      this.deps.log?.warn(`${kind}:${exporter}`, { exporter, format: formatName(this.format), kind, records: this.badRecords },
        'implausible records adjusted');
    }
    this.bad = this.badRecords = 0;
  }


  /** Counts a decode error by kind, exporter and format (also the ErrorReporter given to decoders). */
  reportError(err: unknown, exporter: string, format: Format): void {
    const kind = err instanceof DecodeError ? err.kind : 'internal';
    const labels = { kind, exporter: err instanceof DecodeError && err.exporter ? err.exporter : exporter, format: formatName(format) };
    // the datagram's own exporter and format (the usual case): its counters are cached, so a flood of
    // bad datagrams builds no label key per error
    const c = labels.exporter === this.lastExporter && format === this.lastFormat ? this.current : undefined;
    let counter = c?.errors?.get(kind);
    if (counter === undefined) {
      counter = this.deps.metrics.counter('decode_errors_total', 'Datagrams or sets dropped by decode errors',
        c === undefined ? labels : { ...labels, exporter: c.exporter });
      if (c !== undefined && (c.errors ??= new Map()).size < MAX_ERROR_KINDS) c.errors.set(kind, counter);
    }
    counter.inc();
    if (kind === 'template_missing') {
      this.deps.metrics.counter('template_misses_total', 'Data sets dropped because their template never arrived', { exporter: labels.exporter, format: labels.format }).inc();
    }
    this.deps.log?.warn(`${kind}:${exporter}`, { exporter, format: labels.format, kind, err: (err as Error)?.message }, 'decode error');
  }
}
