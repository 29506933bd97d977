// The built-in web server: the live page (/), its data (/api/intervals, /api/alerts, /api/events as
// server-sent events), /metrics (Prometheus text) and /healthz. Everything it shows comes from a
// bounded in-memory History fed by onSummary/onAlert; it never blocks the collector.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import type { IntervalSummary } from '../aggregate/summary.js';
import type { ViewSpec } from '../aggregate/views.js';
import type { AlertEvent } from '../alert/event.js';
import type { Counter, Gauge, Metrics } from '../lib/counters.js';
import { FlowbridgeError } from '../lib/errors.js';
import { splitHostPort } from '../lib/hostport.js';
import type { Logger } from '../lib/log.js';
import type { Sink } from '../export/sink.js';
import { History, TrimmedViews } from './ring.js';
import { packageVersion, ProcessMetrics, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
import { jsonArray, num } from './respond.js';
import { wallClock } from '../lib/clock.js';

/** The web server's options, each with its default; merged by spread (the config schema reads them too). */
export const WEB_DEFAULTS = {
  /** host:port to listen on (IPv6 in brackets); localhost only unless changed */
  listen: '127.0.0.1:8080',
  /** ms of interval summaries kept in memory for the page and /api/intervals */
  history: 3_600_000,
  /** recent alerts kept for the page and /api/alerts */
  alerts: 100,
  /** concurrent live-update (/api/events) connections */
  clients: 32,
  /** extra Host header names accepted, comma-separated ("" = IP literals and localhost only) */
  allowedHosts: '',
  /** hosts and ports per direction per interval in the page's view (live events, /api/intervals?top) */
  pageTop: 50,
  /** SSE comment line this often, so proxies and browsers keep an idle stream open */
  heartbeatMs: 15_000,
  /** a live-update client with more than this many bytes unsent is too slow: it is dropped */
  maxBufferedBytes: 1 << 20,
  /** upper bound for ?top= */
  maxTop: 10_000,
};

export type WebOptions = typeof WEB_DEFAULTS;

export interface WebDeps {
  metrics: Metrics;
  log: Logger;
  intervalSec: number;
  /** wall clock in epoch ms (uptime); default the system clock */
  now?: () => number;
  /** the configured views, so the page can offer them before any summary holds them (setViews on reload) */
  views?: readonly ViewInfo[];
}

/** What /api/info says of a configured view. */
export type ViewInfo = Pick<ViewSpec, 'name' | 'keys' | 'per'>;

export class WebError extends FlowbridgeError {}

/** Why the page could not listen, and what to do, in the words of the key's value. */
function webBindReason(err: NodeJS.ErrnoException): string {
  const fix = 'set web.listen to a free address, or web.enabled: false to run without the page';
  switch (err.code) {
    case 'EADDRINUSE': return `address already in use (another flowbridge or web server?): ${fix}`;
    case 'EACCES': return `permission denied (ports below 1024 need privileges): ${fix}`;
    case 'EADDRNOTAVAIL': return `address not available on this host: ${fix}`;
    default: return `${err.message}: ${fix}`;
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const REQUESTS_HELP = 'HTTP requests served, by route and status class';

interface Asset { body: Buffer; type: string }

/** URL path → [file, content type]; page files from src/web/page, uPlot from node_modules. */
const PAGE_FILES: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  // ES modules app.js imports (each file stays small)
  '/util.js': ['util.js', 'text/javascript; charset=utf-8'],
  '/stacked.js': ['stacked.js', 'text/javascript; charset=utf-8'],
  '/views.js': ['views.js', 'text/javascript; charset=utf-8'],
  '/interfaces.js': ['interfaces.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
  '/favicon.svg': ['favicon.svg', 'image/svg+xml'],
};
const VENDOR_FILES: Record<string, [string, string]> = {
  '/vendor/uplot.js': ['uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  '/vendor/uplot.css': ['uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
};

/** The page directory: next to this module in src/, or src/web/page when running the tsc output in dist/. */
function pageDir(): string {
  for (const rel of ['./page/', '../../src/web/page/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new WebError('web: the page files (src/web/page) are missing');
}

interface SseClient { res: ServerResponse }

export class WebServer {
  private readonly opts: WebOptions;
  private readonly history: History;
  private readonly views = new TrimmedViews();
  private readonly app: FastifyInstance;
  private readonly now: () => number;
  private readonly startedMs: number;
  private readonly process: ProcessMetrics;
  private readonly allowedHosts: Set<string>;
  private readonly assets = new Map<string, Asset>();
  private readonly clients = new Set<SseClient>();
  /** responses that are live-update streams (onResponse sees them again when they end) */
  private readonly streams = new WeakSet<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;
  private viewInfo: ViewInfo[] = [];
  private ready = false;
  private started = false;
  private readonly m: {
    sseClients: Gauge; sseRejected: Counter; sseDropped: Counter; historyEvicted: Counter;
    historySize: Gauge; summaries: Counter; alerts: Counter;
  };

  constructor(options: Partial<WebOptions>, private readonly deps: WebDeps) {
    this.opts = { ...WEB_DEFAULTS, ...options };
    this.now = deps.now ?? wallClock;
    this.startedMs = this.now();
    this.history = new History({ historyMs: this.opts.history, intervalSec: deps.intervalSec, alerts: this.opts.alerts });
    this.allowedHosts = new Set(this.opts.allowedHosts.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean));
    this.allowedHosts.add('localhost');
    const mt = deps.metrics;
    this.m = {
      sseClients: mt.gauge('web_event_clients', 'Connected live-update (/api/events) clients'),
      sseRejected: mt.counter('web_event_clients_rejected_total', 'Live-update connections refused (web.clients reached)'),
      sseDropped: mt.counter('web_event_clients_dropped_total', 'Live-update clients disconnected for reading too slowly'),
      historyEvicted: mt.counter('web_history_evicted_total', 'Summaries and alerts that aged out of the in-memory history'),
      historySize: mt.gauge('web_history_intervals', 'Interval summaries held for the page'),
      summaries: mt.counter('web_summaries_total', 'Interval summaries received by the web server'),
      alerts: mt.counter('web_alerts_total', 'Alerts received by the web server'),
    };
    this.process = new ProcessMetrics(mt, this.startedMs, this.now);
    this.setViews(deps.views ?? []);
    this.app = Fastify({ logger: false, bodyLimit: 4096, return503OnClosing: true });
    this.routes();
  }

  /** A closed interval: kept for the page and pushed to live clients. */
  onSummary(s: IntervalSummary): void {
    const before = this.history.evicted;
    this.history.addSummary(s);
    this.m.historyEvicted.inc(this.history.evicted - before);
    this.m.historySize.set(this.history.summaries.size);
    this.m.summaries.inc();
    if (this.clients.size > 0) this.broadcast('summary', JSON.stringify(this.views.get(s, this.opts.pageTop)));
  }

  onAlert(a: AlertEvent): void {
    const before = this.history.evicted;
    this.history.addAlert(a);
    this.m.historyEvicted.inc(this.history.evicted - before);
    this.m.alerts.inc();
    if (this.clients.size > 0) this.broadcast('alert', JSON.stringify(a));
  }

  /**
   * The web server as a sink, for the pipeline's sink list: summaries and alerts reach it through
   * the fan-out (which isolates failures). Its stop() is a no-op: the server outlives the pipeline's
   * final flush and is stopped by its owner.
   */
  sink(): Sink {
    return {
      name: 'web',
      write: (s) => this.onSummary(s),
      writeAlert: (a) => this.onAlert(a),
      stop: async () => undefined,
    };
  }

  /** The views now configured (at start and after each reload), for /api/info. */
  setViews(views: readonly ViewInfo[]): void {
    this.viewInfo = views.map((v) => ({ name: v.name, keys: [...v.keys], per: v.per }));
  }

  /** /healthz answers 200 only while ready; the collector sets it once its pipeline runs. */
  setReady(ready = true): void {
    this.ready = ready;
  }

  async start(): Promise<void> {
    if (this.started) return;
    const hp = splitHostPort(this.opts.listen, { names: true, anyZone: true });
    if (!hp.ok) throw new WebError(`web: listen = ${JSON.stringify(this.opts.listen)}: expected host:port`);
    await this.loadAssets();
    try {
      await this.app.listen({ host: hp.host, port: hp.port });
    } catch (err) {
      // EADDRINUSE and the like may clear up later; a bad address will not
      const code = (err as NodeJS.ErrnoException).code;
      throw new WebError(`config: web.listen = ${JSON.stringify(this.opts.listen)}: ${webBindReason(err as NodeJS.ErrnoException)}`,
        code === 'EADDRINUSE' || code === 'EACCES');
    }
    this.started = true;
    this.heartbeat = setInterval(() => this.broadcast('', ''), this.opts.heartbeatMs);
    this.heartbeat.unref();
    const a = this.address();
    this.deps.log.info({ url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}/` }, 'web page');
  }

  /** Ends live-update streams (they would hold the server open) and closes the server. */
  async stop(): Promise<void> {
    this.ready = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.m.sseClients.set(0);
    if (this.started) {
      this.started = false;
      await this.app.close();
    }
  }

  address(): { address: string; port: number } {
    const a = this.app.server.address();
    if (!a || typeof a === 'string') throw new WebError('web: not listening');
    return { address: a.address, port: a.port };
  }

  private async loadAssets(): Promise<void> {
    if (this.assets.size) return;
    const dir = pageDir();
    const require = createRequire(import.meta.url);
    for (const [path, [file, type]] of Object.entries(PAGE_FILES)) this.assets.set(path, { body: await readFile(dir + file), type });
    for (const [path, [mod, type]] of Object.entries(VENDOR_FILES)) {
      let file: string;
      try {
        file = require.resolve(mod);
      } catch {
        throw new WebError(`web: ${mod} is not installed (npm ci)`);
      }
      this.assets.set(path, { body: await readFile(file), type });
    }
  }

  /** Writes one SSE event (or a heartbeat comment when `event` is empty) to every client. */
  private broadcast(event: string, json: string): void {
    const msg = event ? `event: ${event}\ndata: ${json}\n\n` : ': ping\n\n';
    for (const c of this.clients) {
      // a stalled reader must not make us buffer without bound
      if (c.res.writableLength > this.opts.maxBufferedBytes) {
        this.m.sseDropped.inc();
        this.dropClient(c);
        c.res.destroy();
        continue;
      }
      c.res.write(msg);
    }
  }

  private dropClient(c: SseClient): void {
    if (this.clients.delete(c)) this.m.sseClients.set(this.clients.size);
  }

  /** DNS rebinding guard: a page on another site must not reach us under its own name. */
  private hostAllowed(host: string | undefined): boolean {
    if (host === undefined) return true;
    const h = host.toLowerCase();
    const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d*$/, '');
    if (h.startsWith('[')) return ipaddr.IPv6.isValid(name);
    return ipaddr.IPv4.isValidFourPartDecimal(name) || this.allowedHosts.has(name);
  }

  private routes(): void {
    const app = this.app;
    const requests = (route: string, code: number): Counter =>
      this.deps.metrics.counter('web_requests_total', REQUESTS_HELP, { route, code: `${Math.floor(code / 100)}xx` });
    app.addHook('onRequest', async (req, reply) => {
      reply.headers(SECURITY_HEADERS);
      if (!this.hostAllowed(req.headers.host)) {
        return reply.code(403).send({ error: `host ${JSON.stringify(req.headers.host)} not allowed: add it to web.allowedHosts` });
      }
    });
    app.addHook('onResponse', async (req, reply) => {
      if (this.streams.has(reply.raw)) return; // a live-update stream, counted when it opened
      requests(req.routeOptions.url ?? 'other', reply.statusCode).inc();
    });
    app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));

    for (const path of [...Object.keys(PAGE_FILES), ...Object.keys(VENDOR_FILES)]) {
      app.get(path, (_req, reply) => {
        const a = this.assets.get(path)!;
        return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
      });
    }
    app.get('/favicon.ico', (_req, reply) => reply.redirect('/favicon.svg', 301));

    app.get('/api/intervals', (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const since = num(q.since, 0, Number.MAX_SAFE_INTEGER);
      const top = num(q.top, 1, this.opts.maxTop);
      if (Number.isNaN(since) || Number.isNaN(top) || (top !== undefined && !Number.isInteger(top))) {
        return reply.code(400).send({ error: 'since: epoch seconds ≥ 0; top: an integer from 1 to ' + this.opts.maxTop });
      }
      const list = this.history.intervals(since);
      return api(reply).type('application/json; charset=utf-8')
        .send(jsonArray(list, top === undefined ? undefined : (s) => this.views.get(s, top)));
    });

    app.get('/api/alerts', (req, reply) => {
      const since = num((req.query as Record<string, string | undefined>).since, 0, Number.MAX_SAFE_INTEGER);
      if (Number.isNaN(since)) return reply.code(400).send({ error: 'since: epoch milliseconds ≥ 0' });
      return api(reply).send(this.history.recentAlerts(since));
    });

    app.get('/api/info', (_req, reply) => api(reply).send({
      version: packageVersion(), interval: this.deps.intervalSec, history: this.opts.history / 1000,
      top: this.opts.pageTop, uptime: (this.now() - this.startedMs) / 1000, views: this.viewInfo,
    }));

    app.get('/api/events', (req, reply) => this.openEvents(req, reply));

    app.get('/metrics', (_req, reply) =>
      reply.type(PROMETHEUS_CONTENT_TYPE).header('cache-control', 'no-store').send(this.process.render()));

    app.get('/healthz', (_req, reply) => {
      const newest = this.history.summaries.newest();
      return api(reply).code(this.ready ? 200 : 503).send({
        status: this.ready ? 'ok' : 'starting', live: true, ready: this.ready,
        uptime: (this.now() - this.startedMs) / 1000, intervals: this.history.summaries.size, newestEnd: newest?.end ?? null,
      });
    });
  }

  /** Server-sent events: `summary` (the page's view of each new interval) and `alert`. */
  private openEvents(req: FastifyRequest, reply: FastifyReply): void {
    if (this.clients.size >= this.opts.clients) {
      this.m.sseRejected.inc();
      void reply.code(503).header('retry-after', '30').send({ error: 'too many live-update clients (web.clients)' });
      return;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // reverse proxies must not buffer the stream
    });
    res.write('retry: 5000\n\n');
    const c: SseClient = { res };
    this.streams.add(res);
    this.clients.add(c);
    this.m.sseClients.set(this.clients.size);
    // hijacked replies may skip onResponse: count the stream when it opens
    this.deps.metrics.counter('web_requests_total', REQUESTS_HELP, { route: '/api/events', code: '2xx' }).inc();
    req.raw.on('close', () => this.dropClient(c));
    res.on('error', () => this.dropClient(c));
  }
}

function api(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}
