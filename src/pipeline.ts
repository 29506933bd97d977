// Wiring: datagrams -> decode dispatcher -> classify -> aggregate -> sinks. One Pipeline serves the
// live collector (wall clock, UDP listeners, node-schedule boundaries) and replay (capture clock).
import { RELOADABLE_KEYS, type Config } from './config/load.js';
import { Aggregator } from './aggregate/aggregator.js';
import type { IntervalSummary } from './aggregate/summary.js';
import { IntervalClock } from './aggregate/schedule.js';
import { Classifier } from './classify/direction.js';
import { Dispatcher } from './decode/dispatch.js';
import { IpfixDecoder } from './decode/ipfix.js';
import { Netflow5Decoder } from './decode/netflow5.js';
import { Netflow9Decoder } from './decode/netflow9.js';
import { SamplingTable } from './decode/sampling.js';
import { SflowDecoder } from './decode/sflow.js';
import { SflowCounterStore } from './decode/counters-sflow.js';
import { StateSaver } from './decode/state-saver.js';
import { TemplateCache } from './decode/templates.js';
import { Format, type FlowRecord } from './flow/record.js';
import { RecordNormalizer } from './flow/normalize.js';
import { FanOut, type Sink } from './export/sink.js';
import { parseHostPort, UdpListener } from './ingest/udp.js';
import { PrefixTable } from './classify/prefixes.js';
import ipaddr from 'ipaddr.js';
import { Metrics, type Counter } from './lib/counters.js';
import { RateLimitedLog, silentLogger, type Logger } from './lib/log.js';
import type { DecodeError } from './lib/errors.js';

/**
 * Sees every classified record and the pipeline's clock (alerting). Called on the hot path: it must
 * copy what it keeps and allocate as little as it can.
 */
export interface RecordObserver {
  onRecord(rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number, arrivalMs: number): void;
  /** the pipeline's clock moved (each datagram in replay, each interval boundary live) */
  advance(nowMs: number): void;
  /** shutdown / end of replay: close what is open */
  flush(): void | Promise<void>;
}

export interface PipelineOptions {
  /** 'live' uses the wall clock; 'replay' is driven by datagram timestamps */
  mode: 'live' | 'replay';
  sinks: Sink[];
  log?: Logger;
  /** replay --shift-to-now: the wall time to rebase the first record to (whole intervals) */
  shiftToNowMs?: number;
  /** replay --shift-to-now unpaced: a fixed offset for every record time, computed from the capture's end */
  shiftMs?: number;
  /** extra summary consumers (web page, tests) */
  onSummary?: (s: IntervalSummary) => void;
  /** the registry sinks and observers were built with (default: a new one) */
  metrics?: Metrics;
  observers?: RecordObserver[];
  /**
   * Home-group names, in the order the groups of `cfg.networks` take; shared with the alert engine,
   * appended to when a reload adds groups (default: a new list)
   */
  groupNames?: string[];
}

export class Pipeline {
  readonly metrics: Metrics;
  private readonly observers: RecordObserver[];
  readonly templates: TemplateCache;
  readonly sampling: SamplingTable;
  readonly sflowCounters: SflowCounterStore;
  readonly dispatcher: Dispatcher;
  classifier: Classifier;
  readonly aggregator: Aggregator;
  readonly fanout: FanOut;
  private readonly log: Logger;
  private readonly listeners: UdpListener[] = [];
  private intervalClock: IntervalClock | undefined;
  /** the aggregation clock: wall time live, the newest flow end seen in replay (event time) */
  nowMs = 0;
  /** the transport clock: the latest arrival seen (capture time in replay) */
  private arrivalMs = 0;
  /** when the datagram being decoded arrived: what normalization bounds its records' times by */
  private datagramMs = 0;
  /** sampling rates and plausible times and counters, applied to every record first */
  private readonly normalizer: RecordNormalizer;
  private lastSweepMs = 0;
  /** added to every record time (replay --shift-to-now); fixed at the first record */
  private shift = 0;
  private shiftPending: boolean;
  private lastStats: Record<string, number> = {};
  /** the aggregator's totals as self-metrics, brought up to date with each summary */
  private readonly aggregateCounters: { late: Counter; skipped: Counter; saturated: Counter };
  /** the decoder state's file; only the live collector has one (a replayed capture is self-contained) */
  private readonly saver: StateSaver | undefined;
  /** opts.mode === 'replay', read per record */
  private readonly replayMode: boolean;

  constructor(public cfg: Config, private readonly opts: PipelineOptions) {
    this.log = opts.log ?? silentLogger;
    this.shiftPending = opts.shiftToNowMs !== undefined;
    this.shift = opts.shiftMs ?? 0;
    this.replayMode = opts.mode === 'replay';
    this.metrics = opts.metrics ?? new Metrics();
    this.observers = opts.observers ?? [];
    // Templates live on the transport's clock (when datagrams arrive), not on the flows' event time:
    // an exporter replaying old traffic still refreshes its templates now.
    const arrivalNow = () => this.arrivalMs;
    const m = this.metrics;
    const tc = cfg.templates;
    this.templates = new TemplateCache({
      now: arrivalNow, ttlMs: tc.ttl, maxTemplates: tc.max, maxBytes: tc.maxBytes, maxPerExporter: tc.maxPerExporter,
      maxBytesPerExporter: tc.maxBytesPerExporter, pendingTtlMs: tc.pendingTtl, pendingMaxSets: tc.pendingMaxSets,
      pendingMaxSetsPerExporter: tc.pendingMaxSetsPerExporter, pendingMaxBytesPerExporter: tc.pendingMaxBytesPerExporter,
      pendingMaxBytes: tc.pendingMaxBytes, metrics: m, log: new RateLimitedLog(this.log, arrivalNow),
      // held data sets that never saw their template are template misses
      report: (err) => this.dispatcher.reportError(err, err.exporter, err.version === 9 ? Format.NetflowV9 : Format.Ipfix),
    });
    this.sampling = new SamplingTable();
    this.aggregateCounters = {
      late: m.counter('aggregate_late_parts_total', 'Parts of records that arrived after their interval closed, counted in the current one'),
      skipped: m.counter('aggregate_intervals_skipped_total', 'Empty intervals not emitted after a jump of the clock'),
      saturated: m.counter('aggregate_counters_saturated_total', 'Interval counters capped at 2^53 - 1'),
    };
    this.sflowCounters = new SflowCounterStore();
    const rl = new RateLimitedLog(this.log, arrivalNow);
    const reporter = (format: Format) => (err: DecodeError) => this.dispatcher.reportError(err, err.exporter, format);
    this.dispatcher = new Dispatcher({
      decoders: {
        [Format.NetflowV5]: new Netflow5Decoder({ report: reporter(Format.NetflowV5) }),
        [Format.NetflowV9]: new Netflow9Decoder({ templates: this.templates, sampling: this.sampling, report: reporter(Format.NetflowV9) }),
        [Format.Ipfix]: new IpfixDecoder({ templates: this.templates, sampling: this.sampling, report: reporter(Format.Ipfix) }),
        [Format.Sflow]: new SflowDecoder({ report: reporter(Format.Sflow), counters: this.sflowCounters }),
      },
      metrics: m,
      log: rl,
      allow: allowList(cfg.exporters.allow),
    });
    this.classifier = new Classifier(cfg.networks, opts.groupNames);
    this.fanout = new FanOut(opts.sinks, m, this.log);
    this.aggregator = new Aggregator({
      intervalMs: cfg.interval,
      holdMs: cfg.aggregate.hold,
      assign: cfg.aggregate.assign,
      topHosts: cfg.aggregate.topHosts,
      topPorts: cfg.aggregate.topPorts,
      maxHosts: cfg.aggregate.maxHosts,
      maxPorts: cfg.aggregate.maxPorts,
      perExporter: cfg.aggregate.perExporter,
      groupNames: this.classifier.groupNames,
    }, (s) => this.deliver(s), () => this.collectorStats());
    this.normalizer = new RecordNormalizer({
      defaultRate: cfg.sampling.default, overrides: cfg.sampling.overrides, maxRate: cfg.sampling.maxRate,
      maxFlowDurationMs: cfg.aggregate.maxFlowDuration, maxPacketBytes: cfg.aggregate.maxPacketBytes,
      maxLinkBps: cfg.aggregate.maxLinkGbps * 1e9,
    });
    this.dispatcher.setHandler((rec) => this.onRecord(rec));
    const st = cfg.state;
    this.saver = opts.mode === 'live' && st.file
      ? new StateSaver(st.file, { templates: this.templates, sampling: this.sampling },
        { saveEveryMs: st.saveEvery, minIntervalMs: st.minInterval, maxBytes: st.maxBytes }, arrivalNow, this.log, m)
      : undefined;
  }

  /**
   * Applies a reloaded configuration's home networks, exporter allow-list and sinks without closing
   * an interval: groups keep their index and new ones are appended, so what the open intervals
   * counted keeps its meaning, and the old sinks flush what they hold as they stop. Returns the
   * changed keys that only a restart applies. Throws (changing nothing) if a new sink fails to start.
   */
  async reload(cfg: Config, sinks: Sink[]): Promise<string[]> {
    await this.fanout.replace(sinks);
    this.classifier = new Classifier(cfg.networks, this.classifier.groupNames as string[]);
    this.aggregator.groupsChanged();
    this.dispatcher.setAllow(allowList(cfg.exporters.allow));
    const old = this.cfg as unknown as Record<string, unknown>, next = cfg as unknown as Record<string, unknown>;
    const restart = Object.keys(next).filter((k) => !RELOADABLE_KEYS.includes(k) && JSON.stringify(old[k]) !== JSON.stringify(next[k]));
    const merged = { ...old };
    for (const k of RELOADABLE_KEYS) merged[k] = next[k];
    this.cfg = merged as unknown as Config;
    return restart;
  }

  private onRecord(rec: FlowRecord): void {
    const bad = this.normalizer.normalize(rec, this.datagramMs);
    if (bad !== 0) this.dispatcher.adjusted(bad);
    if (this.shiftPending) {
      this.shiftPending = false;
      const I = this.cfg.interval;
      this.shift = Math.floor((this.opts.shiftToNowMs! - rec.endMs) / I) * I;
    }
    if (this.shift !== 0) {
      rec.startMs += this.shift;
      rec.endMs += this.shift;
    }
    // replay runs on event time: the newest flow end seen (exporters replaying old traffic send it late)
    if (this.replayMode && rec.endMs > this.nowMs) {
      this.nowMs = rec.endMs;
      this.aggregator.setClock(rec.endMs);
    }
    const c = this.classifier;
    const dir = c.classify(rec);
    const sg = c.srcGroup, dg = c.dstGroup;
    this.aggregator.add(rec, dir, sg, dg, this.arrivalMs);
    const obs = this.observers;
    for (let i = 0; i < obs.length; i++) obs[i]!.onRecord(rec, dir, sg, dg, this.arrivalMs);
  }

  private advance(): void {
    this.aggregator.advance(this.nowMs);
    for (let i = 0; i < this.observers.length; i++) this.observers[i]!.advance(this.nowMs);
  }

  /** One datagram from `exporter` at `receivedMs` (capture time in replay). Never throws. */
  onDatagram(buf: Buffer, exporter: string, receivedMs: number): void {
    const t = receivedMs;
    this.datagramMs = t;
    if (t > this.arrivalMs) this.arrivalMs = t;
    const replay = this.replayMode;
    if (!replay) {
      this.nowMs = t;
      this.aggregator.setClock(t);
    }
    this.dispatcher.handle(buf, exporter, t);
    if (this.saver !== undefined) this.saver.changed();
    if (replay) {
      this.advance();
      if (t - this.lastSweepMs >= 1000) {
        this.lastSweepMs = t;
        this.templates.sweep();
      }
    }
  }

  private deliver(s: IntervalSummary): void {
    if (s.stats.saturated) this.aggregateCounters.saturated.inc(s.stats.saturated);
    this.opts.onSummary?.(s);
    this.fanout.write(s);
  }

  /** Collector counters as deltas over the period since the previous summary. */
  private collectorStats(): Record<string, number> {
    const m = this.metrics, a = this.aggregator;
    const cur: Record<string, number> = {
      datagrams: m.total('datagrams_decoded_total'),
      records: m.total('records_total'),
      decodeErrors: m.total('decode_errors_total'),
      templateMisses: m.total('template_misses_total'),
      eventRecords: m.total('event_records_total'),
      late: a.lateTotal,
      skippedIntervals: a.skipped,
    };
    // by kind, as decodeErrors_<kind> and recordsAdjusted_<kind> (names every sink can use as a field or path)
    for (const e of m.snapshot()) {
      const prefix = e.name === 'decode_errors_total' ? 'decodeErrors_' : e.name === 'records_adjusted_total' ? 'recordsAdjusted_' : '';
      if (prefix === '') continue;
      const k = `${prefix}${e.labels.kind}`;
      cur[k] = (cur[k] ?? 0) + e.value;
    }
    const out: Record<string, number> = {};
    for (const k of Object.keys(cur)) {
      const d = cur[k]! - (this.lastStats[k] ?? 0);
      // the first five always; the rest only when something happened
      if (d !== 0 || ALWAYS_STATS.has(k)) out[k] = d;
    }
    this.lastStats = cur;
    this.aggregateCounters.late.inc(out.late);
    this.aggregateCounters.skipped.inc(out.skippedIntervals ?? 0);
    return out;
  }

  async start(): Promise<void> {
    this.saver?.load();
    await this.fanout.start();
    if (this.opts.mode === 'replay') return;
    this.nowMs = Date.now();
    const recv = this.cfg.listen.recvBufferSize;
    for (const hp of [...this.cfg.listen.netflow, ...this.cfg.listen.sflow, ...this.cfg.listen.extra]) {
      const { address, port } = parseHostPort(hp);
      const l = new UdpListener({ address, port, recvBufferSize: recv, thread: this.cfg.listen.thread },
        (buf, src, _port, receivedMs) => {
          this.nowMs = receivedMs;
          this.onDatagram(buf, src, receivedMs);
        }, this.metrics);
      await l.start();
      this.listeners.push(l);
      const bound = l.address();
      this.log.info({ listen: hp, address: bound.address, port: bound.port }, 'listening');
    }
    this.aggregator.start(Date.now());
    this.intervalClock = new IntervalClock(this.cfg.interval, (boundary) => {
      this.nowMs = Math.max(Date.now(), boundary);
      if (this.nowMs > this.arrivalMs) this.arrivalMs = this.nowMs; // templates age while exporters are silent
      this.templates.sweep();
      this.advance();
    });
    this.intervalClock.start();
    this.saver?.start();
  }

  listenerAddresses(): { address: string; port: number }[] {
    return this.listeners.map((l) => l.address());
  }

  /** Closes listeners, flushes every open interval to the sinks, saves state, stops the sinks. */
  async stop(): Promise<void> {
    this.intervalClock?.stop();
    this.saver?.stop();
    for (const l of this.listeners.splice(0)) await l.stop();
    if (this.opts.mode === 'live') this.nowMs = Date.now();
    this.templates.dropAllPending();
    if (this.opts.mode === 'live') this.aggregator.setClock(this.nowMs);
    this.aggregator.flush(this.opts.mode === 'live');
    for (const o of this.observers) await o.flush();
    this.saver?.save(); // the last chance: whatever the backoff says
    await this.fanout.stop();
  }
}

/** Collector stats every summary carries, zero or not (docs/output.md); the others appear when non-zero. */
const ALWAYS_STATS = new Set(['datagrams', 'records', 'decodeErrors', 'templateMisses', 'late']);

/** Exporter allow-list check from address text, memoized (bounded) since it runs per datagram. */
function allowList(prefixes: readonly string[], max = 10_000): ((addr: string) => boolean) | undefined {
  if (prefixes.length === 0) return undefined;
  const table = new PrefixTable<boolean>();
  for (const p of prefixes) table.insert(p, true);
  const memo = new Map<string, boolean>();
  return (addr: string) => {
    let ok = memo.get(addr);
    if (ok === undefined) {
      ok = false;
      if (ipaddr.isValid(addr)) {
        const ip = ipaddr.process(addr);
        const bytes = ip.toByteArray();
        ok = (ip.kind() === 'ipv4'
          ? table.lookup4(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0)
          : table.lookup6(Uint8Array.from(bytes))) === true;
      }
      if (memo.size >= max) memo.clear();
      memo.set(addr, ok);
    }
    return ok;
  };
}
