// InfluxDB sink: every closed interval becomes one batch of line protocol (schema: series.ts and
// docs/metrics.md), POSTed with the official client's HTTP transport (gzip, the server's answer as an
// HttpError) to /api/v2/write, or with `api: "v1"` to /write (InfluxDB 1.0–1.7). The batches live here,
// not in the client's WriteApi: that starts a request per flush and bounds only what waits for a retry,
// so requests in flight or queued behind busy sockets escaped maxBufferLines, and its timeout (a socket
// idle timer) neither runs before a socket is assigned nor closes a hung request. Every line handed
// over is held (in flight or waiting, within maxBufferLines) until counted once: written, failed or
// dropped. A collector `instance` (docs/scaling.md) is one more tag on every point.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { HttpError, InfluxDB, Point, RequestTimedOutError, setLogger, type Transport } from '@influxdata/influxdb-client';
import type { IntervalSummary } from '../aggregate/summary.js';
import type { AlertEvent } from '../alert/event.js';
import type { Metrics } from '../lib/counters.js';
import { RateLimitedLog, silentLogger, type Logger } from '../lib/log.js';
import { EMPTY_TOKEN_WARNING, partialWriteRejected, rejectionHint, v1AuthHeaders, writePath } from './influx-v1.js';
import {
  alertSeries, ALERTS, influxFields, influxSeriesKey, MAX_CACHED_MEASUREMENTS, SeriesWalker, SinkCounters, type ExtraTags, type SinkRow,
} from './series.js';
import type { MeasurementDef } from './series-defs.js';
import type { Sink } from './sink.js';
import { wallClock } from '../lib/clock.js';

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
  /** one request, from its start (connect, send, answer) to its last byte; then it is aborted and retried */
  timeoutMs: number;
  /** lines per request: above one interval's series, so each interval is one request */
  batchSize: number;
  /** lines held (in flight and waiting for a retry); past it the oldest are dropped (counted) */
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

/** One request's lines. `attempts` failed so far; retries end maxRetryTimeMs after the `first` (now()). */
interface Batch {
  readonly path: string;
  readonly lines: string[];
  attempts: number;
  first: number;
}

export class InfluxSink implements Sink {
  readonly name: string;
  readonly opts: InfluxSinkOptions;
  private readonly transport: Transport;
  private readonly headers: Record<string, string>;
  /** summaries are written in seconds; alerts carry their own time (ms, written in ns) */
  private readonly path: string;
  private readonly alertPath: string;
  /** the previous alert's millisecond and its sequence number within it (see alertTime) */
  private alertMs = -1;
  private alertSeq = 0;
  private readonly agent: HttpAgent;
  private readonly walker = new SeriesWalker();
  private readonly cache = new Map<MeasurementDef, Map<string, string>>();
  private readonly extra: ExtraTags;
  private readonly log: Logger;
  private readonly rl: RateLimitedLog;
  private readonly now: () => number;
  private readonly c: SinkCounters;
  /** waiting for their first attempt or a retry, oldest first */
  private waiting: Batch[] = [];
  private waitingLines = 0;
  /** the one request in flight; abandon() ends it uncounted (stop() counts its lines as dropped) */
  private inFlight: { batch: Batch; abandon: () => void } | undefined;
  /** consecutive failed attempts: the backoff's exponent */
  private failures = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** stop() waits on it for the queue to empty */
  private drained: (() => void) | undefined;
  private stopping = false;
  private done = false;

  constructor(options: Partial<InfluxSinkOptions>, deps: InfluxSinkDeps) {
    const o: InfluxSinkOptions = { ...INFLUX_DEFAULTS, ...options };
    this.opts = o;
    this.name = o.name;
    this.log = deps.log ?? silentLogger;
    this.now = deps.now ?? wallClock;
    this.rl = new RateLimitedLog(this.log, this.now);
    this.c = new SinkCounters(deps.metrics, o.name);
    this.extra = o.instance === '' ? [] : [['instance', o.instance]];
    // the client logs to the console by default; we count and log failures ourselves
    const debug = (msg: string, err?: unknown): void => this.log.debug({ sink: o.name, err: (err as Error | undefined)?.message }, msg);
    setLogger({ error: debug, warn: debug });
    const https = o.url.startsWith('https:');
    // one socket: one request at a time (pump)
    this.agent = https ? new HttpsAgent({ keepAlive: o.keepAlive, maxSockets: 1 }) : new HttpAgent({ keepAlive: o.keepAlive, maxSockets: 1 });
    const v1 = o.api === 'v1';
    // timeout 0: the transport's own is a socket idle timer that leaves the request open; send() has ours
    const token = v1 || o.token === '' ? undefined : o.token;
    this.transport = new InfluxDB({ url: o.url, token, timeout: 0, transportOptions: { agent: this.agent } }).transport;
    this.headers = { 'content-type': 'text/plain; charset=utf-8', ...(v1 ? v1AuthHeaders(o.token) : {}) };
    this.path = writePath(o.api, o.org, o.bucket, 's');
    this.alertPath = writePath(o.api, o.org, o.bucket, 'ns');
    if (!v1 && o.token === '') this.log.warn({ sink: o.name }, EMPTY_TOKEN_WARNING);
  }

  /** lines handed over and not yet written, failed or dropped: in flight or waiting */
  get queued(): number {
    return this.waitingLines + (this.inFlight?.batch.lines.length ?? 0);
  }

  private updateQueue(): void { this.c.queue.set(this.queued); }

  /** The series of one summary as line protocol, each line a cached series key plus fields and time. */
  format(s: IntervalSummary, self?: SinkRow): string[] {
    const lines: string[] = [];
    const ts = ` ${s.start}`;
    const max = this.opts.maxCachedSeries;
    this.walker.walk(s, (m, key, tags, fields, values) => {
      let byKey = this.cache.get(m);
      if (!byKey) {
        // one per measurement, and per view shape (a reload may change a view's keys)
        if (this.cache.size >= MAX_CACHED_MEASUREMENTS) this.cache.clear();
        this.cache.set(m, (byKey = new Map()));
      }
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

  /** Queues one interval (one request) and returns; never waits for the server. */
  write(summary: IntervalSummary): void {
    this.enqueue(this.path, this.format(summary, this.c.row(this.queued)));
  }

  writeAlert(alert: AlertEvent): void {
    const a = alertSeries(alert);
    const p = new Point(ALERTS.name);
    for (let i = 0; i < ALERTS.tags.length; i++) if (a.tags[i]) p.tag(ALERTS.tags[i]!, a.tags[i]!);
    for (const [k, v] of this.extra) p.tag(k, v);
    p.floatField('value', a.value).intField('intervalStart', a.start).intField('intervalEnd', a.end)
      .stringField('detail', a.detail).stringField('text', a.text).timestamp(this.alertTime(a.time));
    if (a.threshold !== undefined) p.floatField('threshold', a.threshold);
    this.enqueue(this.alertPath, [p.toLineProtocol()!]);
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

  /** Queues lines, batchSize per request, makes room for them and starts a request unless one is in flight. */
  private enqueue(path: string, lines: string[]): void {
    if (this.stopping) {
      this.c.dropped.inc(lines.length);
      return;
    }
    const bs = this.opts.batchSize;
    const last = this.waiting.at(-1);
    // alerts raised together (one datagram's records) share a request
    if (path === this.alertPath && last?.path === path && last.attempts === 0 && last.lines.length < bs) last.lines.push(...lines);
    else for (let i = 0; i < lines.length; i += bs) this.waiting.push({ path, lines: lines.slice(i, i + bs), attempts: 0, first: 0 });
    this.waitingLines += lines.length;
    this.makeRoom();
    this.pump();
  }

  /**
   * Keeps the lines held within maxBufferLines by dropping whole waiting batches, oldest first, as the
   * client's RetryBuffer does: an outage costs its oldest intervals and the newest survive, which is
   * what dashboards and alerts look at. The batch in flight is not cut off to make room: the server may
   * have stored it already (aborting would count stored lines as dropped), and timeoutMs settles it
   * soon. So when it and a new interval do not fit together, the new one is what goes.
   */
  private makeRoom(): void {
    let dropped = 0;
    while (this.queued > this.opts.maxBufferLines && this.waiting.length > 0) {
      const b = this.waiting.shift()!;
      this.waitingLines -= b.lines.length;
      dropped += b.lines.length;
    }
    this.updateQueue();
    if (dropped === 0) return;
    this.c.dropped.inc(dropped);
    this.rl.warn(`${this.name}-overflow`, { sink: this.name, lines: dropped, maxBufferLines: this.opts.maxBufferLines },
      'sink buffer full: oldest lines dropped');
  }

  /**
   * Sends the oldest waiting batch once the backoff allows, one request at a time: an interval is one
   * request every 10 s that a local InfluxDB answers in 150–300 ms, so one keeps up with room to
   * spare, a backlog goes out in order, and at most one batch is ever in flight.
   */
  private pump(): void {
    if (this.inFlight || this.retryTimer || this.done) return;
    const b = this.waiting[0];
    if (!b) return void this.drained?.();
    const wait = this.stopping ? 0 : this.retryAt - this.now();
    if (wait > 0) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    this.waiting.shift();
    this.waitingLines -= b.lines.length;
    this.send(b);
  }

  /**
   * One request, aborted (socket closed) timeoutMs after it started whatever state it is in: waiting
   * for a socket, connecting, sending to a server that does not read, or waiting for an answer.
   */
  private send(b: Batch): void {
    if (b.attempts === 0) b.first = this.now();
    const ctl = new AbortController();
    let status: number | undefined;
    let over = false;
    const end = (err: Error | undefined): void => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      if (err) ctl.abort();
      this.inFlight = undefined;
      this.settle(b, err);
      this.pump();
    };
    const timer = setTimeout(() => end(new RequestTimedOutError()), this.opts.timeoutMs);
    const abandon = (): void => {
      over = true;
      clearTimeout(timer);
      ctl.abort();
    };
    this.inFlight = { batch: b, abandon };
    this.transport.send(b.path, b.lines.join('\n'), {
      method: 'POST', headers: this.headers, gzipThreshold: this.opts.gzip ? 1000 : undefined, signal: ctl.signal,
    }, {
      responseStarted: (_headers, statusCode) => { status = statusCode; },
      error: (err) => end(err),
      // as the client's WriteApi: 204, or 201 from InfluxDB 3
      complete: () => end(status === 204 || status === 201 || status === undefined ? undefined
        : new HttpError(status, undefined, undefined, undefined, undefined, `204 HTTP response status code expected, but ${status} returned`)),
    });
  }

  /** Counts a finished request, or puts its batch back in front for a retry. */
  private settle(b: Batch, err: Error | undefined): void {
    const n = b.lines.length;
    // InfluxDB Enterprise reports a full hinted-handoff queue as an error though the write was accepted
    const handoff = err instanceof HttpError && typeof err.json?.error === 'string' && err.json.error.includes('hinted handoff queue not empty');
    if (!err || handoff) {
      this.failures = 0;
      this.retryAt = 0;
      this.c.lines.inc(n);
      this.updateQueue();
      return;
    }
    this.c.errors.inc();
    b.attempts++;
    const status = err instanceof HttpError ? err.statusCode : undefined;
    // as the client: network errors, timeouts and HTTP ≥ 429 are retried, other HTTP errors are final
    if (status !== undefined && status < 429) {
      const body = (err as HttpError).body || err.message;
      const rejected = partialWriteRejected(body, n) ?? n;
      this.c.lines.inc(n - rejected);
      this.c.failed.inc(rejected);
      this.updateQueue();
      const hint = rejected < n ? undefined : rejectionHint(this.opts.api, status, body);
      this.rl.warn(`${this.name}-write`, { sink: this.name, err: err.message, status, lines: n, rejected, hint },
        rejected < n ? 'sink write partly rejected: rejected lines given up'
          : `sink write rejected (HTTP ${status}): lines given up${hint ? `; ${hint}` : ''}`);
      return;
    }
    this.failures++;
    // the server's Retry-After (seconds), else minRetryDelay doubling per failure; at most maxRetryDelay, plus jitter
    const after = err instanceof HttpError ? err.retryAfter() * 1000 : 0;
    const delay = Math.min(after > 0 ? after : this.opts.minRetryDelayMs * 2 ** Math.min(this.failures - 1, 30), this.opts.maxRetryDelayMs) +
      Math.round(Math.random() * this.opts.retryJitterMs);
    const giveUp = b.attempts > this.opts.maxRetries || this.now() + delay - b.first >= this.opts.maxRetryTimeMs;
    const retry = !giveUp && !this.stopping;
    if (retry) {
      this.c.retries.inc();
      this.retryAt = this.now() + delay;
      this.waiting.unshift(b);
      this.waitingLines += n;
    } else {
      // while stopping this was the last attempt: lines left at shutdown count as dropped
      (giveUp ? this.c.failed : this.c.dropped).inc(n);
      this.updateQueue();
    }
    this.rl.warn(`${this.name}-write`, { sink: this.name, err: err.message, status, attempt: b.attempts, lines: n, retried: retry },
      retry ? 'sink write failed, will retry' : giveUp ? 'sink write failed, lines given up' : 'sink write failed while stopping, lines dropped');
  }

  /**
   * Gives what waits one more attempt, now (a failure now is final), for at most stopTimeoutMs in all;
   * then abandons the request in flight and counts every line still held as dropped.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.pump();
    if (this.queued > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        timer = setTimeout(resolve, this.opts.stopTimeoutMs);
      });
      clearTimeout(timer);
    }
    this.done = true;
    const left = this.queued;
    this.inFlight?.abandon();
    this.inFlight = undefined;
    this.waiting = [];
    this.waitingLines = 0;
    if (left > 0) {
      this.c.dropped.inc(left);
      this.log.warn({ sink: this.name, lines: left }, 'sink stopped with lines not written');
    }
    this.updateQueue();
    this.agent.destroy();
  }
}
