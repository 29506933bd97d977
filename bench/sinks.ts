// Time to write one interval of 10,000 series to real servers started here on loopback: influxd 1.6
// (v1 /write, and the client's v2 path through the test shim) and carbon-cache (10,000 metric paths).
// Also the InfluxDB line formatting: cached series keys next to building a client Point per row.
import { Point } from '@influxdata/influxdb-client';
import { GraphiteSink } from '../src/export/graphite.js';
import { InfluxSink, type InfluxSinkOptions } from '../src/export/influx.js';
import { SeriesWalker } from '../src/export/series.js';
import { Metrics } from '../src/lib/counters.js';
import { carbonMissing, startCarbon } from '../test/helpers/carbon.js';
import { influxdMissing, startInfluxd, startV2Shim } from '../test/helpers/influxd.js';
import { hostsSummary } from './gen.js';
import { rate, type BenchRow } from './report.js';

const teardowns: (() => unknown)[] = [];
const t = { teardown: (f: () => unknown) => void teardowns.push(f) };

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return false;
}

function formatRows(): BenchRow[] {
  const s = hostsSummary(1793491200, 10_000);
  const walker = new SeriesWalker();
  const sink = new InfluxSink({}, { metrics: new Metrics() });
  const cached = rate(() => sink.format(s).length, 1000);
  const settings = { convertTime: (v: unknown) => String(v) };
  const viaPoint = rate(() => {
    let n = 0;
    walker.walk(s, (m, _k, tags, fields, values) => {
      const p = new Point(m.name);
      for (let i = 0; i < m.tags.length; i++) if (tags[i]) p.tag(m.tags[i]!, tags[i]!);
      for (let i = 0; i < fields.length; i++) (fields[i]!.int ? p.intField(fields[i]!.name, values[i]) : p.floatField(fields[i]!.name, values[i]));
      p.timestamp(s.start).toLineProtocol(settings);
      n++;
    });
    return n;
  }, 1000);
  void sink.stop();
  const graphite = new GraphiteSink({}, { metrics: new Metrics() });
  const g = rate(() => graphite.format(s).reduce((a, c) => a + c.lines, 0), 1000);
  return [
    { name: 'influx lines, client Point per row', value: viaPoint, unit: 'lines/s' },
    { name: 'influx lines, cached series keys', value: cached, unit: 'lines/s', baseline: 'influx lines, client Point per row' },
    { name: 'graphite lines, cached paths', value: g, unit: 'lines/s' },
  ];
}

async function influxRows(): Promise<BenchRow[]> {
  if (influxdMissing()) return [];
  const influxd = await startInfluxd(t, { databases: ['bench_v1', 'bench_v2'] });
  const shim = await startV2Shim(t, influxd);
  const rows: BenchRow[] = [];
  const now = Math.floor(Date.now() / 10_000) * 10;
  for (const [label, opts] of [
    ['influx v1 /write', { api: 'v1', url: influxd.url, bucket: 'bench_v1' }],
    ['influx v2 via shim', { api: 'v2', url: shim.url, bucket: 'bench_v2/autogen' }],
  ] as [string, Partial<InfluxSinkOptions>][]) {
    const metrics = new Metrics();
    const sink = new InfluxSink(opts, { metrics });
    const db = opts.bucket!.split('/')[0]!;
    for (const [i, what] of [[0, 'new series'], [1, 'existing series']] as const) {
      const s = hostsSummary(now - 60 + i * 10, 10_000);
      const lines0 = metrics.total('sink_lines_total');
      const t0 = process.hrtime.bigint();
      sink.write(s);
      await until(() => sink.queued === 0, 30_000);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const n = metrics.total('sink_lines_total') - lines0;
      const stored = await influxd.query(`SELECT COUNT(bytes) FROM hosts WHERE time = ${s.start}s`, db);
      rows.push({ name: `${label}, one interval, ${what}`, value: ms, unit: 'ms',
        notes: `${n} lines, ${(stored[0]?.values[0]?.[1] as number | undefined) ?? 0} host points stored, gzip` });
    }
    await sink.stop();
  }
  await influxd.stop();
  return rows;
}

async function graphiteRows(): Promise<BenchRow[]> {
  if (carbonMissing()) return [];
  const carbon = await startCarbon(t);
  const metrics = new Metrics();
  const sink = new GraphiteSink({ port: carbon.linePort, prefix: 'bench' }, { metrics });
  const rows: BenchRow[] = [];
  const now = Math.floor(Date.now() / 10_000) * 10;
  // 2,000 host rows × 5 fields = 10,000 metric paths (+ 26 totals and self-metrics)
  for (const [i, what] of [[0, 'new series (whisper files created)'], [1, 'existing series']] as const) {
    const s = hostsSummary(now - 60 + i * 10, 2000);
    const probe = sink.format(s).flatMap((c) => c.text.split('\n').filter(Boolean).map((l) => l.split(' ')[0]!));
    const t0 = process.hrtime.bigint();
    sink.write(s);
    await until(() => sink.queued === 0, 30_000);
    const sent = Number(process.hrtime.bigint() - t0) / 1e6;
    const missing = await carbon.waitFor(probe.map((m) => [m, s.start]), 60_000);
    const readable = Number(process.hrtime.bigint() - t0) / 1e6;
    rows.push({ name: `graphite tcp, one interval, ${what}: sent`, value: sent, unit: 'ms', notes: `${probe.length} paths` });
    rows.push({ name: `graphite tcp, one interval, ${what}: readable in whisper`, value: readable, unit: 'ms',
      notes: `${probe.length - missing.length}/${probe.length} readable, storage on tmpfs when available` });
  }
  await sink.stop();
  await carbon.stop();
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  try {
    return [...formatRows(), ...await influxRows(), ...await graphiteRows()];
  } finally {
    for (const f of teardowns.reverse()) await f();
  }
}
