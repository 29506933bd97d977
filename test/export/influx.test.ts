// The InfluxDB sink against a real influxd 1.6 on loopback: v1 mode straight to /write, the official
// client's v2 path through a shim to the same server, the fixture's totals read back with InfluxQL,
// alerts, a rejected write, and an outage longer than the retry buffer.
import t, { type Test as Tap } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { loadConfig } from '../../src/config/load.js';
import { createSinks } from '../../src/config/create-sinks.js';
import { influxOptions } from '../../src/config/sinks.js';
import { InfluxSink, type InfluxSinkOptions } from '../../src/export/influx.js';
import { FanOut } from '../../src/export/sink.js';
import { replay } from '../../src/ingest/replay.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { influxdMissing, startInfluxd, startV2Shim } from '../helpers/influxd.js';
import { freeTcpPort } from '../helpers/ports.js';
import { truth } from '../helpers/truth.js';

const missing = influxdMissing();
if (missing) {
  t.plan(0, missing);
  process.exit(0);
}

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const DBS = ['v1db', 'v2db', 'alerts', 'outage_v1', 'outage_v2', 'rejected', 'views'];
const influxd = await startInfluxd(t, { databases: DBS });

function config(influx: Record<string, unknown>) {
  return loadConfig({ argv: [], env: {}, overrides: { networks: { home: truth.home }, output: { format: 'none' }, influx: { enabled: true, ...influx } } });
}

/** Replays the IPFIX fixture through the sinks createSinks builds from `cfg`. */
async function replayInto(cfg: ReturnType<typeof config>, metrics: Metrics): Promise<IntervalSummary[]> {
  const sinks = createSinks(cfg, { metrics, log: silentLogger });
  const out: IntervalSummary[] = [];
  await replay([`${FIX}pmacctd-ipfix.pcap`], cfg, { fanout: new FanOut(sinks, metrics, silentLogger), log: silentLogger, metrics, onSummary: (s) => out.push(s), progress: false });
  return out;
}

async function sumByTag(db: string, measurement: string, by: string, where = ''): Promise<Record<string, [number, number]>> {
  const rows = await influxd.query(`SELECT SUM(bytes), SUM(packets) FROM ${measurement} ${where} GROUP BY ${by}`, db);
  const out: Record<string, [number, number]> = {};
  for (const r of rows) {
    const key = by.split(',').map((k) => r.tags![k.trim().replace(/"/g, '')]).join('|');
    out[key] = [r.values[0]![1] as number, r.values[0]![2] as number];
  }
  return out;
}

/** Points stored in a database, per measurement (every measurement has an always-present field). */
async function pointCount(db: string): Promise<number> {
  let n = 0;
  for (const [m, f] of [['traffic', 'bytes'], ['hosts', 'bytes'], ['ports', 'bytes'], ['protocols', 'bytes'], ['networks', 'bytes'],
    ['exporters', 'bytes'], ['collector', 'intervalRecords'], ['sinks', 'lines'],
    ['view_interfaces', 'bytes'], ['view_remotehosts', 'bytes'], ['interface_counters', 'octets']] as const) {
    const r = await influxd.query(`SELECT COUNT(${f}) FROM ${m}`, db);
    n += (r[0]?.values[0]?.[1] as number | undefined) ?? 0;
  }
  return n;
}

async function checkTruth(t: Tap, db: string): Promise<void> {
  const byDir = await sumByTag(db, 'traffic', 'direction');
  t.same(byDir, truth.by_direction, 'SUM(bytes), SUM(packets) per direction equal the capture truth');
  const hosts = await sumByTag(db, 'hosts', 'host, direction', `WHERE host != 'other'`);
  const perHost: Record<string, [number, number, number, number]> = {};
  for (const [k, [b, p]] of Object.entries(hosts)) {
    const [host, dir] = k.split('|') as [string, string];
    const e = (perHost[host] ??= [0, 0, 0, 0]);
    e[dir === 'in' ? 0 : 2] = b;
    e[dir === 'in' ? 1 : 3] = p;
  }
  t.same(perHost, truth.by_local_host, 'per-host sums equal the truth');
}

t.test('v1 mode: the fixture replayed into influxd 1.6 via /write; InfluxQL sums equal the truth', async (t) => {
  const metrics = new Metrics();
  const out = await replayInto(config({ api: 'v1', url: influxd.url, bucket: 'v1db/autogen' }), metrics);
  t.equal(out.length, 30);
  await checkTruth(t, 'v1db');
  const lines = metrics.total('sink_lines_total', { sink: 'influx' });
  t.equal(await pointCount('v1db'), lines, 'every delivered line is one stored point');
  t.equal(metrics.total('sink_errors_total', { sink: 'influx' }), 0);
  t.equal(metrics.total('sink_dropped_total', { sink: 'influx' }), 0);
  // the interval's start is the timestamp, bps = bytes × 8 / 10
  const s = out.find((x) => x.directions.in.bytes > 0)!;
  const r = await influxd.query(`SELECT bytes, bps, packets, pps, flows FROM traffic WHERE direction = 'in' AND time = ${s.start}s`, 'v1db');
  t.same(r[0]!.values[0], [s.start, s.directions.in.bytes, s.directions.in.bps, s.directions.in.packets, s.directions.in.pps, s.directions.in.flows]);
  const types = await influxd.query('SHOW FIELD KEYS FROM traffic', 'v1db');
  t.same(Object.fromEntries(types[0]!.values as [string, string][]), { bps: 'float', bytes: 'integer', flows: 'integer', packets: 'integer', pps: 'float' });
});

t.test('views: Σ view_remotehosts bytes per direction (InfluxQL) = Σ directions of the summaries', async (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: truth.home }, output: { format: 'none' },
    views: [{ name: 'remotehosts', keys: ['remotehost'] }], influx: { enabled: true, api: 'v1', url: influxd.url, bucket: 'views' } } });
  const metrics = new Metrics();
  const out = await replayInto(cfg, metrics);
  t.equal(metrics.total('sink_lines_failed_total', { sink: 'influx' }), 0);
  for (const d of ['in', 'out'] as const) {
    const want = out.reduce((a, s) => a + s.directions[d].bytes, 0);
    const r = await influxd.query(`SELECT SUM(bytes) FROM view_remotehosts WHERE direction = '${d}'`, 'views');
    t.ok(want > 0);
    t.equal(r[0]!.values[0]![1], want, `Σ view_remotehosts bytes (${d}) = Σ directions.${d}.bytes = ${want}`);
  }
  const tags = await influxd.query('SHOW TAG KEYS FROM view_remotehosts', 'views');
  t.same(tags[0]!.values.map((v) => v[0]), ['direction', 'remotehost']);
});

t.test('v2 API (the client unchanged) through a shim to the same server: token file, db/rp bucket, gzip', async (t) => {
  const shim = await startV2Shim(t, influxd);
  const tokenFile = join(t.testdir(), 'token');
  writeFileSync(tokenFile, 'secret-token\n');
  const metrics = new Metrics();
  await replayInto(config({ api: 'v2', url: shim.url, tokenFile, org: 'lab', bucket: 'v2db/autogen' }), metrics);
  await checkTruth(t, 'v2db');
  t.equal(await pointCount('v2db'), metrics.total('sink_lines_total', { sink: 'influx' }));
  t.ok(shim.requests.length >= 30, `one request per interval (${shim.requests.length})`);
  t.ok(shim.requests.every((r) => r.path === '/api/v2/write?org=lab&bucket=v2db%2Fautogen&precision=s'), 'org, bucket and precision in the path');
  t.ok(shim.requests.every((r) => r.authorization === 'Token secret-token'), 'token read from influx.tokenFile');
  t.ok(shim.requests.some((r) => r.contentEncoding === 'gzip'), 'bodies above 1000 bytes are gzipped');
  t.ok(shim.requests.every((r) => r.status === 204));
});

t.test('alerts become points of the alerts measurement at their own time (ms)', async (t) => {
  const metrics = new Metrics();
  const sink = new InfluxSink({ api: 'v1', url: influxd.url, bucket: 'alerts' }, { metrics });
  const time = Date.UTC(2026, 10, 1, 0, 0, 12, 345);
  sink.writeAlert({ kind: 'threshold', name: 'uport', keys: { ipsource: '10.1.1.1', icmpunreachableport: 1000 }, value: 1200,
    metric: 'frames', threshold: 1000, start: 1793491200, end: 1793491210, exporter: '192.0.2.1', time });
  sink.writeAlert({ kind: 'event', name: 'scan', keys: { ipsource: '10.1.1.2' }, value: 1, metric: 'flows', start: 1793491200, end: 1793491210, time: time + 1 });
  await sink.stop();
  const r = await influxd.query('SELECT * FROM alerts', 'alerts');
  const cols = r[0]!.columns;
  const rows = r[0]!.values.map((v) => Object.fromEntries(cols.map((c, i) => [c, v[i]])));
  t.equal(rows.length, 2);
  t.match(rows[0], { time: Math.floor(time / 1000), alert: 'uport', kind: 'threshold', metric: 'frames', exporter: '192.0.2.1', value: 1200,
    threshold: 1000, intervalStart: 1793491200, intervalEnd: 1793491210, detail: 'ipsource=10.1.1.1 icmpunreachableport=1000',
    text: 'threshold uport ipsource=10.1.1.1 icmpunreachableport=1000: frames 1200 > 1000' });
  t.match(rows[1], { alert: 'scan', kind: 'event', exporter: null, threshold: null });
  const ms = await influxd.query('SELECT value FROM alerts', 'alerts');
  t.ok(ms[0]!.values.length === 2, 'two points a millisecond apart stay two points');
  t.equal(metrics.total('sink_lines_total', { sink: 'influx' }), 2);
});

t.test('a rejected write (unknown database: 404) is not retried; its lines count as failed', async (t) => {
  const metrics = new Metrics();
  const sink = new InfluxSink({ api: 'v1', url: influxd.url, bucket: 'nosuchdb' }, { metrics });
  sink.write((await fixtureSummaries())[5]!);
  await sink.stop();
  const failed = metrics.total('sink_lines_failed_total', { sink: 'influx' });
  t.ok(failed > 0, `${failed} lines failed`);
  t.equal(metrics.total('sink_retries_total', { sink: 'influx' }), 0);
  t.equal(metrics.total('sink_lines_total', { sink: 'influx' }), 0);
  t.equal(sink.queued, 0);
});

let cached: IntervalSummary[] | undefined;
async function fixtureSummaries(): Promise<IntervalSummary[]> {
  if (!cached) {
    const cfg = config({ enabled: false });
    const out: IntervalSummary[] = [];
    await replay([`${FIX}pmacctd-ipfix.pcap`], cfg, { log: silentLogger, onSummary: (s) => out.push(s), progress: false });
    cached = out;
  }
  return cached;
}

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(25);
  }
  return cond();
}

for (const api of ['v1', 'v2'] as const) {
  t.test(`${api}: influxd down for several intervals; the buffer keeps the newest, drops the oldest, counts them`, async (t) => {
    const db = `outage_${api}`;
    const url = api === 'v1' ? influxd.url : (await startV2Shim(t, influxd)).url;
    const metrics = new Metrics();
    const opts: Partial<InfluxSinkOptions> = {
      api, url, bucket: db, minRetryDelayMs: 50, maxRetryDelayMs: 300, retryJitterMs: 0, timeoutMs: 2000,
    };
    const all = await fixtureSummaries();
    // one interval = 150 ms of wall time here; intervals 20–29 of the fixture carry the most series
    const summaries = all.slice(18, 30);
    const probe = new InfluxSink(opts, { metrics: new Metrics() });
    const size = summaries.map((s) => probe.format(s).length + 1); // + the sink's own row
    await probe.stop();
    const outage = [3, 4, 5, 6, 7, 8];
    // room for about three of the outage's intervals, but not less than the largest interval: lines in
    // flight count against the bound too, so an interval bigger than the whole buffer is never sent
    const maxBufferLines = Math.max(size[3]! + size[4]! + size[5]!, ...size);
    const sink = new InfluxSink({ ...opts, maxBufferLines }, { metrics });
    t.teardown(() => sink.stop());
    const c = (name: string) => metrics.total(name, { sink: 'influx' });

    for (let i = 0; i < 3; i++) sink.write(summaries[i]!);
    t.ok(await until(() => sink.queued === 0, 5000), 'delivered before the outage');
    await influxd.stop();
    for (const i of outage) {
      sink.write(summaries[i]!);
      await sleep(150);
    }
    await sleep(300);
    t.ok(c('sink_retries_total') > 0, `writes retried during the outage (${c('sink_retries_total')})`);
    t.ok(sink.queued > 0 && sink.queued <= maxBufferLines, `buffer bounded: ${sink.queued} ≤ ${maxBufferLines}`);
    await influxd.start();
    // drained before the next (larger) intervals come, or they would push the outage's out of the buffer
    t.ok(await until(() => sink.queued === 0, 10_000), 'the buffer drains once influxd is back');
    for (let i = 9; i < 12; i++) {
      sink.write(summaries[i]!);
      await sleep(150);
    }
    t.ok(await until(() => sink.queued === 0, 10_000), 'the intervals after the outage are delivered');
    await sink.stop();

    const produced = size.reduce((a, b) => a + b, 0);
    const delivered = c('sink_lines_total'), dropped = c('sink_dropped_total');
    t.equal(c('sink_lines_failed_total'), 0);
    t.ok(dropped > 0, `${dropped} lines dropped`);
    t.equal(delivered + dropped, produced, `delivered ${delivered} + dropped ${dropped} = produced ${produced}`);
    t.equal(await pointCount(db), delivered, 'influxd stores exactly the delivered lines');
    // which intervals arrived: all before and after the outage, and the newest of the outage
    const r = await influxd.query(`SELECT bytes FROM traffic WHERE direction = 'in'`, db);
    const stored = new Set(r[0]!.values.map((v) => v[0] as number));
    const present = summaries.map((s) => stored.has(s.start));
    const lost = outage.filter((i) => !present[i]);
    t.same(present.slice(0, 3), [true, true, true]);
    t.same(present.slice(9), [true, true, true]);
    t.ok(lost.length > 0, `intervals ${lost.join(',')} dropped`);
    // the sink drops whole waiting intervals, oldest first; the one in flight at that moment is not cut
    // off and may outlive a newer one, so only the newest interval is certain to survive
    t.ok(present[outage.at(-1)!], 'the newest interval of the outage survives');
    t.ok(lost.every((i) => i < outage.at(-1)!), 'only older intervals of the outage are dropped');
    t.equal(lost.reduce((a, i) => a + size[i]!, 0), dropped, 'dropped lines are exactly those intervals');
  });
}

t.test('stop() with the server unreachable returns within its timeout and counts every line as dropped', async (t) => {
  const metrics = new Metrics();
  const port = await freeTcpPort(); // nothing listens there
  const sink = new InfluxSink({ api: 'v1', url: `http://127.0.0.1:${port}`, bucket: 'x', minRetryDelayMs: 50, maxRetryDelayMs: 100, stopTimeoutMs: 1000 }, { metrics });
  const summaries = await fixtureSummaries();
  const t0 = Date.now();
  for (const s of summaries.slice(20, 23)) sink.write(s);
  t.ok(Date.now() - t0 < 200, `write() does not wait for the server (${Date.now() - t0} ms for 3 intervals)`);
  await sleep(300);
  const t1 = Date.now();
  await sink.stop();
  t.ok(Date.now() - t1 < 1500, `stopped in ${Date.now() - t1} ms`);
  const c = (name: string) => metrics.total(name, { sink: 'influx' });
  t.ok(c('sink_retries_total') > 0);
  t.equal(c('sink_lines_total'), 0);
  t.equal(c('sink_lines_failed_total'), 0, 'refused connections are retried, never given up on');
  t.ok(c('sink_dropped_total') > 0, `${c('sink_dropped_total')} lines dropped at stop`);
  t.equal(sink.queued, 0, 'nothing unaccounted');
  t.equal(metrics.total('sink_queue_lines', { sink: 'influx' }), 0);
});

t.test('instance: every point (alerts too) carries instance=<name>; two instances in one database sum', async (t) => {
  await influxd.query('CREATE DATABASE instances');
  const cfg = (name: string) => loadConfig({ argv: [], env: { FLOWBRIDGE_INSTANCE: name }, overrides: {
    networks: { home: truth.home }, influx: { enabled: true, api: 'v1', url: influxd.url, bucket: 'instances' } } });
  const metrics = new Metrics();
  const sinks = ['eu1', 'us-2'].map((name) => new InfluxSink({ ...influxOptions(cfg(name).influx, 5000, cfg(name).instance), name: `influx-${name}` }, { metrics }));
  const lines = sinks[0]!.format((await fixtureSummaries())[5]!);
  const tagsOf = (l: string) => l.split(' ')[0]!.split(',').slice(1);
  t.ok(lines.every((l) => tagsOf(l).includes('instance=eu1')), 'instance=eu1 on every line');
  t.ok(lines.every((l) => tagsOf(l).join() === tagsOf(l).sort().join()), 'tags in key order, as Point writes them');
  t.match(lines.find((l) => l.startsWith('traffic,'))!, /^traffic,direction=in,instance=eu1 bps=/);
  sinks[1]!.writeAlert({ kind: 'event', name: 'scan', keys: {}, value: 1, metric: 'flows', start: 1793491200, end: 1793491210, time: Date.UTC(2026, 10, 1) });
  // the replay writes both sinks and stops them (flushing)
  await replay([`${FIX}pmacctd-ipfix.pcap`], cfg('eu1'), { fanout: new FanOut(sinks, metrics, silentLogger), log: silentLogger, metrics, progress: false });
  const tags = await influxd.query('SHOW TAG VALUES FROM traffic WITH KEY = instance', 'instances');
  t.same(tags[0]!.values.map((v) => v[1]), ['eu1', 'us-2']);
  const byDir = await sumByTag('instances', 'traffic', 'direction');
  t.same(byDir, Object.fromEntries(Object.entries(truth.by_direction).map(([d, [b, p]]) => [d, [2 * b, 2 * p]])), 'Σ over both instances = 2 × the truth');
  t.same(await sumByTag('instances', 'traffic', 'direction', `WHERE instance = 'us-2'`), truth.by_direction, 'one instance alone = the truth');
  const alert = await influxd.query('SELECT value, instance FROM alerts', 'instances');
  t.same(alert[0]!.values.map((v) => v.slice(1)), [[1, 'us-2']], 'the alert carries the tag');
  t.equal(metrics.total('sink_lines_failed_total'), 0);
});
