// The Graphite sink against a real carbon-cache on loopback: the fixture replayed (rebased to ten
// minutes ago, inside a 10s:1h retention) and read back from the whisper files, tagged series, UDP,
// and an outage that outlasts the bounded queue.
import t from 'tap';
import { FanOut } from '../../src/export/sink.js';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { loadConfig } from '../../src/config/load.js';
import { GraphiteSink, type Chunk, type GraphiteSinkOptions } from '../../src/export/graphite.js';
import { createSinks } from '../../src/config/create-sinks.js';
import { graphiteOptions } from '../../src/config/sinks.js';
import { replay } from '../../src/ingest/replay.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { carbonMissing, startCarbon, whisperInfo } from '../helpers/carbon.js';
import { graphiteNode } from '../../src/export/series-defs.js';
import { freeTcpPort } from '../helpers/ports.js';
import { truth } from '../helpers/truth.js';

const missing = carbonMissing();
if (missing) {
  t.plan(0, missing);
  process.exit(0);
}

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const carbon = await startCarbon(t);

function config(graphite: Record<string, unknown>) {
  return loadConfig({ argv: [], env: {}, overrides: { networks: { home: truth.home }, output: { format: 'none' }, graphite: { enabled: true, ...graphite } } });
}

/** Every line of some chunks as [metric, ts, value]. */
function points(chunks: Chunk[]): [string, number, number][] {
  return chunks.flatMap((c) => c.text.split('\n').filter(Boolean).map((l) => {
    const [m, v, ts] = l.split(' ') as [string, string, string];
    return [m, Number(ts), Number(v)] as [string, number, number];
  }));
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !cond()) await sleep(25);
  return cond();
}

/** The fixture's summaries (capture time), for tests that drive the sink directly. */
const fixture: IntervalSummary[] = [];
await replay([`${FIX}pmacctd-ipfix.pcap`], config({ enabled: false }), { log: silentLogger, onSummary: (s) => fixture.push(s), progress: false });

/** A summary moved to `start` (carbon keeps only the last hour). */
function at(s: IntervalSummary, start: number): IntervalSummary {
  return { ...s, start, end: start + s.interval };
}
const recent = Math.floor(Date.now() / 10_000) * 10 - 60;

t.test('the fixture replayed into carbon: every stored point equals the summaries, totals equal the truth', async (t) => {
  const cfg = config({ address: `127.0.0.1:${carbon.linePort}` });
  const metrics = new Metrics();
  const sinks = createSinks(cfg, { metrics, log: silentLogger });
  const out: IntervalSummary[] = [];
  const tenMinutesAgo = Date.now() - 600_000;
  await replay([`${FIX}pmacctd-ipfix.pcap`], cfg, {
    fanout: new FanOut(sinks, metrics, silentLogger), log: silentLogger, metrics, onSummary: (s) => out.push(s), progress: false, shiftToNow: true, now: () => tenMinutesAgo,
  });
  t.equal(out.length, 30);
  t.ok(out[0]!.start > Date.now() / 1000 - 3600 && out[29]!.end < Date.now() / 1000, 'rebased inside the retention, in the past');
  const lines = metrics.total('sink_lines_total', { sink: 'graphite' });
  t.equal(metrics.total('sink_dropped_total', { sink: 'graphite' }), 0);

  // what the sink sent, recomputed: every summary's series but the sink's own row (its values moved on)
  const probe = new GraphiteSink({}, { metrics: new Metrics() });
  const expected = out.flatMap((s) => points(probe.format(s)));
  t.equal(lines, expected.length + out.length * 6, 'delivered = series lines + 6 self-metric lines per interval');
  const miss = await carbon.waitFor(expected.map(([m, ts]) => [m, ts]), 30_000);
  t.same(miss.slice(0, 5), [], `every point readable from whisper (${expected.length})`);
  const wrong = expected.filter(([m, ts, v]) => carbon.value(m, ts) !== v);
  t.same(wrong.slice(0, 5), [], 'each stored value equals the line sent');

  const byDir: Record<string, [number, number]> = {};
  for (const s of out) {
    for (const d of ['in', 'out', 'internal', 'external']) {
      const b = carbon.value(`flowbridge.total.${d}.bytes`, s.start)!, p = carbon.value(`flowbridge.total.${d}.packets`, s.start)!;
      if (!b && !p) continue;
      const e = (byDir[d] ??= [0, 0]);
      e[0] += b;
      e[1] += p;
    }
  }
  t.same(byDir, truth.by_direction, 'Σ flowbridge.total.<direction>.bytes/packets from whisper = the capture truth');
  const hostIn = (h: string) => out.reduce((a, s) => a + (carbon.value(`flowbridge.hosts.${h}.in.bytes`, s.start) ?? 0), 0);
  t.equal(hostIn('10_1_0_99'), truth.by_local_host['10.1.0.99']![0], 'IPv4 host path 10_1_0_99');
  t.equal(hostIn('2001-db8-1--10'), truth.by_local_host['2001:db8:1::10']![0], 'IPv6 host path 2001-db8-1--10');
  const s = out.find((x) => x.ports.some((p) => p.protocol === 'tcp' && p.port === 443))!;
  const p443 = s.ports.find((p) => p.protocol === 'tcp' && p.port === 443)!;
  t.equal(carbon.value(`flowbridge.ports.tcp.443.${p443.direction}.bytes`, s.start), p443.bytes);
  t.equal(carbon.value('flowbridge.total.in.bps', s.start), s.directions.in.bps);
  t.equal(carbon.value('flowbridge.collector.datagrams', s.start), s.stats.collector.datagrams);
});

t.test('views: Σ flowbridge.views.remotehosts.*.in.bytes from whisper = Σ directions.in.bytes of the summaries', async (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: truth.home }, output: { format: 'none' },
    views: [{ name: 'remotehosts', keys: ['remotehost'] }], graphite: { enabled: true, address: `127.0.0.1:${carbon.linePort}` } } });
  const metrics = new Metrics();
  const out: IntervalSummary[] = [];
  const twentyMinutesAgo = Date.now() - 1_200_000;
  await replay([`${FIX}pmacctd-ipfix.pcap`], cfg, { fanout: new FanOut(createSinks(cfg, { metrics, log: silentLogger }), metrics, silentLogger),
    log: silentLogger, metrics, onSummary: (s) => out.push(s), progress: false, shiftToNow: true, now: () => twentyMinutesAgo });
  // every path written for direction in: the listed remote hosts and the other row
  const paths: [string, number][] = [];
  for (const s of out) {
    for (const r of s.views!.remotehosts!) if (r.direction === 'in') paths.push([`flowbridge.views.remotehosts.${graphiteNode(String(r.key.remotehost))}.in.bytes`, s.start]);
    if (s.viewsOther!.remotehosts!.in!.bytes > 0) paths.push(['flowbridge.views.remotehosts.other.in.bytes', s.start]);
  }
  t.same((await carbon.waitFor(paths, 30_000)).slice(0, 5), [], `${paths.length} points readable from whisper`);
  const want = out.reduce((a, s) => a + s.directions.in.bytes, 0);
  const got = paths.reduce((a, [m, ts]) => a + (carbon.value(m, ts) ?? 0), 0);
  t.ok(want > 0);
  t.equal(got, want, `Σ views.remotehosts.*.in.bytes = Σ directions.in.bytes = ${want}`);
});

t.test('tagged series (Graphite 1.1) land where carbon files them, with the same values', async (t) => {
  const metrics = new Metrics();
  const sink = new GraphiteSink({ port: carbon.linePort, tagged: true, prefix: 'fb' }, { metrics });
  const s = at(fixture[25]!, recent);
  sink.write(s);
  await sink.stop();
  const h = s.hosts[0]!;
  const metric = `fb.hosts.bytes;direction=${h.direction};host=${h.host};network=${h.group}`;
  t.same(await carbon.waitFor([[metric, s.start], [`fb.total.bps;direction=in`, s.start]], 10_000), []);
  t.equal(carbon.value(metric, s.start), h.bytes);
  t.equal(carbon.value('fb.total.bps;direction=in', s.start), s.directions.in.bps);
  t.equal(metrics.total('sink_lines_total', { sink: 'graphite' }), points(new GraphiteSink({ tagged: true }, { metrics: new Metrics() }).format(s)).length + 6);
});

t.test('UDP: whole lines per datagram reach carbon', async (t) => {
  const udpCarbon = await startCarbon(t, { udp: true });
  const metrics = new Metrics();
  const sink = new GraphiteSink({ port: udpCarbon.udpPort, protocol: 'udp', prefix: 'u' }, { metrics });
  const s = at(fixture[27]!, recent);
  sink.write(s);
  await sink.stop();
  const expected = points(new GraphiteSink({ prefix: 'u' }, { metrics: new Metrics() }).format(s));
  t.ok(expected.length > 500, `${expected.length} lines in many datagrams`);
  t.same((await udpCarbon.waitFor(expected.map(([m, ts]) => [m, ts]), 15_000)).length, 0, 'every line arrived');
  t.same(expected.filter(([m, ts, v]) => udpCarbon.value(m, ts) !== v).length, 0);
  t.equal(metrics.total('sink_lines_total', { sink: 'graphite' }), expected.length + 6);
});

t.test('carbon down for several intervals: queued lines arrive after it returns, overflow dropped oldest-first and counted', async (t) => {
  const metrics = new Metrics();
  const c = (name: string) => metrics.total(name, { sink: 'graphite' });
  // twelve intervals ending a minute ago (inside the retention); 150 ms of wall time each
  const summaries = fixture.slice(18, 30).map((s, i) => at(s, recent - (11 - i) * 10));
  const opts: Partial<GraphiteSinkOptions> = { port: carbon.linePort, prefix: 'outage', minRetryDelayMs: 50, maxRetryDelayMs: 300, chunkLines: 100 };
  const probe = new GraphiteSink(opts, { metrics: new Metrics() });
  // each interval's lines in the order sent: its series, then the sink's own row (values not known here)
  const self = ['dropped', 'errors', 'failed', 'lines', 'queue', 'retries'];
  const lines = summaries.map((s) => [...points(probe.format(s)), ...self.map((f) => [`outage.sinks.graphite.${f}`, s.start, NaN] as [string, number, number])]);
  const size = lines.map((l) => l.length);
  const outage = [3, 4, 5, 6, 7, 8];
  const maxQueueLines = size[3]! + size[4]! + size[5]!;
  const sink = new GraphiteSink({ ...opts, maxQueueLines }, { metrics });
  t.teardown(() => sink.stop());

  for (let i = 0; i < 3; i++) sink.write(summaries[i]!);
  t.ok(await until(() => sink.queued === 0, 5000), 'delivered before the outage');
  // carbon loses its cache on SIGTERM: stop it only once the points are on disk
  t.same(await carbon.waitFor(lines.slice(0, 3).flat().map(([m, ts]) => [m, ts]), 20_000), []);
  await carbon.stop();
  t.ok(await until(() => !sink.isConnected, 5000), 'the sink saw the connection close');
  for (const i of outage) {
    sink.write(summaries[i]!);
    await sleep(150);
  }
  t.ok(c('sink_retries_total') > 0, `reconnects attempted with backoff (${c('sink_retries_total')})`);
  t.ok(sink.queued <= maxQueueLines, `queue bounded: ${sink.queued} ≤ ${maxQueueLines}`);
  await carbon.start();
  // interval 9 alone is bigger than this queue: let the backlog go out (next backoff step) first
  t.ok(await until(() => sink.queued === 0, 5000), 'the queued intervals are sent once carbon is back');
  for (let i = 9; i < 12; i++) {
    sink.write(summaries[i]!);
    await sleep(150);
  }
  t.ok(await until(() => sink.queued === 0, 10_000), 'and the intervals after them');
  await sink.stop();

  const produced = size.reduce((a, b) => a + b, 0);
  const delivered = c('sink_lines_total'), dropped = c('sink_dropped_total');
  t.ok(dropped > 0, `${dropped} lines dropped`);
  t.equal(delivered + dropped, produced, `delivered ${delivered} + dropped ${dropped} = produced ${produced}`);
  // read back every series line: present ones carry their value; the missing ones are the oldest of the outage
  const all = lines.flat();
  const outageLines = outage.flatMap((i) => lines[i]!);
  const mustArrive = [...lines.slice(0, 3), ...lines.slice(9)].flat();
  t.same(await carbon.waitFor(mustArrive.map(([m, ts]) => [m, ts]), 20_000), [], 'everything before and after the outage is stored');
  const present = (p: [string, number, number]) => carbon.value(p[0], p[1]) !== null;
  await until(() => outageLines.filter(present).length + dropped >= outageLines.length, 10_000);
  const flags = outageLines.map(present);
  const firstKept = flags.indexOf(true);
  t.equal(firstKept, dropped, 'the missing lines are exactly the dropped count, and they are the oldest');
  t.ok(flags.slice(firstKept).every(Boolean), 'every outage line after the first kept one is stored');
  t.ok(all.filter(present).every(([m, ts, v]) => Number.isNaN(v) || carbon.value(m, ts) === v), 'stored values equal the lines sent');
});

t.test('the example carbon configuration (examples/carbon/): 10 s first archive; sums, averages and maxima where they belong', async (t) => {
  const ex = (f: string) => readFileSync(new URL(`../../examples/carbon/${f}`, import.meta.url), 'utf8');
  const c = await startCarbon(t, { schemas: ex('storage-schemas.conf'), aggregation: ex('storage-aggregation.conf') });
  const sink = new GraphiteSink({ port: c.linePort }, { metrics: new Metrics() });
  // whisper preallocates 0.56 MB per series with these retentions: keep the summary small
  const f = fixture[3]!;
  const s = { ...at(f, recent), hosts: f.hosts.filter((h) => h.host === '10.1.0.99'), ports: [], protocols: [], exporters: [] };
  sink.write(s);
  sink.writeAlert({ kind: 'threshold', name: 'uport', keys: {}, value: 5, metric: 'frames', threshold: 1, start: s.start, end: s.end, time: s.start * 1000 });
  await sink.stop();
  const tagged = new GraphiteSink({ port: c.linePort, tagged: true }, { metrics: new Metrics() });
  tagged.write(s);
  await tagged.stop();
  const want: [string, string][] = [
    ['flowbridge.total.in.bytes', 'sum'], ['flowbridge.total.in.bps', 'average'], ['flowbridge.total.in.pps', 'average'],
    ['flowbridge.hosts.10_1_0_99.in.packets', 'sum'], ['flowbridge.collector.datagrams', 'sum'], ['flowbridge.sinks.graphite.lines', 'sum'],
    ['flowbridge.sinks.graphite.queue', 'max'], ['flowbridge.alerts.uport.threshold.value', 'max'],
    ['flowbridge.total.bps;direction=in', 'average'], ['flowbridge.total.bytes;direction=in', 'sum'], ['flowbridge.sinks.queue;sink=graphite', 'max'],
  ];
  t.same(await c.waitFor(want.map(([m]) => [m, s.start]), 15_000), []);
  for (const [m, agg] of want) {
    const info = whisperInfo(c.file(m))!;
    t.equal(info.aggregation, agg, `${m}: ${agg}`);
    t.equal(info.xFilesFactor, 0);
    t.same(info.archives, [{ secondsPerPoint: 10, points: 8640 }, { secondsPerPoint: 60, points: 20160 }, { secondsPerPoint: 3600, points: 17520 }]);
  }
});

t.test('stop() with carbon unreachable returns within its timeout and counts every line as dropped', async (t) => {
  const metrics = new Metrics();
  const sink = new GraphiteSink({ port: await freeTcpPort(), minRetryDelayMs: 50, maxRetryDelayMs: 100, stopTimeoutMs: 1000 }, { metrics });
  const t0 = Date.now();
  for (const s of fixture.slice(20, 23)) sink.write(s);
  t.ok(Date.now() - t0 < 200, `write() does not wait for carbon (${Date.now() - t0} ms for 3 intervals)`);
  await sleep(300);
  const produced = sink.queued;
  const t1 = Date.now();
  await sink.stop();
  t.ok(Date.now() - t1 < 1500, `stopped in ${Date.now() - t1} ms`);
  const c = (name: string) => metrics.total(name, { sink: 'graphite' });
  t.ok(c('sink_retries_total') > 0, 'connects retried');
  t.equal(c('sink_lines_total'), 0);
  t.equal(c('sink_dropped_total'), produced, 'every queued line counted as dropped');
  t.equal(sink.queued, 0);
});

t.test('instance: a path node right after the prefix (a tag when tagged); two instances never share a path', async (t) => {
  const cfg = loadConfig({ argv: [], env: { FLOWBRIDGE_INSTANCE: 'eu1' }, overrides: { graphite: { enabled: true, address: `127.0.0.1:${carbon.linePort}` } } });
  const s = at(fixture[5]!, recent - 30);
  const lines = (opts: Partial<GraphiteSinkOptions>) => points(new GraphiteSink(opts, { metrics: new Metrics() }).format(s)).map(([m]) => m);
  const plain = lines({ instance: 'eu1' });
  t.ok(plain.every((m) => m.startsWith('flowbridge.eu1.')), 'every path starts with prefix.instance');
  t.same(plain, lines({}).map((m) => m.replace(/^flowbridge\./, 'flowbridge.eu1.')), 'and is otherwise the path without instance');
  t.same(lines({ instance: 'eu1', prefix: 'site1.flows' }).slice(0, 1), ['site1.flows.eu1.total.in.bps']);
  t.same(lines({ instance: 'eu1', prefix: '' }).slice(0, 1), ['eu1.total.in.bps']);
  const tagged = lines({ instance: 'eu1', tagged: true });
  t.same(tagged.slice(0, 1), ['flowbridge.total.bps;direction=in;instance=eu1'], 'tagged: the name keeps its nodes, instance is a tag');
  t.ok(tagged.filter((m) => m.startsWith('flowbridge.hosts.')).every((m) => /;direction=\w+;host=[^;]+;instance=eu1(;network=|$)/.test(m)), 'tags sorted by key');
  const alert = { kind: 'threshold' as const, name: 'uport', keys: {}, value: 5, metric: 'frames' as const, threshold: 1, start: s.start, end: s.end, time: s.start * 1000 };
  t.match(new GraphiteSink({ instance: 'eu1' }, { metrics: new Metrics() }).formatAlert(alert).text, /^flowbridge\.eu1\.alerts\.uport\.threshold\.value 5 /);
  t.match(new GraphiteSink({ instance: 'eu1', tagged: true }, { metrics: new Metrics() }).formatAlert(alert).text,
    /^flowbridge\.alerts\.value;alert=uport;instance=eu1;kind=threshold;metric=frames 5 /);
  // two instances with the same traffic into one carbon: each keeps its own series
  for (const name of ['eu1', 'us2']) {
    const sink = new GraphiteSink(graphiteOptions(cfg.graphite, 5000, name), { metrics: new Metrics() });
    sink.write(s);
    await sink.stop();
  }
  t.equal(graphiteOptions(cfg.graphite, 5000, cfg.instance).instance, 'eu1', 'graphiteOptions passes the instance key on');
  const want: [string, number][] = ['eu1', 'us2'].map((i) => [`flowbridge.${i}.total.in.bytes`, s.start]);
  t.same(await carbon.waitFor(want, 15_000), []);
  t.same(want.map(([m, ts]) => carbon.value(m, ts)), [s.directions.in.bytes, s.directions.in.bytes], 'both stored, neither overwritten');
});
