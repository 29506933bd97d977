// decode -> classify -> aggregate, on a clock its driver moves: the live collector (live.ts: arrival
// time, interval boundaries from the wall clock) or replay (ingest/replay.ts: event time, the newest
// flow end seen). Which clock is chosen once, when the pipeline is built: the per-record path has no
// mode to test. Summaries go to `onSummary`; the composition root hands them to the sinks.
import type { Config } from './config/load.js';
import { Aggregator } from './aggregate/aggregator.js';
import type { IntervalSummary } from './aggregate/summary.js';
import { Classifier } from './classify/direction.js';
import { GroupRegistry } from './classify/groups.js';
import { Dispatcher } from './decode/dispatch.js';
import { IpfixDecoder } from './decode/ipfix.js';
import { Netflow5Decoder } from './decode/netflow5.js';
import { Netflow9Decoder } from './decode/netflow9.js';
import { SamplingTable } from './decode/sampling.js';
import { SflowDecoder } from './decode/sflow.js';
import { SflowCounterStore } from './decode/counters-sflow.js';
import { InterfaceCounters } from './aggregate/interface-counters.js';
import { InterfaceNames } from './decode/interface-names.js';
import { labelInterfaces } from './aggregate/interface-labels.js';
import { TemplateCache } from './decode/templates.js';
import { Format, type FlowRecord } from './flow/record.js';
import type { RecordObserver } from './flow/observer.js';
import { RecordNormalizer } from './flow/normalize.js';
import { CollectorStats } from './aggregate/collector-stats.js';
import { checkViews } from './config/views.js';
import { allowList } from './ingest/allow-list.js';
import { Metrics, type Counter } from './lib/counters.js';
import type { Clock } from './lib/clock.js';
import { RateLimitedLog, silentLogger, type Logger } from './lib/log.js';
import type { DecodeError } from './lib/errors.js';

export interface PipelineOptions {
  /**
   * The aggregation clock. 'arrival': the datagrams' arrival, moved on by the driver's tick() (the
   * live collector). 'event': the newest flow end seen, advanced after each datagram, so a replay's
   * output does not depend on when the exporter happened to send.
   */
  time: 'arrival' | 'event';
  /** where summaries go (the composition root's fan-out, a test's list) */
  onSummary?: (s: IntervalSummary) => void;
  log?: Logger;
  /** the registry sinks and observers were built with (default: a new one) */
  metrics?: Metrics;
  observers?: RecordObserver[];
  /** the home-group names, shared with alerting (default: a registry of cfg.networks) */
  groups?: GroupRegistry;
  /** replay --shift-to-now: the wall time to rebase the first record to (whole intervals) */
  shiftToNowMs?: number;
  /** replay --shift-to-now unpaced: a fixed offset for every record time, computed from the capture's end */
  shiftMs?: number;
}

export class Pipeline {
  readonly metrics: Metrics;
  private readonly observers: RecordObserver[];
  readonly templates: TemplateCache;
  readonly sampling: SamplingTable;
  readonly sflowCounters: SflowCounterStore;
  /** sFlow counter samples' rises per interval of arrival, taken by deliver() */
  readonly interfaces: InterfaceCounters;
  /** interface names, learned from v9/IPFIX options data and configured (`interfaces`), put on the summaries */
  readonly interfaceNames: InterfaceNames;
  readonly dispatcher: Dispatcher;
  classifier: Classifier;
  readonly aggregator: Aggregator;
  readonly groups: GroupRegistry;
  private readonly log: Logger;
  /** the transport clock: the latest arrival seen (capture time in replay) */
  private arrivalMs = 0;
  /** when the datagram being decoded arrived: what normalization bounds its records' times by */
  private datagramMs = 0;
  /** event time: the newest flow end seen */
  private eventMs = 0;
  /** sampling rates and plausible times and counters, applied to every record first */
  private readonly normalizer: RecordNormalizer;
  private lastSweepMs = 0;
  /** added to every record time (replay --shift-to-now); fixed at the first record */
  private shift = 0;
  private shiftPending: boolean;
  private readonly intervalMs: number;
  private readonly saturated: Counter;
  /** One datagram from `exporter` at `receivedMs` (capture time in replay). Never throws. */
  readonly onDatagram: (buf: Buffer, exporter: string, receivedMs: number) => void;
  /** The transport clock (templates and the state file age on it, not on the flows' event time). */
  readonly arrivalClock: Clock = () => this.arrivalMs;

  constructor(cfg: Config, private readonly opts: PipelineOptions) {
    this.log = opts.log ?? silentLogger;
    this.shiftPending = opts.shiftToNowMs !== undefined;
    this.shift = opts.shiftMs ?? 0;
    this.intervalMs = cfg.interval;
    this.metrics = opts.metrics ?? new Metrics();
    this.observers = opts.observers ?? [];
    this.groups = opts.groups ?? new GroupRegistry(Object.keys(cfg.networks));
    // Templates live on the transport's clock (when datagrams arrive), not on the flows' event time:
    // an exporter replaying old traffic still refreshes its templates now.
    const arrivalNow = this.arrivalClock;
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
    this.interfaceNames = new InterfaceNames({ metrics: m });
    this.interfaceNames.configure(cfg.interfaces);
    const names = this.interfaceNames;
    // registered in this order: late parts, skipped intervals, saturated counters
    const stats = new CollectorStats(m, () => this.aggregator);
    this.saturated = m.counter('aggregate_counters_saturated_total', 'Interval counters capped at 2^53 - 1');
    this.interfaces = new InterfaceCounters({ intervalMs: cfg.interval, metrics: m });
    this.sflowCounters = new SflowCounterStore(undefined, {
      maxLinkBps: cfg.aggregate.maxLinkGbps * 1e9, metrics: m,
      onDelta: (d) => this.interfaces.add(d, d.receivedMs + this.shift),
    });
    const rl = new RateLimitedLog(this.log, arrivalNow);
    const reporter = (format: Format) => (err: DecodeError) => this.dispatcher.reportError(err, err.exporter, format);
    this.dispatcher = new Dispatcher({
      decoders: {
        [Format.NetflowV5]: new Netflow5Decoder({ report: reporter(Format.NetflowV5) }),
        [Format.NetflowV9]: new Netflow9Decoder({ templates: this.templates, sampling: this.sampling, report: reporter(Format.NetflowV9), names }),
        [Format.Ipfix]: new IpfixDecoder({ templates: this.templates, sampling: this.sampling, report: reporter(Format.Ipfix), names }),
        [Format.Sflow]: new SflowDecoder({ report: reporter(Format.Sflow), counters: this.sflowCounters }),
      },
      metrics: m,
      log: rl,
      allow: allowList(cfg.exporters.allow),
    });
    this.classifier = new Classifier(cfg.networks, this.groups);
    checkViews(cfg, this.groups.names);
    this.aggregator = new Aggregator({
      intervalMs: cfg.interval,
      holdMs: cfg.aggregate.hold,
      assign: cfg.aggregate.assign,
      topHosts: cfg.aggregate.topHosts,
      topPorts: cfg.aggregate.topPorts,
      maxHosts: cfg.aggregate.maxHosts,
      maxPorts: cfg.aggregate.maxPorts,
      perExporter: cfg.aggregate.perExporter,
      views: cfg.views,
      maxViewTuples: cfg.aggregate.maxViewTuples,
    }, (s) => this.deliver(s), () => stats.delta(), this.groups);
    this.normalizer = new RecordNormalizer({
      defaultRate: cfg.sampling.default, overrides: cfg.sampling.overrides, maxRate: cfg.sampling.maxRate,
      maxFlowDurationMs: cfg.aggregate.maxFlowDuration, maxPacketBytes: cfg.aggregate.maxPacketBytes,
      maxLinkBps: cfg.aggregate.maxLinkGbps * 1e9,
    });
    if (opts.time === 'event') {
      this.dispatcher.setHandler((rec) => this.onRecordEventTime(rec));
      this.onDatagram = (buf, exporter, t) => {
        this.decode(buf, exporter, t);
        this.advance(this.eventMs);
      };
    } else {
      this.dispatcher.setHandler((rec) => this.onRecord(rec));
      this.onDatagram = (buf, exporter, t) => {
        this.aggregator.setClock(t);
        this.decode(buf, exporter, t);
      };
    }
  }

  /**
   * Applies a reloaded configuration's home networks and exporter allow-list without closing an
   * interval: groups keep their index and new ones are appended (the registry tells the aggregator).
   * Views: an unchanged one keeps counting, a new or changed one counts from now on (Aggregator.setViews).
   * Configured interface names label the next summary on.
   */
  reload(cfg: Config): void {
    checkViews(cfg, this.groups.with(Object.keys(cfg.networks))); // throws before anything changes
    this.classifier = new Classifier(cfg.networks, this.groups);
    this.aggregator.setViews(cfg.views);
    this.dispatcher.setAllow(allowList(cfg.exporters.allow));
    this.interfaceNames.configure(cfg.interfaces);
  }

  /** Event time: the record's times rebased (replay --shift-to-now), then the clock moved to its end. */
  private onRecordEventTime(rec: FlowRecord): void {
    const bad = this.normalizer.normalize(rec, this.datagramMs);
    if (bad !== 0) this.dispatcher.adjusted(bad);
    if (this.shiftPending) {
      this.shiftPending = false;
      const I = this.intervalMs;
      this.shift = Math.floor((this.opts.shiftToNowMs! - rec.endMs) / I) * I;
    }
    if (this.shift !== 0) {
      rec.startMs += this.shift;
      rec.endMs += this.shift;
    }
    // exporters replaying old traffic send it late: the clock is the newest flow end seen
    if (rec.endMs > this.eventMs) {
      this.eventMs = rec.endMs;
      this.aggregator.setClock(rec.endMs);
    }
    this.add(rec);
  }

  private onRecord(rec: FlowRecord): void {
    const bad = this.normalizer.normalize(rec, this.datagramMs);
    if (bad !== 0) this.dispatcher.adjusted(bad);
    this.add(rec);
  }

  private add(rec: FlowRecord): void {
    const c = this.classifier;
    const dir = c.classify(rec);
    const sg = c.srcGroup, dg = c.dstGroup;
    this.aggregator.add(rec, dir, sg, dg, this.arrivalMs);
    const obs = this.observers;
    for (let i = 0; i < obs.length; i++) obs[i]!.onRecord(rec, dir, sg, dg, this.arrivalMs);
  }

  private decode(buf: Buffer, exporter: string, t: number): void {
    this.datagramMs = t;
    if (t > this.arrivalMs) this.arrivalMs = t;
    this.dispatcher.handle(buf, exporter, t);
  }

  /** Arrival time: summaries are emitted from the interval holding `nowMs` on, empty or not. */
  start(nowMs: number): void {
    this.aggregator.start(nowMs);
  }

  /**
   * Arrival time, at each interval boundary: the clock moves to `nowMs` even when no datagram came, so
   * intervals close and templates age while exporters are silent.
   */
  tick(nowMs: number): void {
    if (nowMs > this.arrivalMs) this.arrivalMs = nowMs;
    this.advance(nowMs);
  }

  /**
   * Closes the intervals whose hold has passed by `nowMs`, lets the observers close theirs and ages
   * templates (at most once a second of arrival time).
   */
  private advance(nowMs: number): void {
    if (this.arrivalMs - this.lastSweepMs >= 1000) {
      this.lastSweepMs = this.arrivalMs;
      this.templates.sweep();
    }
    this.aggregator.advance(nowMs);
    for (let i = 0; i < this.observers.length; i++) this.observers[i]!.advance(nowMs);
  }

  /**
   * Emits every open interval: at the end of a replay up to the last holding data, live (`nowMs`
   * given) at least up to the one holding `nowMs`, empty or not. Held data sets whose template never
   * came are counted as misses. Then the observers close theirs.
   */
  async finish(nowMs?: number): Promise<void> {
    this.templates.dropAllPending();
    if (nowMs !== undefined) this.aggregator.setClock(nowMs);
    this.aggregator.flush(nowMs !== undefined);
    // counter samples after the capture's last flow (or in a capture without flows): their intervals
    // are emitted too, with no flows
    const k = this.interfaces.lastOpen();
    if (k >= 0) {
      if (!this.aggregator.started) this.aggregator.start(this.interfaces.firstOpen() * this.intervalMs);
      this.aggregator.setClock(k * this.intervalMs);
      this.aggregator.flush(true);
    }
    for (const o of this.observers) await o.flush();
  }

  /** view_tuples_capped_total{view}: records a view's tuple cap put in its other. */
  private countCapped(s: IntervalSummary): void {
    const capped = s.stats.viewTuplesCapped;
    if (!capped) return;
    for (const [view, n] of Object.entries(capped)) {
      this.metrics.counter('view_tuples_capped_total', 'Records whose key tuple did not fit a view (aggregate.maxViewTuples), counted in its other', { view }).inc(n);
    }
  }

  private deliver(s: IntervalSummary): void {
    const ifs = this.interfaces.take(s.start / s.interval, s.interval);
    if (ifs !== undefined) s.interfaces = ifs;
    labelInterfaces(s, this.interfaceNames);
    if (s.stats.saturated) this.saturated.inc(s.stats.saturated);
    this.countCapped(s);
    this.opts.onSummary?.(s);
  }
}
