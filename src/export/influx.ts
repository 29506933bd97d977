// InfluxDB sink: every closed interval becomes one batch of line protocol (schema: series.ts and
// docs/metrics.md) written through the official client's WriteApi, which owns batching, gzip, retries
// with backoff and the bounded retry buffer. `api: "v1"` points the same WriteApi at /write for
// InfluxDB 1.0–1.7. Every line handed to the client ends up counted exactly once: written, failed
// (given up on) or dropped (buffer overflow, shutdown), so queue = handed − those three. A collector
// `instance` (docs/scaling.md) is one more tag on every point, so collectors sharing a database never
// write the same series.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import { HttpError, InfluxDB, Point, setLogger, type WriteApi, type WriteOptions, type WritePrecisionType } from '@influxdata/influxdb-client';
import type { IntervalSummary } from '../aggregate/summary.js';
import type { AlertEvent } from '../alert/event.js';
import type { SinksConfig } from '../config/sinks.js';
import type { Metrics } from '../lib/counters.js';
import { RateLimitedLog, silentLogger, type Logger } from '../lib/log.js';
import { InfluxConfigError, v1AuthHeaders, v1WritePath } from './influx-v1.js';
import {
  alertSeries, ALERTS, influxFields, influxSeriesKey, SeriesWalker, SinkCounters, type ExtraTags, type MeasurementDef, type SinkRow,
} from './series.js';
import type { Sink } from './sink.js';

export interface InfluxSinkOptions {
  name: string;
  url: string;
  /** v2: /api/v2/write (2.x, 3.x, 1.8+); v1: /write?db=&rp= with basic auth (1.0–1.7) */
  api: 'v2' | 'v1';
  /** v2 token; 1.8+ and v1 mode: "username:password" */
  token: string;
  org: string;
  /** bucket; 1.8+ and v1 mode: "db" or "db/rp"; 3.x: the database */
  bucket: string;
  timeoutMs: number;
  /** lines per request: above one interval's series, so each interval is one request flush() awaits */
  batchSize: number;
  /** lines the retry buffer holds during an outage; past it the oldest are dropped (counted) */
  maxBufferLines: number;
  maxRetries: number;
  maxRetryTimeMs: number;
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
  retryJitterMs: number;
  gzip: boolean;
  /** reuse connections: one request per interval is not worth a TCP (and TLS) handshake each */
  keepAlive: boolean;
  /** stop() gives up waiting for the server after this long and counts what is left as dropped */
  stopTimeoutMs: number;
  /** cap on cached escaped series names per measurement (cleared when exceeded) */
  maxCachedSeries: number;
  /** this collector's name (config `instance`), the `instance` tag of every point; "" = no tag */
  instance: string;
}

export const INFLUX_DEFAULTS: InfluxSinkOptions = {
  name: 'influx',
  url: 'http://127.0.0.1:8086',
  api: 'v2',
  token: '',
  org: '',
  bucket: 'flowbridge',
  timeoutMs: 10_000,
  batchSize: 20_000,
  // about 80 intervals of 2,500 series (the default top-N tables), ~25 MB
  maxBufferLines: 200_000,
  maxRetries: 1000,
  maxRetryTimeMs: 3_600_000,
  minRetryDelayMs: 1000,
  maxRetryDelayMs: 30_000,
  retryJitterMs: 1000,
  gzip: true,
  keepAlive: true,
  stopTimeoutMs: 10_000,
  maxCachedSeries: 100_000,
  instance: '',
};

export interface InfluxSinkDeps {
  metrics: Metrics;
  log?: Logger;
  now?: () => number;
}

/** The client writes this message when a batch's retry time ran out (then it gives up). */
const MAX_RETRY_TIME = 'Max retry time exceeded.';

export class InfluxSink implements Sink {
  readonly name: string;
  readonly opts: InfluxSinkOptions;
  private readonly api: WriteApi;
  /** alerts carry their own time (ms, written in ns); a second WriteApi keeps the summary batches in seconds */
  private readonly alertApi: WriteApi;
  /** the previous alert's millisecond and its sequence number within it (see alertTime) */
  private alertMs = -1;
  private alertSeq = 0;
  private readonly agent: HttpAgent;
  private readonly walker = new SeriesWalker();
  private readonly cache = new Map<MeasurementDef, Map<string, string>>();
  private readonly extra: ExtraTags;
  private readonly pending = new Set<Promise<void>>();
  private readonly log: Logger;
  private readonly rl: RateLimitedLog;
  private readonly now: () => number;
  private readonly c: SinkCounters;
  /** lines handed to the client */
  private handed = 0;
  private stopping = false;
  private done = false;

  constructor(options: Partial<InfluxSinkOptions>, deps: InfluxSinkDeps) {
    const o: InfluxSinkOptions = { ...INFLUX_DEFAULTS, ...options };
    this.opts = o;
    this.name = o.name;
    this.log = deps.log ?? silentLogger;
    this.now = deps.now ?? Date.now;
    this.rl = new RateLimitedLog(this.log, this.now);
    this.c = new SinkCounters(deps.metrics, o.name);
    this.extra = o.instance === '' ? [] : [['instance', o.instance]];
    // the client logs every failure to the console by default; we count and log them ourselves
    setLogger({
      error: (msg: string, err?: unknown) => this.log.debug({ sink: o.name, err: (err as Error | undefined)?.message }, msg),
      warn: (msg: string, err?: unknown) => this.log.debug({ sink: o.name, err: (err as Error | undefined)?.message }, msg),
    });
    const https = o.url.startsWith('https:');
    this.agent = https ? new HttpsAgent({ keepAlive: o.keepAlive, maxSockets: 4 }) : new HttpAgent({ keepAlive: o.keepAlive, maxSockets: 4 });
    const v1 = o.api === 'v1';
    const client = new InfluxDB({
      url: o.url,
      token: v1 || o.token === '' ? undefined : o.token,
      timeout: o.timeoutMs,
      transportOptions: { agent: this.agent },
    });
    const writeOptions: Partial<WriteOptions> = {
      batchSize: o.batchSize,
      // no timer: write() flushes each interval explicitly, so one interval is one request
      flushInterval: 0,
      maxBufferLines: o.maxBufferLines,
      maxRetries: o.maxRetries,
      maxRetryTime: o.maxRetryTimeMs,
      minRetryDelay: o.minRetryDelayMs,
      maxRetryDelay: o.maxRetryDelayMs,
      retryJitter: o.retryJitterMs,
      exponentialBase: 2,
      gzipThreshold: o.gzip ? 1000 : Number.MAX_SAFE_INTEGER,
      headers: v1 ? v1AuthHeaders(o.token) : {},
      // synchronous on purpose: a Promise returned here would replace the client's retry logic
      writeFailed: (err, lines, attempt) => {
        this.onFailed(err, lines.length, attempt);
      },
      writeSuccess: (lines) => {
        if (this.done) return;
        this.c.lines.inc(lines.length);
        this.updateQueue();
      },
      writeRetrySkipped: (entry) => {
        if (this.done) return;
        this.c.dropped.inc(entry.lines.length);
        this.updateQueue();
        this.rl.warn(`${o.name}-overflow`, { sink: o.name, lines: entry.lines.length, maxBufferLines: o.maxBufferLines },
          'sink buffer full: oldest lines dropped');
      },
    };
    this.api = this.writeApi(client, 's', writeOptions);
    this.alertApi = this.writeApi(client, 'ns', writeOptions);
  }

  private writeApi(client: InfluxDB, precision: WritePrecisionType, wo: Partial<WriteOptions>): WriteApi {
    const api = client.getWriteApi(this.opts.org, this.opts.bucket, precision, wo);
    if (this.opts.api === 'v1') api.path = v1WritePath(this.opts.bucket, precision);
    return api;
  }

  /** lines handed to the client and not yet written, failed or dropped */
  get queued(): number {
    return this.handed - this.c.lines.value - this.c.failed.value - this.c.dropped.value;
  }

  private updateQueue(): void {
    this.c.queue.set(this.queued);
  }

  private onFailed(err: Error, lines: number, attempt: number): void {
    if (this.done) return;
    // InfluxDB Enterprise reports a full hinted-handoff queue as an error, yet the client takes it as success
    if (err instanceof HttpError && typeof err.json?.error === 'string' && err.json.error.includes('hinted handoff queue not empty')) return;
    this.c.errors.inc();
    // mirrors the client's decision: it retries network errors and HTTP ≥ 429 while attempts and time last
    const retried = err.message !== MAX_RETRY_TIME && attempt <= this.opts.maxRetries &&
      !(err instanceof HttpError && err.statusCode < 429);
    if (retried) {
      this.c.retries.inc();
    } else {
      this.c.failed.inc(lines);
      this.updateQueue();
    }
    const status = err instanceof HttpError ? err.statusCode : undefined;
    this.rl.warn(`${this.name}-write`, { sink: this.name, err: err.message, status, attempt, lines, retried },
      retried ? 'sink write failed, will retry' : 'sink write failed, lines given up');
  }

  /** The series of one summary as line protocol, each line a cached series key plus fields and time. */
  format(s: IntervalSummary, self?: SinkRow): string[] {
    const lines: string[] = [];
    const ts = ` ${s.start}`;
    const max = this.opts.maxCachedSeries;
    this.walker.walk(s, (m, key, tags, fields, values) => {
      let byKey = this.cache.get(m);
      if (!byKey) this.cache.set(m, (byKey = new Map()));
      let prefix = byKey.get(key);
      if (prefix === undefined) {
        if (byKey.size >= max) byKey.clear();
        prefix = influxSeriesKey(m, tags, this.extra);
        byKey.set(key, prefix);
      }
      lines.push(`${prefix} ${influxFields(fields, values)}${ts}`);
    }, self);
    return lines;
  }

  /** Hands one interval to the client and starts its request; never waits for the server. */
  write(summary: IntervalSummary): void {
    const lines = this.format(summary, this.c.row(this.queued));
    if (this.stopping) {
      this.handed += lines.length;
      this.c.dropped.inc(lines.length);
      return;
    }
    this.handed += lines.length;
    this.api.writeRecords(lines);
    this.updateQueue();
    this.track(this.api.flush());
  }

  writeAlert(alert: AlertEvent): void {
    const a = alertSeries(alert);
    const p = new Point(ALERTS.name);
    for (let i = 0; i < ALERTS.tags.length; i++) if (a.tags[i]) p.tag(ALERTS.tags[i]!, a.tags[i]!);
    for (const [k, v] of this.extra) p.tag(k, v);
    p.floatField('value', a.value).intField('intervalStart', a.start).intField('intervalEnd', a.end)
      .stringField('detail', a.detail).stringField('text', a.text).timestamp(this.alertTime(a.time));
    if (a.threshold !== undefined) p.floatField('threshold', a.threshold);
    this.handed++;
    if (this.stopping) {
      this.c.dropped.inc();
      return;
    }
    this.alertApi.writePoint(p);
    this.track(this.alertApi.flush());
  }

  /**
   * The alert's millisecond in nanoseconds, plus its sequence number within that millisecond: alerts
   * raised together (one datagram's records) share the millisecond and often every tag, and InfluxDB
   * keeps one point per series and time, so without it all but the last would be overwritten.
   */
  alertTime(timeMs: number): string {
    const ms = Math.floor(timeMs);
    this.alertSeq = ms === this.alertMs ? Math.min(this.alertSeq + 1, 999_999) : 0;
    this.alertMs = ms;
    return `${ms}${String(this.alertSeq).padStart(6, '0')}`;
  }

  private track(p: Promise<void>): void {
    // a rejected flush was already counted in writeFailed; the retry buffer owns the lines now
    const t: Promise<void> = p.catch(() => undefined).finally(() => this.pending.delete(t));
    this.pending.add(t);
  }

  /**
   * Waits (at most stopTimeoutMs) for in-flight requests, sends what waits for a retry now, closes the
   * client and counts every line still unaccounted as dropped.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const deadline = this.now() + this.opts.stopTimeoutMs;
    const within = <T>(p: Promise<T>): Promise<T | 'timeout'> => {
      const left = deadline - this.now();
      if (left <= 0) return Promise.resolve('timeout');
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), left); });
      return Promise.race([p, expired]).finally(() => clearTimeout(timer));
    };
    await within(Promise.allSettled([...this.pending]));
    for (const api of [this.api, this.alertApi]) {
      if (this.queued > 0) await within(api.flush(true).catch(() => undefined));
    }
    for (const api of [this.api, this.alertApi]) {
      const closed = await within(api.close().then(() => true, () => true));
      if (closed === 'timeout') api.dispose();
    }
    const left = this.queued;
    if (left > 0) {
      this.c.dropped.inc(left);
      this.log.warn({ sink: this.name, lines: left }, 'sink stopped with lines not written');
    }
    this.done = true;
    this.updateQueue();
    this.agent.destroy();
  }
}

/** Sink options from the loaded configuration; reads influx.tokenFile when set. `instance` is the top-level key. */
export function influxOptions(cfg: SinksConfig['influx'], stopTimeoutMs: number, instance = ''): Partial<InfluxSinkOptions> {
  let token = cfg.token;
  if (cfg.tokenFile !== '') {
    try {
      token = readFileSync(cfg.tokenFile, 'utf8').trim();
    } catch (e) {
      throw new InfluxConfigError('influx.tokenFile', `config: influx.tokenFile = ${JSON.stringify(cfg.tokenFile)}: expected a readable file (${(e as Error).message})`);
    }
  }
  return {
    url: cfg.url, api: cfg.api, token, org: cfg.org, bucket: cfg.bucket, timeoutMs: cfg.timeout,
    batchSize: cfg.batchSize, maxBufferLines: cfg.maxBufferLines, maxRetries: cfg.maxRetries,
    maxRetryTimeMs: cfg.maxRetryTime, minRetryDelayMs: cfg.minRetryDelay, maxRetryDelayMs: cfg.maxRetryDelay,
    gzip: cfg.gzip, stopTimeoutMs, instance,
  };
}
