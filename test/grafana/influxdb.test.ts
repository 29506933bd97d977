// Every InfluxQL query of the InfluxDB dashboard (panels, variables, the alert annotation) run the way
// Grafana sends it ($timeFilter, $__interval, $__range_s and the variables substituted) against a real
// influxd 1.6 holding the pmacctd IPFIX fixture, then two minutes later an sFlow capture with interfaces,
// AS numbers and interface counters (sflow-capture.ts), written by the real InfluxSink with the stack's
// configuration (deploy/flowbridge.yaml) plus views by interface, remote host and AS pair and names for
// three of the four interfaces. The dashboard is the generator's for that configuration (the bundled
// one is the default configuration's, a subset: test/dashboards.test.ts). Each query returns data, with
// "All", with each variable set to one of its values, and with two values; the tables show the IPFIX
// capture's truth, the view and interface panels the sFlow capture's. The same summaries written again
// by two collector instances (a and b, docs/scaling.md) into a second database show twice the capture
// with Instance at "All", and once with one instance.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAlerting } from '../../src/alert/alerting.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import type { AlertEvent } from '../../src/alert/event.js';
import { loadConfig } from '../../src/config/load.js';
import { createSinks } from '../../src/config/create-sinks.js';
import { FanOut } from '../../src/export/sink.js';
import { InfluxSink } from '../../src/export/influx.js';
import { replay } from '../../src/ingest/replay.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { influxdMissing, startInfluxd, type SeriesResult } from '../helpers/influxd.js';
import {
  generatedDashboard, panelQueries, queryVariables, ROOT, substitute, variableQuery, type Query, type Substitution, type VarValue,
} from './dashboards.js';
import { truth } from '../helpers/truth.js';
import { writePcap } from '../helpers/pcap-write.js';
import { AGENT, INTERFACES, sflowCapture } from './sflow-capture.js';

const missing = influxdMissing();
if (missing) {
  t.plan(0, missing);
  process.exit(0);
}

const DB = 'flowbridge', MULTI = 'multi';
const influxd = await startInfluxd(t, { databases: [DB, MULTI] });
/** The views: the default two and one by AS pair, without direction (a name InfluxQL must quote). */
const VIEWS = [
  { name: 'interfaces', keys: ['exporter', 'interface'] },
  { name: 'remotehosts', keys: ['remotehost'] },
  { name: 'as-pairs', keys: ['srcas', 'dstas'], per: 'none' },
];
/** configured names of three of the sFlow agent's four interfaces (`interfaces`): ifIndex 4 has none */
const IF_NAMES: Record<string, string> = { 1: 'uplink0', 2: 'lan-a', 3: 'xe-0/0/3' };

// the stack's configuration, writing to this influxd through the v1 endpoint (Debian's 1.6 has no v2)
const cfg = loadConfig({ argv: [], env: {}, file: `${ROOT}deploy/flowbridge.yaml`, overrides: {
  influx: { url: influxd.url, api: 'v1', bucket: DB, token: '' }, graphite: { enabled: false }, state: { file: '' },
  views: VIEWS, interfaces: { [AGENT]: IF_NAMES },
} });
const metrics = new Metrics();
const summaries: IntervalSummary[] = [];
const alerts: AlertEvent[] = [];
// live, an alert is raised when its interval closes: give it that time instead of the replay's wall clock
const fanout = new FanOut(createSinks(cfg, { metrics, log: silentLogger }), metrics, silentLogger);
const alerting = createAlerting(cfg, { metrics, log: silentLogger, groupNames: Object.keys(cfg.networks), intervalMs: cfg.interval,
  sinks: { writeAlert: (a) => { alerts.push({ ...a, time: a.end * 1000 }); fanout.writeAlert(alerts.at(-1)!); } } });
await replay([`${ROOT}test/fixtures/pmacctd-ipfix.pcap`], cfg, {
  fanout, log: silentLogger, metrics, observers: [alerting.observer],
  onSummary: (s) => summaries.push(s), progress: false,
});
// the sFlow capture two minutes after the IPFIX one, through sinks of its own (replay stops its fan-out)
const sflowT0 = (Math.floor(summaries[summaries.length - 1]!.end / 10) * 10 + 120) * 1000;
const { packets, expected } = sflowCapture(sflowT0);
const dir = mkdtempSync(join(tmpdir(), 'flowbridge-grafana-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sflowMetrics = new Metrics();
const sflowSummaries: IntervalSummary[] = [];
await replay([writePcap(join(dir, 'sflow.pcap'), packets)], cfg, {
  fanout: new FanOut(createSinks(cfg, { metrics: sflowMetrics, log: silentLogger }), sflowMetrics, silentLogger), log: silentLogger,
  metrics: sflowMetrics, onSummary: (s) => sflowSummaries.push(s), progress: false,
});

const dash = generatedDashboard('influxdb', cfg);
/** A time range, ms: the IPFIX capture's, the sFlow capture's, both. */
interface Range { from: number; to: number }
const IPFIX: Range = { from: summaries[0]!.start * 1000, to: summaries[summaries.length - 1]!.end * 1000 + 60_000 };
const SFLOW: Range = { from: sflowSummaries[0]!.start * 1000, to: sflowSummaries[sflowSummaries.length - 1]!.end * 1000 + 60_000 };
const WHOLE: Range = { from: IPFIX.from, to: SFLOW.to };
const { from, to } = IPFIX;
const defs = new Map(dash.templating.list.map((v) => [v.name, v]));
const sub = (vars: Record<string, VarValue>, interval = 20, range = WHOLE): Substitution => ({
  vars: { top: '10', ...vars }, defs, format: 'regex', allValues: {},
  builtins: { timeFilter: `time >= ${range.from}ms and time <= ${range.to}ms`, __interval: `${interval}s`, __interval_ms: String(interval * 1000),
    __range_s: String((range.to - range.from) / 1000) },
});
const ALL: Record<string, VarValue> = { instance: { all: true }, direction: { all: true }, network: { all: true }, host: { all: true }, exporter: { all: true } };
const queries: Query[] = panelQueries(dash, 'query');

async function run(q: string, db = DB): Promise<SeriesResult[]> {
  return influxd.query(q, db);
}
const rows = (r: SeriesResult[]) => r.reduce((n, s) => n + s.values.length, 0);

// Grafana runs the hidden variables (the $top hosts and ports) with the same values first, then sends
// their "All" as the alternation of every value they returned.
const hidden = queryVariables(dash).filter((v) => v.hide === 2);
async function expand(text: string, vars: Record<string, VarValue>, interval = 20, db = DB, range = WHOLE): Promise<string> {
  const s = sub(vars, interval, range);
  for (const v of hidden.filter((h) => text.includes(`$${h.name}`))) {
    s.allValues[v.name] = (await run(substitute(variableQuery(v).text, s), db)).flatMap((r) => r.values.map((x) => String(x[1])));
    s.vars[v.name] = { all: true };
  }
  return substitute(text, s);
}

t.test('the fixture is in influxd, alerts included; then the sFlow capture with views, names and interface counters', async (t) => {
  t.equal(summaries.length, 30);
  t.equal(metrics.total('sink_errors_total', { sink: 'influx' }), 0);
  t.ok(metrics.total('alerts_total') > 0, `${metrics.total('alerts_total')} alerts raised by deploy/flowbridge.yaml's definition`);
  t.equal(sflowSummaries.length, 12, 'two minutes of sFlow');
  t.equal(sflowMetrics.total('sink_errors_total', { sink: 'influx' }), 0);
  t.ok(SFLOW.from > IPFIX.to, 'after the IPFIX capture\'s range');
  t.same(Object.keys(sflowSummaries[1]!.views ?? {}), VIEWS.map((v) => v.name));
  t.same(sflowSummaries[1]!.interfaces?.map((r) => [r.ifIndex, r.ifName]), [[1, 'uplink0'], [2, 'lan-a'], [3, 'xe-0/0/3'], [4, undefined]],
    'interface counters, named as configured');
  t.same((await run('SHOW TAG VALUES FROM view_interfaces WITH KEY = ifname')).flatMap((r) => r.values.map((v) => v[1])).sort(),
    Object.values(IF_NAMES).sort(), 'ifname tags in influxd');
});

const values: Record<string, string[]> = {};
t.test('every variable query returns values', async (t) => {
  for (const v of queryVariables(dash)) {
    const r = await run(substitute(variableQuery(v).text, sub(ALL)));
    values[v.name] = r.flatMap((s) => s.values.map((x) => String(x[1])));
    if (v.name === 'instance') continue; // none: one collector, no instance key
    t.ok(values[v.name]!.length > 0, `${v.name}: ${values[v.name]!.slice(0, 6).join(', ')}${values[v.name]!.length > 6 ? ', …' : ''}`);
  }
  t.same(values.direction!.sort(), ['external', 'in', 'internal', 'out']);
  t.same(values.network!.sort(), ['lan', 'servers'], 'the groups of deploy/flowbridge.yaml');
  t.same(values.host!.sort(), Object.keys(truth.by_local_host).sort(), 'every local host of the capture, without "other"');
  t.same(values.exporter, ['127.0.0.1']);
  t.same(values.instance, [], 'no instance tag from a single collector');
});

t.test('every panel and annotation query returns data with every variable at "All"', async (t) => {
  t.ok(queries.length >= 20, `${queries.length} queries`);
  for (const q of queries) {
    for (const interval of [10, 60]) {
      const text = await expand(q.text, ALL, interval);
      const r = await run(text);
      t.ok(rows(r) > 0, `${q.where} ($__interval ${interval}s): ${r.length} series, ${rows(r)} rows`, { query: text });
    }
  }
});

t.test('each variable set to one of its values, and to two of them (regex alternation)', async (t) => {
  for (const name of ['direction', 'network', 'host', 'exporter']) {
    const using = queries.filter((q) => q.text.includes(`$${name}`));
    t.ok(using.length > 0, `${name}: used by ${using.length} queries`);
    // a value with data in every query that uses the variable (a host that only receives has no "out" rows)
    let chosen: string | undefined;
    for (const value of values[name]!.slice(0, 25)) {
      const counts = await Promise.all(using.map(async (q) => rows(await run(await expand(q.text, { ...ALL, [name]: value })))));
      if (counts.every((n) => n > 0)) {
        chosen = value;
        break;
      }
    }
    t.ok(chosen !== undefined, `${name} = ${chosen}: every query returns data`);
    if (values[name]!.length > 1) {
      const two = values[name]!.slice(0, 2);
      const counts = await Promise.all(using.map(async (q) => rows(await run(await expand(q.text, { ...ALL, [name]: two })))));
      t.ok(counts.some((n) => n > 0), `${name} = (${two.join('|')}): data`);
    }
  }
});

t.test('the panels show the capture: bytes per direction, top hosts, networks', async (t) => {
  const panel = (title: string) => queries.find((q) => q.where.startsWith(`panel "${title}"`))!.text;
  const perDir = await run(substitute(panel('Bytes over the range'), sub(ALL, 20, IPFIX)));
  t.same(Object.fromEntries(perDir.map((s) => [s.tags!.direction, s.values[0]![1]])),
    Object.fromEntries(Object.entries(truth.by_direction).map(([d, [b]]) => [d, b])), 'Bytes over the range = the truth per direction');
  const byIn = Object.entries(truth.by_local_host).sort((a, b) => b[1][0] - a[1][0]);
  const top = await run(substitute(panel('Top receivers (in)'), sub(ALL, 20, IPFIX)));
  const cols = top[0]!.columns;
  const table = top[0]!.values.map((v) => Object.fromEntries(cols.map((c, i) => [c, v[i]])));
  t.equal(table.length, 10, 'top 10');
  t.same(table.map((r) => [r.host, r.bytes]), byIn.slice(0, 10).map(([h, v]) => [h, v[0]]), 'the ten largest receivers with their bytes');
  t.equal(table[0]!.network, 'lan');
  t.equal(table[0]!.bps, (byIn[0]![1][0] * 8) / ((to - from) / 1000), 'bps = bytes × 8 / range');
  const nets = await run(substitute(panel('Networks over the range'), sub(ALL, 20, IPFIX)));
  const servers = nets.filter((s) => s.tags!.network === 'servers').map((s) => [s.tags!.direction, s.values[0]![1]]);
  const want = (dir: 0 | 2) => Object.entries(truth.by_local_host).filter(([h]) => h.startsWith('10.1.1.')).reduce((a, [, v]) => a + v[dir], 0);
  t.same(Object.fromEntries(servers), { in: want(0), out: want(2) }, 'group "servers" (10.1.1.0/24): Σ of its hosts');
});

t.test('the receivers, senders and ports time series draw the $top largest only', async (t) => {
  const panel = (title: string) => queries.find((q) => q.where.startsWith(`panel "${title}"`))!.text;
  const largest = (i: 0 | 2, n: number) => Object.entries(truth.by_local_host).filter(([, v]) => v[i] > 0)
    .sort((a, b) => b[1][i] - a[1][i]).slice(0, n).map(([h]) => h).sort();
  t.ok(Object.keys(truth.by_local_host).length > 3, 'more hosts than the top shown');
  for (const [title, i] of [['Receivers (in)', 0], ['Senders (out)', 2]] as const) {
    for (const top of ['3', '10']) {
      const r = await run(await expand(panel(title), { ...ALL, top }, 20, DB, IPFIX));
      t.same(r.map((s) => s.tags!.host).sort(), largest(i, Number(top)), `${title}, top ${top}: the largest hosts by bytes`);
    }
  }
  const byPort = (await run(substitute('SELECT sum(bytes) FROM ports WHERE $timeFilter GROUP BY port', sub(ALL, 20, IPFIX))))
    .map((s) => [s.tags!.port!, s.values[0]![1] as number] as const).sort((a, b) => b[1] - a[1]);
  t.ok(byPort.length > 3, `${byPort.length} ports in the capture`);
  const ports = await run(await expand(panel('Ports'), { ...ALL, top: '3' }, 20, DB, IPFIX));
  t.same([...new Set(ports.map((s) => s.tags!.port))].sort(), byPort.slice(0, 3).map(([p]) => p).sort(), 'Ports, top 3: the largest ports by bytes');
});

t.test('the view and interface panels show the sFlow capture: the $top largest, named, with its bytes', async (t) => {
  const panel = (title: string) => queries.find((q) => q.where.startsWith(`panel "${title}"`))!.text;
  // one 10 s bucket per interval: a rate × 10 / 8 is the interval's bytes (octets)
  const total = (r: SeriesResult[], col = 1) => Math.round(r.reduce((n, x) => n + x.values.reduce((m, v) => m + ((v[col] as number | null) ?? 0), 0), 0) * 10 / 8);
  const draw = async (title: string, top: string) => run(await expand(panel(title), { ...ALL, top }, 10, DB, SFLOW));
  const largest = (o: Record<string, [number, number]>, i: 0 | 1, n: number) => Object.entries(o).sort((a, b) => b[1][i] - a[1][i]).slice(0, n);

  for (const [i, d] of [[0, 'received (in)'], [1, 'sent (out)']] as const) {
    const top2 = largest(expected.remotehosts, i, 2);
    const r = await draw(`remotehosts: bits per second ${d}`, '2');
    t.same(r.map((x) => x.tags!.remotehost).sort(), top2.map(([h]) => h).sort(), `remotehosts ${d}, top 2: the two largest remote hosts`);
    t.equal(total(r), top2.reduce((n, [, v]) => n + v[i], 0), `remotehosts ${d}: their bytes`);
    const ifs = largest(expected.interfaces, i, 2);
    const q = await draw(`interfaces: bits per second ${d}`, '2');
    t.same(q.map((x) => `${x.tags!.exporter} ${x.tags!.interface}`).sort(), ifs.map(([k]) => k).sort(), `interfaces ${d}, top 2: the two largest`);
    t.same(q.map((x) => x.tags!.ifname).sort(), ifs.map(([k]) => IF_NAMES[k.split(' ')[1]!] ?? '').sort(), `interfaces ${d}: grouped by their names`);
    t.equal(total(q), ifs.reduce((n, [, v]) => n + v[i], 0), `interfaces ${d}: their bytes`);
  }
  // ifIndex 4 has no name: its series has an empty ifname, and still a name from exporter and ifIndex
  const all = await draw('interfaces: bits per second sent (out)', '10');
  t.same(all.map((x) => [x.tags!.interface, x.tags!.ifname]).sort(), [['1', 'uplink0'], ['2', 'lan-a'], ['3', 'xe-0/0/3'], ['4', '']]);

  const table = async (title: string) => {
    const r = await run(await expand(panel(title), ALL, 10, DB, SFLOW));
    return r.flatMap((x) => x.values.map((v) => Object.fromEntries(x.columns.map((c, i) => [c, v[i]]))));
  };
  const ifRows = await table('interfaces: top tuples over the range');
  t.equal(ifRows.length, 8, 'four interfaces, in and out');
  t.same(ifRows.map((r) => [`${r.exporter} ${r.interface}`, r.direction, r.bytes]).sort(),
    Object.entries(expected.interfaces).flatMap(([k, [a, b]]) => [[k, 'in', a], [k, 'out', b]]).sort(), 'interfaces table: bytes per interface and direction');
  t.same([...new Set(ifRows.map((r) => r.ifname ?? ''))].sort(), ['', ...Object.values(IF_NAMES)].sort(), 'with the names');

  const pairs = await draw('as-pairs: bits per second', '2');
  const top2 = Object.entries(expected.asPairs).sort((a, b) => b[1] - a[1]).slice(0, 2);
  t.same(pairs.map((x) => `${x.tags!.srcas} ${x.tags!.dstas}`).sort(), top2.map(([k]) => k).sort(), 'as-pairs (per none), top 2');
  t.equal(total(pairs), top2.reduce((n, [, b]) => n + b, 0));
  const bySrc = await run(await expand(panel('as-pairs: bytes by source AS over the range'), ALL, 10, DB, SFLOW));
  t.same(Object.fromEntries(bySrc.map((x) => [x.tags!.srcas, x.values[0]![1]])),
    Object.fromEntries(Object.entries(expected.asPairs).map(([k, b]) => [k.split(' ')[0], b])), 'bytes by source AS');

  // sFlow interface counters: ranked by octets in and out together
  const byOctets = Object.entries(expected.counters).sort((a, b) => b[1][0] + b[1][1] - a[1][0] - a[1][1]);
  for (const [i, d] of [[0, 'received (in)'], [1, 'sent (out)']] as const) {
    const r = await draw(`Interface counters: bits per second ${d}`, '2');
    t.same(r.map((x) => x.tags!.ifIndex).sort(), byOctets.slice(0, 2).map(([k]) => k).sort(), `counters ${d}, top 2: the two busiest interfaces`);
    t.same(r.map((x) => x.tags!.ifname).sort(), byOctets.slice(0, 2).map(([k]) => IF_NAMES[k]).sort(), 'named');
    t.equal(total(r), byOctets.slice(0, 2).reduce((n, [, v]) => n + v[i], 0), `counters ${d}: the counters' rise`);
  }
  const util = await draw('Interface counters: utilization', '10');
  for (const [ifIndex, { speed }] of Object.entries(INTERFACES)) {
    for (const [i, d] of [[0, 'in'], [1, 'out']] as const) {
      const s = util.filter((x) => x.tags!.ifIndex === ifIndex && x.tags!.direction === d);
      const values = s.flatMap((x) => x.values.map((v) => v[1] as number | null)).filter((v) => v !== null) as number[];
      if (speed === 0) {
        t.same(s, [], `ifIndex ${ifIndex} ${d}: no speed, no utilization`);
        continue;
      }
      t.ok(values.length >= 10, `ifIndex ${ifIndex} ${d}: ${values.length} buckets`);
      t.equal(Math.round(values.reduce((n, v) => n + v, 0) / 100 * speed * 10 / 8), expected.counters[Number(ifIndex)]![i],
        `ifIndex ${ifIndex} ${d}: utilization × ifSpeed = the octets`);
    }
  }
  const errors = await draw('Interface counters: errors and discards', '10');
  const col = (ifIndex: string, d: string, c: string) => errors.filter((x) => x.tags!.ifIndex === ifIndex && x.tags!.direction === d)
    .reduce((n, x) => n + x.values.reduce((m, v) => m + (v[x.columns.indexOf(c)] as number), 0), 0);
  t.same([col('1', 'in', 'errors'), col('1', 'in', 'discards'), col('1', 'out', 'errors')], [12, 23, 6], 'errors and discards: the counters\' rise');
  const counters = await table('Interface counters over the range');
  t.same(counters.map((r) => [r.ifIndex, r.direction, r.octets, r.ifSpeed, r.ifname ?? '']).sort(),
    Object.entries(expected.counters).flatMap(([k, [a, b]]) => [[k, 'in', a, INTERFACES[Number(k)]!.speed, IF_NAMES[k] ?? ''],
      [k, 'out', b, INTERFACES[Number(k)]!.speed, IF_NAMES[k] ?? '']]).sort(), 'counters table: octets, speed and name per interface and direction');
});

t.test('two instances in one database: every panel sums them; one instance alone shows the capture once', async (t) => {
  for (const instance of ['a', 'b']) {
    const sink = new InfluxSink({ api: 'v1', url: influxd.url, bucket: MULTI, instance }, { metrics: new Metrics() });
    for (const s of [...summaries, ...sflowSummaries]) sink.write(s);
    for (const a of alerts) sink.writeAlert(a);
    await sink.stop();
  }
  const vars: Record<string, string[]> = {};
  for (const v of queryVariables(dash)) {
    vars[v.name] = (await run(substitute(variableQuery(v).text, sub(ALL)), MULTI)).flatMap((s) => s.values.map((x) => String(x[1])));
  }
  t.same(vars.instance, ['a', 'b'], 'the Instance variable lists both collectors');
  for (const name of ['direction', 'network', 'host', 'exporter']) t.same(vars[name], values[name], `${name}: the same values as one collector`);
  t.same((await run(substitute(variableQuery(queryVariables(dash).find((v) => v.name === 'host')!).text, sub({ ...ALL, instance: 'a' })), MULTI))
    .flatMap((s) => s.values.map((x) => String(x[1]))), values.host, 'host, instance = a: the hosts that collector saw');
  for (const q of queries) t.ok(rows(await run(await expand(q.text, ALL, 20, MULTI), MULTI)) > 0, `${q.where}: data`);
  const panel = (title: string) => queries.find((q) => q.where.startsWith(`panel "${title}"`))!.text;
  const bytes = async (v: Record<string, VarValue>) => Object.fromEntries((await run(substitute(panel('Bytes over the range'), sub(v, 20, IPFIX)), MULTI))
    .map((s) => [s.tags!.direction, s.values[0]![1]]));
  const once = Object.fromEntries(Object.entries(truth.by_direction).map(([d, [b]]) => [d, b]));
  t.same(await bytes(ALL), Object.fromEntries(Object.entries(once).map(([d, b]) => [d, 2 * b])), 'Bytes over the range, All = 2 × the truth');
  t.same(await bytes({ ...ALL, instance: 'a' }), once, 'instance a = the truth');
  // rates: per bucket, the sum of each instance's mean, never the mean over instances
  for (const title of ['Traffic by direction', 'Packets per second', 'Active flows per interval']) {
    for (const interval of [10, 60]) {
      const one = await run(substitute(panel(title), sub(ALL, interval)));
      const two = await run(substitute(panel(title), sub(ALL, interval)), MULTI);
      const doubled = one.map((s) => ({ ...s, values: s.values.map(([ts, v]) => [ts, v === null ? null : 2 * (v as number)]) }));
      t.same(two.map((s) => s.values), doubled.map((s) => s.values), `${title} ($__interval ${interval}s): 2 × one collector`);
    }
  }
});
