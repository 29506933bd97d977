// Graphite sink: carbon's plaintext protocol ("path value timestamp\n") over TCP, with reconnect and
// exponential backoff, or over UDP. Every closed interval becomes chunks of lines in a bounded retry
// queue (oldest dropped and counted when an outage outlasts it). Names follow series.ts: plain paths
// (flowbridge.hosts.10_1_0_5.in.bytes) or Graphite 1.1 tagged series (flowbridge.hosts.bytes;host=…).
// An `instance` is a node after the prefix (flowbridge.eu1.hosts.…) or a tag: collectors never share a path.
// Plaintext has no acknowledgements: a line counts as delivered once the kernel took it.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import type { IntervalSummary } from '../aggregate/summary.js';
import type { AlertEvent } from '../alert/event.js';
import type { Metrics } from '../lib/counters.js';
import { RateLimitedLog, silentLogger, type Logger } from '../lib/log.js';
import { logPrefixSchema, OldPointWarning } from './graphite-hints.js';
import { RetryQueue } from './retry-queue.js';
import {
  alertSeries, ALERTS, graphiteNode, graphitePath, graphitePrefix, graphiteTags, SeriesWalker, SinkCounters,
  type ExtraTags, type MeasurementDef, type SinkRow,
} from './series.js';
import type { Sink } from './sink.js';

export interface GraphiteSinkOptions {
  name: string;
  host: string;
  port: number;
  protocol: 'tcp' | 'udp';
  /** first path node(s); "" = none */
  prefix: string;
  /** Graphite 1.1 tagged series instead of dotted paths */
  tagged: boolean;
  /** this collector's name (config `instance`): a path node after the prefix, or the `instance` tag; "" = none */
  instance: string;
  /** lines queued while carbon is unreachable; past it the oldest are dropped (counted) */
  maxQueueLines: number;
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
  connectTimeoutMs: number;
  /** stop() gives up on delivery after this long and counts what is left as dropped */
  stopTimeoutMs: number;
  /** lines per queue item / socket write: the granularity of drops and of retries */
  chunkLines: number;
  /** UDP payload cap: whole lines per datagram, below a typical path MTU */
  maxDatagramBytes: number;
  maxCachedSeries: number;
  /** warn when an interval written is older than this (carbon's coarse archives); 0 = never */
  warnAgeMs: number;
  /** the collector's interval: the first archive of the storage schema logged for a non-default prefix */
  intervalMs: number;
}

export const GRAPHITE_DEFAULTS: GraphiteSinkOptions = {
  name: 'graphite',
  host: '127.0.0.1',
  port: 2003,
  protocol: 'tcp',
  prefix: 'flowbridge',
  tagged: false,
  instance: '',
  // about 40 intervals of the default tables (2,500 series × 5 fields), ~15 MB
  maxQueueLines: 500_000,
  minRetryDelayMs: 1000,
  maxRetryDelayMs: 60_000,
  connectTimeoutMs: 5000,
  stopTimeoutMs: 10_000,
  chunkLines: 1000,
  maxDatagramBytes: 1400,
  maxCachedSeries: 100_000,
  warnAgeMs: 86_400_000, intervalMs: 10_000,
};

/** bytes the socket may buffer beyond what the kernel took before chunks wait in the queue instead */
const MAX_SOCKET_BUFFER = 1 << 20;

export interface GraphiteSinkDeps {
  metrics: Metrics;
  log?: Logger;
  now?: () => number;
}

/** One queue item: whole lines, each ending in "\n" (carbon drops a last line without it). */
export interface Chunk {
  text: string;
  lines: number;
  /** interval start (epoch s) the lines belong to */
  start: number;
}

export class GraphiteSink implements Sink {
  readonly name: string;
  readonly opts: GraphiteSinkOptions;
  readonly queue: RetryQueue<Chunk>;
  /** prefix and instance nodes (plain paths), or the prefix alone and the instance tag in `extra` (tagged) */
  private readonly prefix: string;
  private readonly extra: ExtraTags;
  private readonly walker = new SeriesWalker();
  private readonly cache = new Map<MeasurementDef, Map<string, [string, string]>>();
  private readonly log: Logger;
  private readonly rl: RateLimitedLog;
  private readonly now: () => number;
  private readonly c: SinkCounters;
  private readonly old: OldPointWarning;
  private socket: Socket | undefined;
  private connected = false;
  /** chunks written to the socket whose write callback has not come yet, oldest first */
  private inflight: Chunk[] = [];
  private inflightLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private udp: UdpSocket | undefined;
  private udpPending = 0;
  private stopping = false;
  private idle: (() => void)[] = [];

  constructor(options: Partial<GraphiteSinkOptions>, deps: GraphiteSinkDeps) {
    const o: GraphiteSinkOptions = { ...GRAPHITE_DEFAULTS, ...options };
    // a chunk heavier than the whole queue is dropped at once, even with carbon up: none may be
    o.chunkLines = Math.max(1, Math.min(o.chunkLines, o.maxQueueLines));
    this.opts = o;
    this.name = o.name;
    const inst = o.instance !== '' && !o.tagged ? graphiteNode(o.instance) : '';
    this.prefix = [graphitePrefix(o.prefix), inst].filter((x) => x !== '').join('.');
    this.extra = o.instance !== '' && o.tagged ? [['instance', o.instance]] : [];
    this.log = deps.log ?? silentLogger;
    this.now = deps.now ?? Date.now;
    this.rl = new RateLimitedLog(this.log, this.now);
    this.c = new SinkCounters(deps.metrics, o.name);
    this.old = new OldPointWarning(this.log, o.name, o.warnAgeMs, this.now);
    logPrefixSchema(this.log, o.name, o.prefix, this.prefix, o.intervalMs, GRAPHITE_DEFAULTS.prefix);
    this.queue = new RetryQueue<Chunk>({
      maxWeight: o.maxQueueLines, minDelayMs: o.minRetryDelayMs, maxDelayMs: o.maxRetryDelayMs, now: this.now,
      onDrop: (chunk, lines) => {
        this.c.dropped.inc(lines);
        this.rl.warn(`${o.name}-overflow`, { sink: o.name, lines, interval: chunk.start, maxQueueLines: o.maxQueueLines },
          'sink queue full: oldest lines dropped');
      },
    });
  }

  /** true while a TCP connection to carbon is up */
  get isConnected(): boolean {
    return this.connected;
  }

  /** lines queued or being written */
  get queued(): number {
    return this.queue.weight + this.inflightLines + this.udpPending;
  }

  private updateQueue(): void { this.c.queue.set(this.queued); }

  /** One summary as plaintext chunks of at most chunkLines lines, built from cached per-series names. */
  format(s: IntervalSummary, self?: SinkRow): Chunk[] {
    const chunks: Chunk[] = [];
    const suffix = ` ${s.start}\n`;
    const max = this.opts.chunkLines;
    let text = '', lines = 0;
    this.walker.walk(s, (m, key, tags, fields, values) => {
      const name = this.cached(m, key, tags);
      for (let i = 0; i < fields.length; i++) {
        const v = values[i]!;
        if (!Number.isFinite(v)) continue; // carbon drops nan; inf has no use either
        text += this.opts.tagged ? `${name[0]}${fields[i]!.name}${name[1]} ${v}${suffix}` : `${name[0]}${fields[i]!.name} ${v}${suffix}`;
        if (++lines >= max) {
          chunks.push({ text, lines, start: s.start });
          text = '';
          lines = 0;
        }
      }
    }, self);
    if (lines > 0) chunks.push({ text, lines, start: s.start });
    return chunks;
  }

  /** [text before the field name, text after it]: the dotted path, or the base name and the ";tags" */
  private cached(m: MeasurementDef, key: string, tags: readonly string[]): [string, string] {
    let byKey = this.cache.get(m);
    if (!byKey) this.cache.set(m, (byKey = new Map()));
    let name = byKey.get(key);
    if (name === undefined) {
      if (byKey.size >= this.opts.maxCachedSeries) byKey.clear();
      byKey.set(key, (name = this.seriesName(m, tags)));
    }
    return name;
  }

  private seriesName(m: MeasurementDef, tags: readonly string[]): [string, string] {
    return this.opts.tagged
      ? [`${this.prefix === '' ? '' : `${this.prefix}.`}${m.graphite}.`, graphiteTags(m, tags, this.extra)]
      : [graphitePath(this.prefix, m, tags), ''];
  }

  /** Queues one interval and starts sending; never waits for carbon. */
  write(summary: IntervalSummary): void {
    this.old.check(summary.start);
    this.enqueue(this.format(summary, this.c.row(this.queued)));
  }

  writeAlert(alert: AlertEvent): void {
    this.enqueue([this.formatAlert(alert)]);
  }

  /** An alert as value (and threshold) at the second it was raised. */
  formatAlert(alert: AlertEvent): Chunk {
    const a = alertSeries(alert);
    const tail = ` ${Math.floor(a.time / 1000)}\n`, [head, tagText] = this.seriesName(ALERTS, a.tags);
    const line = (field: string, v: number): string => `${head}${field}${tagText} ${v}${tail}`;
    let text = line('value', a.value), lines = 1;
    if (a.threshold !== undefined) {
      text += line('threshold', a.threshold);
      lines++;
    }
    return { text, lines, start: a.start };
  }

  private enqueue(chunks: Chunk[]): void {
    for (const ch of chunks) {
      if (this.stopping) this.c.dropped.inc(ch.lines);
      else if (this.opts.protocol === 'udp') this.sendUdp(ch);
      else {
        // while connected each chunk moves on to the socket at once: the cap is for backlog only
        this.queue.push(ch, ch.lines);
        this.pump();
      }
    }
    this.updateQueue();
  }

  // ---- TCP ----

  private pump(): void {
    if (this.opts.protocol === 'udp' || this.queue.length === 0) {
      this.notifyIdle();
      return;
    }
    const s = this.socket;
    if (!this.connected || !s) {
      if (!s && !this.timer) {
        const wait = this.queue.waitMs();
        if (wait === 0 || this.stopping) this.connect();
        else this.timer = setTimeout(() => { this.timer = undefined; this.pump(); }, wait);
      }
      return;
    }
    // hand chunks to the socket while its buffer is short; the rest waits in the bounded queue
    while (this.queue.length > 0 && s.writableLength < MAX_SOCKET_BUFFER) {
      const ch = this.queue.shift()!;
      this.inflight.push(ch);
      this.inflightLines += ch.lines;
      s.write(ch.text, (err) => {
        // callbacks come in write order; after a close the chunks were already put back
        if (err || this.inflight[0] !== ch) return;
        this.inflight.shift();
        this.inflightLines -= ch.lines;
        this.c.lines.inc(ch.lines);
        this.queue.succeeded();
        this.updateQueue();
        if (this.inflight.length === 0) this.pump();
      });
    }
    this.updateQueue();
  }

  /** The connection is gone: whatever the kernel did not take goes back in front of the queue. */
  private putBack(): void {
    if (this.inflight.length === 0) return;
    this.queue.putBack(this.inflight.map((ch) => [ch, ch.lines] as const));
    this.inflight = [];
    this.inflightLines = 0;
  }

  private connect(): void {
    const s = connect({ host: this.opts.host, port: this.opts.port });
    this.socket = s;
    s.setNoDelay(true);
    s.setKeepAlive(true, 30_000);
    const timer = setTimeout(() => s.destroy(new Error(`connect timeout after ${this.opts.connectTimeoutMs} ms`)), this.opts.connectTimeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      this.connected = true;
      this.log.info({ sink: this.name, host: this.opts.host, port: this.opts.port }, 'sink connected');
      this.pump();
    });
    s.on('drain', () => this.pump());
    s.on('data', () => undefined); // carbon sends nothing; keep the stream flowing anyway
    s.on('error', (err) => {
      this.c.errors.inc();
      this.rl.warn(`${this.name}-socket`, { sink: this.name, err: err.message }, 'sink connection error');
    });
    s.once('close', () => {
      clearTimeout(timer);
      if (this.socket === s) this.socket = undefined;
      this.connected = false;
      this.putBack();
      if (this.stopping) {
        this.notifyIdle();
        return;
      }
      // every unrequested close backs off; a success in between resets the delay to the minimum
      this.queue.failed();
      this.c.retries.inc();
      this.updateQueue();
      this.pump();
    });
  }

  // ---- UDP ----

  private sendUdp(ch: Chunk): void {
    if (!this.udp) {
      this.udp = createSocket(this.opts.host.includes(':') ? 'udp6' : 'udp4');
      this.udp.on('error', (err) => {
        this.c.errors.inc();
        this.rl.warn(`${this.name}-udp`, { sink: this.name, err: err.message }, 'sink socket error');
      });
    }
    const max = this.opts.maxDatagramBytes;
    let from = 0;
    while (from < ch.text.length) {
      // whole lines up to max bytes (a single longer line goes alone)
      let to = from;
      for (;;) {
        const nl = ch.text.indexOf('\n', to);
        if (nl < 0 || (nl + 1 - from > max && to > from)) break;
        to = nl + 1;
        if (to - from >= max) break;
      }
      const part = ch.text.slice(from, to);
      from = to;
      let n = 0;
      for (let i = 0; i < part.length; i++) if (part.charCodeAt(i) === 10) n++;
      this.udpPending += n;
      this.udp.send(part, this.opts.port, this.opts.host, (err) => {
        this.udpPending -= n;
        if (!err) this.c.lines.inc(n);
        else {
          this.c.errors.inc();
          this.c.failed.inc(n);
          this.rl.warn(`${this.name}-udp`, { sink: this.name, err: err.message }, 'sink datagram not sent');
        }
        this.updateQueue();
        this.notifyIdle();
      });
    }
  }

  // ---- shutdown ----

  private notifyIdle(): void {
    if (this.queued > 0 && !(this.stopping && !this.socket && this.opts.protocol === 'tcp')) return;
    for (const f of this.idle.splice(0)) f();
  }

  /** Delivers what is queued (at most stopTimeoutMs), closes the connection, counts the rest as dropped. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = this.now() + this.opts.stopTimeoutMs;
    // one last attempt right away: the backoff would outlast the stop timeout
    this.pump();
    await this.until(deadline);
    const s = this.socket;
    if (s) {
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.end();
      const t = setTimeout(() => s.destroy(), Math.max(100, deadline - this.now()));
      await closed;
      clearTimeout(t);
    }
    if (this.udp) {
      const u = this.udp;
      this.udp = undefined;
      await new Promise<void>((resolve) => u.close(() => resolve()));
    }
    this.putBack();
    const left = this.queue.clear();
    if (left > 0) {
      this.c.dropped.inc(left);
      this.log.warn({ sink: this.name, lines: left }, 'sink stopped with lines not written');
    }
    this.updateQueue();
  }

  /** Resolves once nothing is queued or in flight (or the connection is gone while stopping), or at the deadline. */
  private until(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.max(0, deadline - this.now()));
      const self = this;
      function done(): void {
        clearTimeout(t);
        const i = self.idle.indexOf(done);
        if (i >= 0) self.idle.splice(i, 1);
        resolve();
      }
      this.idle.push(done);
      this.notifyIdle();
    });
  }
}
