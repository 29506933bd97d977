// Graphite sink: carbon's plaintext protocol ("path value timestamp\n") over TCP or UDP, sent by the
// line sender (line-sender.ts): TCP reconnects with exponential backoff and holds every closed
// interval's chunks of lines in a bounded retry queue (oldest dropped and counted when an outage
// outlasts it); UDP sends whole lines per datagram. Names follow series.ts: plain paths
// (flowbridge.hosts.10_1_0_5.in.bytes) or Graphite 1.1 tagged series (flowbridge.hosts.bytes;host=…).
// An `instance` is a node after the prefix (flowbridge.eu1.hosts.…) or a tag: collectors never share a path.
// Plaintext has no acknowledgements: a line counts as delivered once the kernel took it; lines the
// kernel had not taken when a connection closed are written again (carbon keeps the last value).
import type { IntervalSummary } from '../aggregate/summary.js';
import type { AlertEvent } from '../alert/event.js';
import type { Metrics } from '../lib/counters.js';
import { RateLimitedLog, silentLogger, type Logger } from '../lib/log.js';
import { logPrefixSchema, OldPointWarning } from './graphite-hints.js';
import { LineSender, type Batch } from './line-sender.js';
import {
  alertSeries, ALERTS, graphitePath, graphitePrefix, graphiteTags, MAX_CACHED_MEASUREMENTS, SeriesWalker, SinkCounters,
  type ExtraTags, type SinkRow,
} from './series.js';
import { graphiteNode, type MeasurementDef } from './series-defs.js';
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
export interface Chunk extends Batch {
  /** interval start (epoch s) the lines belong to */
  start: number;
}

export class GraphiteSink implements Sink {
  readonly name: string;
  readonly opts: GraphiteSinkOptions;
  /** prefix and instance nodes (plain paths), or the prefix alone and the instance tag in `extra` (tagged) */
  private readonly prefix: string;
  private readonly extra: ExtraTags;
  private readonly walker = new SeriesWalker();
  private readonly cache = new Map<MeasurementDef, Map<string, [string, string]>>();
  private readonly log: Logger;
  private readonly rl: RateLimitedLog;
  private readonly c: SinkCounters;
  private readonly sender: LineSender<Chunk>;
  private readonly old: OldPointWarning;

  constructor(options: Partial<GraphiteSinkOptions>, deps: GraphiteSinkDeps) {
    const o: GraphiteSinkOptions = { ...GRAPHITE_DEFAULTS, ...options };
    // a chunk heavier than the whole queue is dropped at once, even with carbon up: none may be
    o.chunkLines = Math.max(1, Math.min(o.chunkLines, o.maxQueueLines));
    this.opts = o;
    this.name = o.name;
    const inst = o.instance !== '' && !o.tagged ? graphiteNode(o.instance) : '';
    this.prefix = [graphitePrefix(o.prefix), inst].filter((x) => x !== '').join('.');
    this.extra = o.instance !== '' && o.tagged ? [['instance', o.instance]] : [];
    const log = (this.log = deps.log ?? silentLogger);
    const c = (this.c = new SinkCounters(deps.metrics, o.name));
    const warn = (key: string, err: Error, msg: string) => this.rl.warn(`${o.name}-${key}`, { sink: o.name, err: err.message }, msg);
    this.sender = new LineSender<Chunk>({
      host: o.host, port: o.port, protocol: o.protocol, maxQueueLines: o.maxQueueLines, minRetryDelayMs: o.minRetryDelayMs,
      maxRetryDelayMs: o.maxRetryDelayMs, connectTimeoutMs: o.connectTimeoutMs, maxDatagramBytes: o.maxDatagramBytes,
      maxBufferedBytes: MAX_SOCKET_BUFFER, resend: true,
    }, {
      counters: { sent: c.lines, dropped: c.dropped, failed: c.failed, errors: c.errors, retries: c.retries },
      now: deps.now,
      onDepth: (lines) => c.queue.set(lines),
      onConnect: () => log.info({ sink: o.name, host: o.host, port: o.port }, 'sink connected'),
      onError: (err, where) => {
        if (where === 'connection') warn('socket', err, 'sink connection error');
        else warn('udp', err, where === 'socket' ? 'sink socket error' : 'sink datagram not sent');
      },
      onDrop: (chunk, lines) => {
        const at = { sink: o.name, lines, interval: chunk.start, maxQueueLines: o.maxQueueLines };
        this.rl.warn(`${o.name}-overflow`, at, 'sink queue full: oldest lines dropped');
      },
    });
    this.rl = new RateLimitedLog(log, this.sender.now);
    this.old = new OldPointWarning(log, o.name, o.warnAgeMs, this.sender.now);
    logPrefixSchema(log, o.name, o.prefix, this.prefix, o.intervalMs, GRAPHITE_DEFAULTS.prefix);
  }

  /** true while a TCP connection to carbon is up */
  get isConnected(): boolean {
    return this.opts.protocol === 'tcp' && this.sender.state === 'connected';
  }

  /** lines queued or being written */
  get queued(): number {
    return this.sender.depth;
  }

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
    if (!byKey) {
      // one per measurement, and per view shape (a reload may change a view's keys)
      if (this.cache.size >= MAX_CACHED_MEASUREMENTS) this.cache.clear();
      this.cache.set(m, (byKey = new Map()));
    }
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
    for (const ch of this.format(summary, this.c.row(this.queued))) this.sender.send(ch);
  }

  writeAlert(alert: AlertEvent): void {
    this.sender.send(this.formatAlert(alert));
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

  /** Delivers what is queued (at most stopTimeoutMs), closes the connection, counts the rest as dropped. */
  async stop(): Promise<void> {
    const left = await this.sender.stop(this.opts.stopTimeoutMs);
    if (left > 0) this.log.warn({ sink: this.name, lines: left }, 'sink stopped with lines not written');
  }
}
