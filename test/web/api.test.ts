// The web server's HTTP API after a real replay of the pmacctd IPFIX capture: /api/intervals against
// the JSON sink's own output, `since` and `top`, /api/alerts, /healthz, security headers, the DNS-rebinding guard and live updates over server-sent events.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { request, type IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { createServer } from 'node:net';
import { loadConfig } from '../../src/config/load.js';
import { replay } from '../../src/ingest/replay.js';
import { JsonSink } from '../../src/export/json.js';
import { FanOut } from '../../src/export/sink.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import type { AlertEvent } from '../../src/alert/event.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { WebServer } from '../../src/web/server.js';

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const HOME = ['10.1.0.0/16', '2001:db8:1::/48'];

const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: HOME } } });
const metrics = new Metrics();
const web = new WebServer({ ...cfg.web, listen: '127.0.0.1:0' }, { metrics, log: silentLogger, intervalSec: cfg.interval / 1000 });
t.teardown(() => web.stop());

let base = '';
let sinkObjects: IntervalSummary[] = [];

/** GET with an explicit Host header (fetch does not let a test set it). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; body: string }> {
  const a = web.address();
  return new Promise((resolve, reject) => {
    const req = request({ host: a.address, port: a.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ res, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.before(async () => {
  await web.start();
  base = `http://127.0.0.1:${web.address().port}`;
  const before = await fetch(`${base}/healthz`);
  t.equal(before.status, 503, '/healthz is 503 until the collector is ready');
  t.match(await before.json(), { status: 'starting', ready: false, live: true });

  const captured = new PassThrough();
  let text = '';
  captured.on('data', (c: Buffer) => (text += c.toString('utf8')));
  await replay([`${FIX}pmacctd-ipfix.pcap`], cfg, {
    fanout: new FanOut([new JsonSink('-', captured)], metrics, silentLogger), metrics, log: silentLogger, progress: false,
    onSummary: (s) => web.onSummary(s),
  });
  sinkObjects = text.trim().split('\n').map((l) => JSON.parse(l) as IntervalSummary);
  web.setReady();
});

t.test('/api/intervals returns exactly the JSON sink objects; since filters by start', async (t) => {
  t.equal(sinkObjects.length, 30, 'the capture spans 30 intervals of 10 s');
  const r = await fetch(`${base}/api/intervals`);
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type'), /^application\/json/);
  t.equal(r.headers.get('cache-control'), 'no-store');
  t.strictSame(await r.json(), sinkObjects);

  const cut = sinkObjects[10]!.start;
  t.strictSame(await (await fetch(`${base}/api/intervals?since=${cut}`)).json(), sinkObjects.slice(10), 'since = a start: that interval on');
  t.strictSame(await (await fetch(`${base}/api/intervals?since=${cut + 0.5}`)).json(), sinkObjects.slice(11), 'fractional since');
  t.strictSame(await (await fetch(`${base}/api/intervals?since=${sinkObjects[29]!.end}`)).json(), [], 'since = newest end: nothing');
  t.strictSame(await (await fetch(`${base}/api/intervals?since=0`)).json(), sinkObjects);
  for (const q of ['since=abc', 'since=-1', 'since=1e3', 'since=1&since=2', 'top=0', 'top=1.5', 'top=100000']) {
    const b = await fetch(`${base}/api/intervals?${q}`);
    t.equal(b.status, 400, `?${q} is rejected`);
    t.match(await b.json(), { error: /since.*top/ });
  }
});

t.test('/api/intervals?top=N: the page view keeps the documented sums', async (t) => {
  const list = (await (await fetch(`${base}/api/intervals?top=2`)).json()) as IntervalSummary[];
  t.equal(list.length, 30);
  let trimmed = 0;
  for (const [i, s] of list.entries()) {
    const full = sinkObjects[i]!;
    t.strictSame(s.directions, full.directions);
    for (const dir of ['in', 'out'] as const) {
      const rows = s.hosts.filter((h) => h.direction === dir);
      t.ok(rows.length <= 2);
      const sum = rows.reduce((a, h) => a + h.bytes, 0) + s.hostsOther[dir].bytes;
      t.equal(sum, full.directions[dir].bytes + full.directions.internal.bytes, `interval ${i} hosts ${dir} add up`);
      if (rows.length < full.hosts.filter((h) => h.direction === dir).length) trimmed++;
    }
    for (const dir of ['in', 'out', 'internal', 'external'] as const) {
      const sum = s.ports.filter((p) => p.direction === dir).reduce((a, p) => a + p.bytes, 0) + s.portsOther[dir].bytes;
      t.equal(sum, full.directions[dir].bytes, `interval ${i} ports ${dir} add up`);
    }
  }
  t.ok(trimmed > 10, `rows were folded into "other" in ${trimmed} interval directions`);
  const top1 = (await (await fetch(`${base}/api/intervals?top=1`)).json()) as IntervalSummary[];
  const receivers = new Map<string, number>();
  for (const s of top1) for (const h of s.hosts) if (h.direction === 'in') receivers.set(h.host, (receivers.get(h.host) ?? 0) + h.bytes);
  t.equal([...receivers].sort((a, b) => b[1] - a[1])[0]![0], '10.1.0.99', 'top receiver survives trimming');
});

t.test('/api/alerts holds recent alerts, oldest first', async (t) => {
  t.strictSame(await (await fetch(`${base}/api/alerts`)).json(), []);
  const a: AlertEvent = { kind: 'threshold', name: 'uport', keys: { ipsource: '10.1.0.99', icmpunreachableport: 1000 },
    value: 1500, metric: 'packets', threshold: 1000, start: 1793491490, end: 1793491500, exporter: '127.0.0.1', time: 1793491500123 };
  web.onAlert(a);
  web.onAlert({ ...a, kind: 'cleared', value: 10, time: a.time + 10_000 });
  const got = (await (await fetch(`${base}/api/alerts`)).json()) as AlertEvent[];
  t.strictSame(got, [a, { ...a, kind: 'cleared', value: 10, time: a.time + 10_000 }]);
  t.strictSame(await (await fetch(`${base}/api/alerts?since=${a.time + 1}`)).json(), [got[1]]);
  t.equal((await fetch(`${base}/api/alerts?since=x`)).status, 400);
});

t.test('/healthz is 200 once ready, with the history state', async (t) => {
  const r = await fetch(`${base}/healthz`);
  t.equal(r.status, 200);
  t.match(await r.json(), { status: 'ok', ready: true, live: true, intervals: 30, newestEnd: sinkObjects[29]!.end });
});

t.test('the page and its assets are served with security headers', async (t) => {
  const page = await fetch(`${base}/`);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html/);
  t.match(page.headers.get('content-security-policy'), /^default-src 'self';/);
  t.notMatch(page.headers.get('content-security-policy'), /unsafe|https?:/, 'no inline code and no other origin');
  t.equal(page.headers.get('x-content-type-options'), 'nosniff');
  t.equal(page.headers.get('x-frame-options'), 'DENY');
  const html = await page.text();
  t.notMatch(html, /https?:\/\/(?!127)/, 'the page references no other host');
  const uplot = await fetch(`${base}/vendor/uplot.js`);
  t.match(uplot.headers.get('content-type'), /^text\/javascript/);
  const file = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');
  t.equal(await uplot.text(), readFileSync(file, 'utf8'), 'uPlot from node_modules');
  for (const p of ['/app.js', '/style.css', '/vendor/uplot.css', '/favicon.svg']) t.equal((await fetch(`${base}${p}`)).status, 200, p);
  // the page's ES modules: every file one of them imports is served, as JavaScript
  const modules = new Set<string>(), queue = ['/app.js'];
  while (queue.length) {
    const p = queue.pop()!;
    if (modules.has(p)) continue;
    modules.add(p);
    const r = await fetch(`${base}${p}`);
    t.equal(r.status, 200, p);
    t.match(r.headers.get('content-type'), /^text\/javascript/);
    for (const m of (await r.text()).matchAll(/from '\.\/([\w-]+\.js)'/g)) queue.push(`/${m[1]}`);
  }
  t.ok(modules.size > 1, `modules: ${[...modules].join(', ')}`);
  const missing = await fetch(`${base}/nope`);
  t.equal(missing.status, 404);
  t.match(missing.headers.get('content-security-policy'), /default-src 'self'/);
  t.strictSame(await missing.json(), { error: 'not found' });
});

t.test('/api/info: the configured views, none until set; setViews (a reload) replaces them', async (t) => {
  const info = async () => (await (await fetch(`${base}/api/info`)).json()) as { views: unknown; interval: number; top: number };
  t.match(await info(), { interval: 10, top: 50, views: [] });
  web.setViews([{ name: 'remotehosts', keys: ['remotehost'], per: 'direction' }]);
  t.strictSame((await info()).views, [{ name: 'remotehosts', keys: ['remotehost'], per: 'direction' }]);
  web.setViews([]);
  t.strictSame((await info()).views, []);
});

t.test('Host header guard against DNS rebinding', async (t) => {
  const port = web.address().port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'LOCALHOST', '10.1.0.1']) {
    t.equal((await get('/api/info', { host })).res.statusCode, 200, `Host: ${host}`);
  }
  for (const host of [`evil.example:${port}`, 'evil.example', '[not-an-ip]:1', '127.0.0.1.evil.example']) {
    const r = await get('/api/intervals', { host });
    t.equal(r.res.statusCode, 403, `Host: ${host}`);
    t.match(JSON.parse(r.body), { error: /web\.allowedHosts/ });
  }
  const named = new WebServer({ ...cfg.web, listen: '127.0.0.1:0', allowedHosts: 'flows.example, Other.example' },
    { metrics: new Metrics(), log: silentLogger, intervalSec: 10 });
  t.teardown(() => named.stop());
  await named.start();
  const a = named.address();
  const viaName = await new Promise<number>((resolve, reject) => {
    request({ host: a.address, port: a.port, path: '/healthz', headers: { host: `other.example:${a.port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on('error', reject).end();
  });
  t.equal(viaName, 503, 'a configured name passes the guard (and the new server is not ready yet)');
});

t.test('/api/events pushes each new summary (page view) and alert; slow and surplus clients are bounded', async (t) => {
  const a = web.address();
  const events: { event: string; data: unknown }[] = [];
  let gotHeaders: IncomingMessage['headers'] = {};
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    request({ host: a.address, port: a.port, path: '/api/events' }, resolve).on('error', reject).end();
  });
  gotHeaders = res.headers;
  let buf = '';
  let wake: (() => void) | undefined;
  res.setEncoding('utf8');
  res.on('data', (c: string) => {
    buf += c;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
      wake?.();
    }
  });
  const until = async (n: number) => {
    const deadline = Date.now() + 5000;
    while (events.length < n && Date.now() < deadline) await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
  };
  t.equal(res.statusCode, 200);
  t.match(gotHeaders['content-type'], /^text\/event-stream/);
  t.match(gotHeaders['content-security-policy'], /default-src 'self'/);

  const last = sinkObjects[29]!;
  const next: IntervalSummary = { ...last, start: last.end, end: last.end + 10 };
  web.onSummary(next);
  web.onAlert({ kind: 'event', name: 'scan', keys: { ipsource: '2001:db8:1::5' }, value: 3, metric: 'flows', start: next.start, end: next.end, time: next.end * 1000 });
  await until(2);
  t.same(events.map((e) => e.event), ['summary', 'alert']);
  t.strictSame(events[0]!.data, next, 'a summary with few rows is sent whole');
  t.match(events[1]!.data, { name: 'scan', keys: { ipsource: '2001:db8:1::5' } });

  // a second server capped at one client refuses the second
  const capped = new WebServer({ ...cfg.web, listen: '127.0.0.1:0', clients: 1 }, { metrics: new Metrics(), log: silentLogger, intervalSec: 10 });
  t.teardown(() => capped.stop());
  await capped.start();
  const c = capped.address();
  const open = () => new Promise<IncomingMessage>((resolve, reject) =>
    request({ host: c.address, port: c.port, path: '/api/events' }, resolve).on('error', reject).end());
  const first = await open();
  t.equal(first.statusCode, 200);
  const second = await open();
  t.equal(second.statusCode, 503, 'web.clients reached');
  second.resume();
  // stop() must end open streams instead of hanging on them
  const t0 = Date.now();
  await capped.stop();
  t.ok(Date.now() - t0 < 2000, `stop with an open stream took ${Date.now() - t0} ms`);
  res.destroy();
});

/** Whether this host has an IPv6 loopback to listen on (some containers do not). */
async function ipv6Loopback(): Promise<string | false> {
  const srv = createServer();
  return new Promise((resolve) => {
    srv.once('error', (err) => resolve(`no IPv6 loopback here: ${err.message}`));
    srv.listen(0, '::1', () => srv.close(() => resolve(false)));
  });
}

t.test('listens on IPv6 loopback', { skip: await ipv6Loopback() }, async (t) => {
  const v6 = new WebServer({ ...cfg.web, listen: '[::1]:0' }, { metrics: new Metrics(), log: silentLogger, intervalSec: 10 });
  t.teardown(() => v6.stop());
  await v6.start();
  const a = v6.address();
  t.equal(a.address, '::1');
  t.equal((await fetch(`http://[::1]:${a.port}/healthz`)).status, 503, 'not ready yet');
  v6.setReady();
  const r = await fetch(`http://[::1]:${a.port}/healthz`);
  t.equal(r.status, 200);
});

t.test('a port in use is a retriable start error', async (t) => {
  const other = new WebServer({ ...cfg.web, listen: `127.0.0.1:${web.address().port}` }, { metrics: new Metrics(), log: silentLogger, intervalSec: 10 });
  await t.rejects(other.start(), { name: 'WebError', retriable: true, message: /web\.listen = "127\.0\.0\.1:\d+": address already in use.*set web\.listen to a free address/ });
  await other.stop();
});

t.test('a live-update client that stops reading is dropped, not buffered without bound; idle streams get heartbeats', async (t) => {
  const m = new Metrics();
  const w = new WebServer({ ...cfg.web, listen: '127.0.0.1:0', pageTop: 100_000, maxBufferedBytes: 256 * 1024, heartbeatMs: 50 },
    { metrics: m, log: silentLogger, intervalSec: 10 });
  t.teardown(() => w.stop());
  await w.start();
  const a = w.address();
  const open = () => new Promise<IncomingMessage>((resolve, reject) =>
    request({ host: a.address, port: a.port, path: '/api/events' }, resolve).on('error', reject).end());
  const live = await open();
  let pings = 0;
  live.setEncoding('utf8');
  live.on('data', (c: string) => (pings += c.split(': ping\n\n').length - 1));
  const stalled = await open();
  stalled.pause(); // never reads again

  // ~130 kB per event: the kernel's socket buffers fill, then the server's own buffer
  const big: IntervalSummary = { ...sinkObjects[0]!, hosts: Array.from({ length: 1500 }, (_, i) => ({
    host: `2001:db8:1::${i.toString(16)}`, group: 'home', direction: 'in' as const, bytes: 1500 - i, packets: 1, flows: 1 })) };
  const t0 = Date.now();
  for (let i = 0; i < 400 && m.total('web_event_clients_dropped_total') === 0; i++) {
    w.onSummary({ ...big, start: big.start + i * 10, end: big.end + i * 10 });
    await new Promise((r) => setImmediate(r));
  }
  t.equal(m.total('web_event_clients_dropped_total'), 1, `the stalled client was dropped after ${Date.now() - t0} ms`);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(m.total('web_event_clients'), 1, 'the reading client stays');
  t.ok(pings >= 2, `heartbeats arrive (${pings})`);
  // a large answer is streamed in pieces (the event loop gets turns) and is still one valid array
  const { newestEnd } = (await (await fetch(`http://127.0.0.1:${a.port}/healthz`)).json()) as { newestEnd: number };
  const body = await (await fetch(`http://127.0.0.1:${a.port}/api/intervals?since=${newestEnd - 30}`)).text();
  t.ok(body.length > 300_000, `${body.length} bytes`);
  t.strictSame((JSON.parse(body) as IntervalSummary[]).map((s) => s.end), [newestEnd - 20, newestEnd - 10, newestEnd]);
  live.destroy();
  stalled.destroy();
});

t.test('as a sink in the fan-out it receives summaries and alerts; stopping the sinks leaves it serving', async (t) => {
  const m = new Metrics();
  const w = new WebServer({ ...cfg.web, listen: '127.0.0.1:0' }, { metrics: m, log: silentLogger, intervalSec: 10 });
  t.teardown(() => w.stop());
  await w.start();
  const fan = new FanOut([w.sink()], m, silentLogger);
  fan.write(sinkObjects[5]!);
  fan.writeAlert({ kind: 'event', name: 'n', keys: { k: 'v' }, value: 1, metric: 'flows', start: 0, end: 10, time: 5 });
  await fan.stop();
  const base2 = `http://127.0.0.1:${w.address().port}`;
  t.strictSame(await (await fetch(`${base2}/api/intervals`)).json(), [sinkObjects[5]]);
  t.match(await (await fetch(`${base2}/api/alerts`)).json(), [{ name: 'n', time: 5 }]);
  t.equal(m.total('sink_summaries_total', { sink: 'web' }), 1);
});
