// Every InfluxQL query of the InfluxDB dashboard (panels, variables, the alert annotation) run the way
// Grafana sends it ($timeFilter, $__interval, $__range_s and the variables substituted) against a real
// influxd 1.6 holding the pmacctd IPFIX fixture, written by the real InfluxSink with the stack's
// configuration (deploy/flowbridge.yaml): each returns data, with "All", with each variable set to one
// of its values, and with two values; and the tables show the capture's truth. The same summaries
// written again by two collector instances (a and b, docs/scaling.md) into a second database show twice
// the capture with Instance at "All", and once with one instance.
import t from 'tap';
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
  loadDashboard, panelQueries, queryVariables, ROOT, substitute, variableQuery, type Query, type Substitution, type VarValue,
} from './dashboards.js';
import { truth } from '../helpers/truth.js';

const missing = influxdMissing();
if (missing) {
  t.plan(0, missing);
  process.exit(0);
}

const DB = 'flowbridge', MULTI = 'multi';
const influxd = await startInfluxd(t, { databases: [DB, MULTI] });

// the stack's configuration, writing to this influxd through the v1 endpoint (Debian's 1.6 has no v2)
const cfg = loadConfig({ argv: [], env: {}, file: `${ROOT}deploy/flowbridge.yaml`, overrides: {
  influx: { url: influxd.url, api: 'v1', bucket: DB, token: '' }, graphite: { enabled: false }, state: { file: '' },
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

const dash = loadDashboard('influxdb');
const from = summaries[0]!.start * 1000, to = summaries[summaries.length - 1]!.end * 1000 + 60_000;
const defs = new Map(dash.templating.list.map((v) => [v.name, v]));
const sub = (vars: Record<string, VarValue>, interval = 20): Substitution => ({
  vars: { top: '10', ...vars }, defs, format: 'regex', allValues: {},
  builtins: { timeFilter: `time >= ${from}ms and time <= ${to}ms`, __interval: `${interval}s`, __interval_ms: String(interval * 1000),
    __range_s: String((to - from) / 1000) },
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
async function expand(text: string, vars: Record<string, VarValue>, interval = 20, db = DB): Promise<string> {
  const s = sub(vars, interval);
  for (const v of hidden.filter((h) => text.includes(`$${h.name}`))) {
    s.allValues[v.name] = (await run(substitute(variableQuery(v).text, s), db)).flatMap((r) => r.values.map((x) => String(x[1])));
    s.vars[v.name] = { all: true };
  }
  return substitute(text, s);
}

t.test('the fixture is in influxd, alerts included', async (t) => {
  t.equal(summaries.length, 30);
  t.equal(metrics.total('sink_errors_total', { sink: 'influx' }), 0);
  t.ok(metrics.total('alerts_total') > 0, `${metrics.total('alerts_total')} alerts raised by deploy/flowbridge.yaml's definition`);
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
  const perDir = await run(substitute(panel('Bytes over the range'), sub(ALL)));
  t.same(Object.fromEntries(perDir.map((s) => [s.tags!.direction, s.values[0]![1]])),
    Object.fromEntries(Object.entries(truth.by_direction).map(([d, [b]]) => [d, b])), 'Bytes over the range = the truth per direction');
  const byIn = Object.entries(truth.by_local_host).sort((a, b) => b[1][0] - a[1][0]);
  const top = await run(substitute(panel('Top receivers (in)'), sub(ALL)));
  const cols = top[0]!.columns;
  const table = top[0]!.values.map((v) => Object.fromEntries(cols.map((c, i) => [c, v[i]])));
  t.equal(table.length, 10, 'top 10');
  t.same(table.map((r) => [r.host, r.bytes]), byIn.slice(0, 10).map(([h, v]) => [h, v[0]]), 'the ten largest receivers with their bytes');
  t.equal(table[0]!.network, 'lan');
  t.equal(table[0]!.bps, (byIn[0]![1][0] * 8) / ((to - from) / 1000), 'bps = bytes × 8 / range');
  const nets = await run(substitute(panel('Networks over the range'), sub(ALL)));
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
      const r = await run(await expand(panel(title), { ...ALL, top }));
      t.same(r.map((s) => s.tags!.host).sort(), largest(i, Number(top)), `${title}, top ${top}: the largest hosts by bytes`);
    }
  }
  const byPort = (await run(substitute('SELECT sum(bytes) FROM ports WHERE $timeFilter GROUP BY port', sub(ALL))))
    .map((s) => [s.tags!.port!, s.values[0]![1] as number] as const).sort((a, b) => b[1] - a[1]);
  t.ok(byPort.length > 3, `${byPort.length} ports in the capture`);
  const ports = await run(await expand(panel('Ports'), { ...ALL, top: '3' }));
  t.same([...new Set(ports.map((s) => s.tags!.port))].sort(), byPort.slice(0, 3).map(([p]) => p).sort(), 'Ports, top 3: the largest ports by bytes');
});

t.test('two instances in one database: every panel sums them; one instance alone shows the capture once', async (t) => {
  for (const instance of ['a', 'b']) {
    const sink = new InfluxSink({ api: 'v1', url: influxd.url, bucket: MULTI, instance }, { metrics: new Metrics() });
    for (const s of summaries) sink.write(s);
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
  const bytes = async (v: Record<string, VarValue>) => Object.fromEntries((await run(substitute(panel('Bytes over the range'), sub(v)), MULTI))
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
