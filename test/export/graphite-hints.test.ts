// Issue 18, item 12: Graphite pitfalls the program must warn about. Old points (a replayed capture)
// land in carbon's coarse archives, where they overwrite each other: warn once per period, naming
// graphite.warnAge and --shift-to-now. A non-default graphite.prefix needs its own storage-schemas
// section: log it at start, and check with a real carbon (when installed) that it gives the first
// archive the collector's interval.
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { loadConfig } from '../../src/config/load.js';
import { GraphiteSink, type GraphiteSinkOptions } from '../../src/export/graphite.js';
import { storageSchemaSection } from '../../src/export/graphite-hints.js';
import { createSinks } from '../../src/config/create-sinks.js';
import { Metrics } from '../../src/lib/counters.js';
import { carbonMissing, startCarbon, whisperInfo } from '../helpers/carbon.js';
import { freeUdpPort } from '../helpers/ports.js';

function captureLog(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  return { log: pino({ level: 'info' }, dest), lines };
}

const z = { bytes: 0, packets: 0, flows: 0 };
const d = { bytes: 100, packets: 1, flows: 1, bps: 80, pps: 0.1 };
function summary(start: number): IntervalSummary {
  return {
    start, end: start + 10, interval: 10, directions: { in: d, out: d, internal: d, external: d }, hosts: [],
    hostsOther: { in: z, out: z }, ports: [], portsOther: { in: z, out: z, internal: z, external: z }, protocols: [], groups: [],
    exporters: [], stats: { records: 0, late: 0, hostOverflow: 0, portOverflow: 0, exporterOverflow: 0, collector: {} },
  };
}

const NOW = 1_800_000_000_000;
const udpPort = await freeUdpPort();

t.test('points older than graphite.warnAge: one warning per period naming the key and --shift-to-now', async (t) => {
  let now = NOW;
  const { log, lines } = captureLog();
  const opts: Partial<GraphiteSinkOptions> = { protocol: 'udp', host: '127.0.0.1', port: udpPort };
  const sink = new GraphiteSink({ ...opts, warnAgeMs: 86_400_000 }, { metrics: new Metrics(), log, now: () => now });
  const warned = () => lines.filter((l) => String(l.msg).startsWith('points older than graphite.warnAge'));
  sink.write(summary(NOW / 1000 - 3600)); // an hour old: fine
  t.equal(warned().length, 0, 'younger than warnAge: no warning');
  sink.write(summary(NOW / 1000 - 2 * 86_400));
  sink.write(summary(NOW / 1000 - 2 * 86_400 + 10));
  t.equal(warned().length, 1, 'one warning for a run of old intervals');
  t.match(warned()[0]!.msg, /older than graphite\.warnAge \(24h\): carbon files them in a coarser archive.*--shift-to-now.*raise graphite\.warnAge/);
  t.equal(warned()[0]!.ageSeconds, 2 * 86_400);
  now += 11 * 60_000;
  sink.write(summary(NOW / 1000 - 86_400 - 60));
  t.equal(warned().length, 2, 'again after the period');
  t.equal(warned()[1]!.intervals, 2, 'counting the old intervals since the last warning');
  await sink.stop();
  const { log: log0, lines: lines0 } = captureLog();
  const off = new GraphiteSink({ ...opts, warnAgeMs: 0 }, { metrics: new Metrics(), log: log0, now: () => now });
  off.write(summary(0));
  await off.stop();
  t.same(lines0.filter((l) => String(l.msg).includes('warnAge')), [], 'warnAge 0: never');
});

t.test('graphite.warnAge and the interval reach the sink from the configuration', async (t) => {
  const cfg = loadConfig({ argv: ['--graphite-warn-age', '1h', '--interval', '60'], env: {}, overrides: { graphite: { enabled: true, prefix: 'site1.flows', protocol: 'udp', address: `127.0.0.1:${udpPort}` } } });
  t.equal(loadConfig({ argv: [], env: {} }).graphite.warnAge, 86_400_000, 'default 24h');
  const { log, lines } = captureLog();
  const sinks = createSinks({ ...cfg, output: { format: 'none', path: '' } }, { metrics: new Metrics(), log });
  const g = sinks.find((s): s is GraphiteSink => s instanceof GraphiteSink)!;
  t.equal(g.opts.warnAgeMs, 3_600_000);
  const line = lines.find((l) => typeof l.storageSchemas === 'string');
  t.equal(line?.storageSchemas, '[site1_flows]\npattern = ^site1\\.flows\\.\nretentions = 1m:1d,1h:2y\n', 'first archive = the 60 s interval');
  for (const s of sinks) await s.stop();
});

t.test('a non-default prefix logs its storage-schemas section at start; the default does not', (t) => {
  const logged = (o: Partial<GraphiteSinkOptions>) => {
    const { log, lines } = captureLog();
    void new GraphiteSink({ protocol: 'udp', port: udpPort, ...o }, { metrics: new Metrics(), log }).stop();
    return lines.filter((l) => l.storageSchemas !== undefined);
  };
  t.same(logged({}), [], 'default prefix: carbon\'s example schema already matches');
  t.same(logged({ prefix: 'flowbridge', instance: 'eu1' }), [], 'an instance node after the default prefix matches too');
  const [l] = logged({ prefix: 'site1.flows' });
  t.match(l?.msg, /^graphite\.prefix "site1\.flows" is not the default: .*storage-schemas\.conf.*storage-aggregation\.conf with \^site1\\\.flows\\\. instead of \^flowbridge\\\.: \[site1_flows\] pattern = \^site1\\\.flows\\\. retentions = 10s:1d,1m:14d,1h:2y$/);
  t.equal(logged({ prefix: '', instance: 'eu1' })[0]?.storageSchemas, '[eu1]\npattern = ^eu1\\.\nretentions = 10s:1d,1m:14d,1h:2y\n');
  t.match(storageSchemaSection('', 10_000), /^\[flowbridge\]\npattern = \^\(total\|hosts\|ports\|.*\|alerts\|views\|interfaces\)\\\.\n/, 'no prefix: the measurement nodes');
  t.match(storageSchemaSection('x', 7_000), /retentions = 7s:1d\n$/, 'no coarser archive that is not a multiple of the interval');
  t.end();
});

const missing = carbonMissing();
t.test('carbon with the logged section stores the new prefix at the interval', { skip: missing ?? false }, async (t) => {
  const section = storageSchemaSection('site1.flows', 10_000);
  const c = await startCarbon(t, { schemas: `${section}\n[default]\npattern = .*\nretentions = 60s:1d\n` });
  const sink = new GraphiteSink({ port: c.linePort, prefix: 'site1.flows' }, { metrics: new Metrics() });
  const start = Math.floor(Date.now() / 10_000) * 10 - 60;
  sink.write(summary(start));
  await sink.stop();
  t.same(await c.waitFor([['site1.flows.total.in.bytes', start]], 15_000), []);
  t.same(whisperInfo(c.file('site1.flows.total.in.bytes'))?.archives,
    [{ secondsPerPoint: 10, points: 8640 }, { secondsPerPoint: 60, points: 20160 }, { secondsPerPoint: 3600, points: 17520 }]);
});
