// Every Graphite target of the Graphite dashboard (panels, variables, the alert annotation) run through
// graphite-web's render and find APIs as Grafana sends them (variables substituted as globs, each target
// wrapped in Grafana's aliasSub, POST), over what a real carbon-cache stored when the real GraphiteSink
// wrote the pmacctd IPFIX fixture, rebased to ten minutes ago so that it lies inside carbon's retention,
// then two minutes later an sFlow capture with interfaces, AS numbers and interface counters
// (sflow-capture.ts), with the stack's configuration (deploy/flowbridge.yaml) plus views by interface,
// remote host and AS pair. The dashboard is the generator's for that configuration (the bundled one is
// the default configuration's, a subset: test/dashboards.test.ts). Each target returns non-null data;
// the tables show the IPFIX capture's truth, the view and interface panels the sFlow capture's. The same
// summaries written again by two collector instances (prefix "multi", instances a and b: the
// several-collectors layout of docs/scaling.md) show twice the capture, or once per instance.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAlerting } from '../../src/alert/alerting.js';
import type { AlertEvent } from '../../src/alert/event.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { loadConfig } from '../../src/config/load.js';
import { GraphiteSink } from '../../src/export/graphite.js';
import { createSinks } from '../../src/config/create-sinks.js';
import { FanOut } from '../../src/export/sink.js';
import { replay } from '../../src/ingest/replay.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { carbonMissing, startCarbon } from '../helpers/carbon.js';
import { graphiteWebMissing, startGraphiteWeb, type RenderSeries } from '../helpers/graphite-web.js';
import {
  allPanels, generatedDashboard, queryVariables, ROOT, substitute, variableQuery, type Substitution, type Variable, type VarValue,
} from './dashboards.js';
import { truth } from '../helpers/truth.js';
import { writePcap } from '../helpers/pcap-write.js';
import { INTERFACES, sflowCapture } from './sflow-capture.js';

const missing = carbonMissing() ?? graphiteWebMissing();
if (missing) {
  t.plan(0, missing);
  process.exit(0);
}

const carbon = await startCarbon(t);
const web = startGraphiteWeb(t, { storageDir: join(carbon.dir, 'storage') });
web.catch(() => undefined); // awaited below; a failure there fails the test

/** The views: the default two and one by AS pair, without direction (a name with a dash). */
const VIEWS = [
  { name: 'interfaces', keys: ['exporter', 'interface'] },
  { name: 'remotehosts', keys: ['remotehost'] },
  { name: 'as-pairs', keys: ['srcas', 'dstas'], per: 'none' },
];
const cfg = loadConfig({ argv: [], env: {}, file: `${ROOT}deploy/flowbridge.yaml`, overrides: {
  influx: { enabled: false }, graphite: { address: `127.0.0.1:${carbon.linePort}` }, state: { file: '' }, views: VIEWS,
} });
const metrics = new Metrics();
const summaries: IntervalSummary[] = [];
const alerts: AlertEvent[] = [];
const fanout = new FanOut(createSinks(cfg, { metrics, log: silentLogger }), metrics, silentLogger);
const alerting = createAlerting(cfg, { metrics, log: silentLogger, groupNames: Object.keys(cfg.networks), intervalMs: cfg.interval,
  sinks: { writeAlert: (a) => {
    // live, an alert is raised when its interval closes: give it that time instead of the replay's wall clock
    const at = { ...a, time: a.end * 1000 };
    alerts.push(at);
    fanout.writeAlert(at);
  } } });
const tenMinutesAgo = Date.now() - 600_000;
await replay([`${ROOT}test/fixtures/pmacctd-ipfix.pcap`], cfg, {
  fanout, log: silentLogger, metrics, observers: [alerting.observer],
  onSummary: (s) => summaries.push(s), progress: false, shiftToNow: true, now: () => tenMinutesAgo,
});
// the sFlow capture two minutes after the IPFIX one (still in the past), through sinks of its own
const sflowT0 = (Math.floor(summaries[summaries.length - 1]!.end / 10) * 10 + 120) * 1000;
const { packets, expected: sflowExpected } = sflowCapture(sflowT0);
const dir = mkdtempSync(join(tmpdir(), 'flowbridge-grafana-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sflowMetrics = new Metrics();
const sflowSummaries: IntervalSummary[] = [];
await replay([writePcap(join(dir, 'sflow.pcap'), packets)], cfg, {
  fanout: new FanOut(createSinks(cfg, { metrics: sflowMetrics, log: silentLogger }), sflowMetrics, silentLogger), log: silentLogger,
  metrics: sflowMetrics, onSummary: (s) => sflowSummaries.push(s), progress: false,
});
const written = [...summaries, ...sflowSummaries];

// wait for whisper to hold every point written (graphite-web reads whisper only, carbon's cache is not asked)
const probe = new GraphiteSink({}, { metrics: new Metrics() });
const expected: [string, number][] = written.flatMap((s) => probe.format(s).flatMap((c) => c.text.split('\n').filter(Boolean)
  .map((l) => { const [m, , ts] = l.split(' '); return [m!, Number(ts)] as [string, number]; })));
for (const s of written) expected.push([`flowbridge.sinks.graphite.lines`, s.start]);
for (const a of alerts) expected.push([`flowbridge.alerts.${a.name}.${a.kind}.value`, Math.floor(a.time / 1000)]);
// two collectors, each with all of the capture: "multi.a.…" and "multi.b.…"
for (const instance of ['a', 'b']) {
  const sink = new GraphiteSink({ port: carbon.linePort, prefix: 'multi', instance }, { metrics: new Metrics() });
  for (const s of written) sink.write(s);
  for (const a of alerts) sink.writeAlert(a);
  await sink.stop();
  expected.push(...written.map((s) => [`multi.${instance}.total.in.bytes`, s.start] as [string, number]));
}
const notStored = await carbon.waitFor(expected, 30_000);
const gw = await web;

const dash = generatedDashboard('graphite', cfg);
/**
 * A dashboard range, epoch s: a capture's intervals, and a minute more on each side that Grafana asks
 * graphite-web for; `rangeS` is $__range_s, the range without them.
 */
interface Range { from: number; until: number; rangeS: number }
const rangeOf = (ss: IntervalSummary[]): Range => {
  const from = ss[0]!.start - 60, until = ss[ss.length - 1]!.end + 60;
  return { from, until, rangeS: until - from - 120 };
};
const IPFIX = rangeOf(summaries), SFLOW = rangeOf(sflowSummaries), WHOLE = rangeOf(written);
const { from, until } = WHOLE;
const defs = new Map(dash.templating.list.map((v) => [v.name, v]));
const values: Record<string, string[]> = {};
const sub = (vars: Record<string, VarValue>, range = WHOLE): Substitution => ({
  vars: { prefix: 'flowbridge', top: '10', instance: { all: true }, ...vars }, defs, format: 'glob', allValues: values,
  builtins: { __range_s: String(range.rangeS) },
});
const ALL: Record<string, VarValue> = { direction: { all: true }, network: { all: true }, host: { all: true }, exporter: { all: true } };

/** One panel's targets in one request, as Grafana's datasource sends them; series by refId. */
async function renderPanel(targets: { refId: string; target: string }[], vars: Record<string, VarValue>, maxDataPoints = 300,
  range = WHOLE): Promise<Map<string, RenderSeries[]>> {
  const sent = targets.map((x) => `aliasSub(${substitute(x.target, sub(vars, range))}, "(^.*$)", "\\1 ${x.refId}")`);
  const series = await gw.render(sent, { from: range.from, until: range.until, maxDataPoints });
  const out = new Map<string, RenderSeries[]>(targets.map((x) => [x.refId, []]));
  for (const s of series) out.get(s.target.slice(s.target.lastIndexOf(' ') + 1))?.push({ ...s, target: s.target.slice(0, s.target.lastIndexOf(' ')) });
  return out;
}
const nonNull = (ss: RenderSeries[]) => ss.reduce((n, s) => n + s.datapoints.filter(([v]) => v !== null).length, 0);
const panels = allPanels(dash).filter((p) => p.targets?.length).map((p) => ({
  title: p.title, targets: p.targets!.map((x) => ({ refId: String(x.refId), target: String(x.target) })),
}));
const annotation = dash.annotations.list.find((a) => a.name === 'flowbridge alerts')!.target as { target: string };
panels.push({ title: 'annotation: flowbridge alerts', targets: [{ refId: 'Anno', target: annotation.target }] });

t.test('carbon stored the fixture, alerts included, and the sFlow capture', async (t) => {
  t.equal(summaries.length, 30);
  t.equal(sflowSummaries.length, 12, 'two minutes of sFlow');
  t.ok(SFLOW.from > IPFIX.until - 60 && sflowSummaries[sflowSummaries.length - 1]!.end * 1000 < Date.now(), 'after the IPFIX capture, in the past');
  t.ok(alerts.length > 0, `${alerts.length} alerts raised by deploy/flowbridge.yaml's definition`);
  t.same(notStored.slice(0, 5), [], `all ${expected.length} points readable from whisper`);
});

/** A variable's values as Grafana lists them: find nodes, or the series names of a Metric Name query; regex applied. */
async function variableValues(v: Variable, vars: Record<string, VarValue>): Promise<string[]> {
  const q = variableQuery(v);
  const text = substitute(q.text, sub(vars));
  const names = q.kind === 'find' ? (await gw.find(text)).map((n) => n.text) : (await gw.render([text], { from, until })).map((s) => s.target);
  const re = v.regex ? new RegExp(v.regex.slice(1, v.regex.lastIndexOf('/'))) : undefined;
  return [...new Set(names.filter((x) => !re || re.test(x)))];
}

t.test('every variable query finds nodes', async (t) => {
  for (const v of queryVariables(dash)) {
    values[v.name] = await variableValues(v, ALL);
    if (v.name === 'instance') continue; // none: one collector, no instance key
    t.ok(values[v.name]!.length > 0, `${v.name}: ${values[v.name]!.slice(0, 6).join(', ')}${values[v.name]!.length > 6 ? ', …' : ''}`);
  }
  t.same(values.instance, [], 'no instance nodes under the prefix of a single collector');
  t.same(values.direction!.sort(), ['external', 'in', 'internal', 'out']);
  t.same(values.network!.sort(), ['lan', 'servers']);
  t.same(values.host!.sort(), Object.keys(truth.by_local_host).map((h) => h.replace(/\./g, '_').replace(/:/g, '-')).sort(), 'the capture\'s local hosts, without "other"');
  t.same(values.exporter, ['127_0_0_1']);
});

t.test('every target returns non-null data with every variable at "All"', async (t) => {
  t.ok(panels.length >= 20, `${panels.length} panels`);
  for (const maxDataPoints of [300, 5]) {
    for (const p of panels) {
      const got = await renderPanel(p.targets, ALL, maxDataPoints);
      for (const [refId, ss] of got) t.ok(nonNull(ss) > 0, `${p.title} ${refId} (maxDataPoints ${maxDataPoints}): ${ss.length} series, ${nonNull(ss)} points`);
    }
  }
});

t.test('each variable set to one of its values, and to two of them (glob braces)', async (t) => {
  for (const name of ['direction', 'network', 'host', 'exporter']) {
    const using = panels.filter((p) => p.targets.some((x) => x.target.includes(`$${name}`)));
    t.ok(using.length > 0, `${name}: used by ${using.length} panels`);
    let chosen: string | undefined;
    for (const value of values[name]!.slice(0, 25)) {
      const all = await Promise.all(using.map((p) => renderPanel(p.targets, { ...ALL, [name]: value })));
      if (all.every((m) => [...m.values()].every((ss) => nonNull(ss) > 0))) {
        chosen = value;
        break;
      }
    }
    t.ok(chosen !== undefined, `${name} = ${chosen}: every target returns data`);
    if (values[name]!.length > 1) {
      const two = values[name]!.slice(0, 2);
      const all = await Promise.all(using.map((p) => renderPanel(p.targets, { ...ALL, [name]: two })));
      t.ok(all.some((m) => [...m.values()].some((ss) => nonNull(ss) > 0)), `${name} = {${two.join(',')}}: data`);
    }
  }
});

t.test('the panels show the capture: bytes per direction, top receivers, networks', async (t) => {
  const panel = (title: string) => panels.find((p) => p.title === title)!;
  const sum = (s: RenderSeries) => s.datapoints.reduce((a, [v]) => a + (v ?? 0), 0);
  // maxDataPoints 5: were graphite-web to consolidate, it would drop points; summarize leaves it nothing to do
  const perDir = (await renderPanel(panel('Bytes over the range').targets, ALL, 5, IPFIX)).get('A')!;
  t.same(Object.fromEntries(perDir.map((s) => [s.target, sum(s)])),
    Object.fromEntries(Object.entries(truth.by_direction).map(([d, [b]]) => [d, b])), 'Bytes over the range = the truth per direction');
  const top = (await renderPanel(allPanels(dash).filter((p) => p.title === 'Top receivers (in)' && p.type === 'table')
    .map((p) => ({ title: p.title, targets: p.targets!.map((x) => ({ refId: String(x.refId), target: String(x.target) })) }))[0]!.targets, ALL, 5, IPFIX)).get('A')!;
  const byIn = Object.entries(truth.by_local_host).sort((a, b) => b[1][0] - a[1][0]).slice(0, 10);
  t.same(top.map((s) => [s.target, sum(s)]), byIn.map(([h, v]) => [h.replace(/\./g, '_'), v[0]]), 'the ten largest receivers with their bytes');
  const nets = (await renderPanel(panel('Networks over the range').targets, ALL, 5, IPFIX)).get('A')!;
  const want = (dir: 0 | 2) => Object.entries(truth.by_local_host).filter(([h]) => h.startsWith('10.1.1.')).reduce((a, [, v]) => a + v[dir], 0);
  t.same(Object.fromEntries(nets.filter((s) => s.target.startsWith('servers.')).map((s) => [s.target, sum(s)])),
    { 'servers.in': want(0), 'servers.out': want(2) }, 'group "servers" (10.1.1.0/24): Σ of its hosts');
});

t.test('the view and interface panels show the sFlow capture: the $top largest, with its bytes', async (t) => {
  const draw = async (title: string, top = '10') => (await renderPanel(panels.find((p) => p.title === title)!.targets, { ...ALL, top }, 300, SFLOW)).get('A')!;
  // one point per 10 s interval: a rate × 10 / 8 is the interval's bytes (octets)
  const total = (ss: RenderSeries[]) => Math.round(ss.reduce((n, s) => n + s.datapoints.reduce((m, [v]) => m + (v ?? 0), 0), 0) * 10 / 8);
  const node = (address: string) => address.replace(/\./g, '_');
  /** "127.0.0.1 3" as the path nodes "127_0_0_1.3" */
  const ifNode = (k: string) => k.split(' ').map(node).join('.');
  const largest = (o: Record<string, [number, number]>, i: 0 | 1, n: number) => Object.entries(o).sort((a, b) => b[1][i] - a[1][i]).slice(0, n);
  for (const [i, d] of [[0, 'received (in)'], [1, 'sent (out)']] as const) {
    const hosts = largest(sflowExpected.remotehosts, i, 2);
    const r = await draw(`remotehosts: bits per second ${d}`, '2');
    t.same(r.map((s) => s.target).sort(), hosts.map(([h]) => node(h)).sort(), `remotehosts ${d}, top 2: the two largest remote hosts`);
    t.equal(total(r), hosts.reduce((n, [, v]) => n + v[i], 0), `remotehosts ${d}: their bytes`);
    const ifs = largest(sflowExpected.interfaces, i, 2);
    const q = await draw(`interfaces: bits per second ${d}`, '2');
    t.same(q.map((s) => s.target).sort(), ifs.map(([k]) => ifNode(k)).sort(), `interfaces ${d}, top 2: exporter.ifIndex of the two largest`);
    t.equal(total(q), ifs.reduce((n, [, v]) => n + v[i], 0), `interfaces ${d}: their bytes`);
  }
  const pairs = await draw('as-pairs: bits per second', '2');
  const top2 = Object.entries(sflowExpected.asPairs).sort((a, b) => b[1] - a[1]).slice(0, 2);
  t.same(pairs.map((s) => s.target).sort(), top2.map(([k]) => k.replace(' ', '.')).sort(), 'as-pairs (per none), top 2');
  t.equal(total(pairs), top2.reduce((n, [, b]) => n + b, 0));
  const sum = (s: RenderSeries) => s.datapoints.reduce((a, [v]) => a + (v ?? 0), 0);
  const bySrc = (await renderPanel(panels.find((p) => p.title === 'as-pairs: bytes by source AS over the range')!.targets, ALL, 5, SFLOW)).get('A')!;
  t.same(Object.fromEntries(bySrc.map((s) => [s.target, sum(s)])),
    Object.fromEntries(Object.entries(sflowExpected.asPairs).map(([k, b]) => [k.split(' ')[0], b])), 'bytes by source AS');
  const table = (await renderPanel(panels.find((p) => p.title === 'interfaces: top tuples over the range')!.targets, ALL, 5, SFLOW)).get('A')!;
  t.same(table.map((s) => [s.target, sum(s)]).sort(), Object.entries(sflowExpected.interfaces)
    .flatMap(([k, [a, b]]) => [[`${ifNode(k)}.in`, a], [`${ifNode(k)}.out`, b]]).sort(), 'interfaces table: bytes per interface and direction');

  const byOctets = Object.entries(sflowExpected.counters).sort((a, b) => b[1][0] + b[1][1] - a[1][0] - a[1][1]);
  for (const [i, d] of [[0, 'received (in)'], [1, 'sent (out)']] as const) {
    const busiest = largest(sflowExpected.counters, i, 2);
    const r = await draw(`Interface counters: bits per second ${d}`, '2');
    t.same(r.map((s) => s.target).sort(), busiest.map(([k]) => `127_0_0_1.${k}`).sort(), `counters ${d}, top 2 by average: the two busiest`);
    t.equal(total(r), busiest.reduce((n, [, v]) => n + v[i], 0), `counters ${d}: the counters' rise`);
  }
  t.ok(byOctets.length === 4);
  const util = await draw('Interface counters: utilization');
  for (const [ifIndex, { speed }] of Object.entries(INTERFACES)) {
    for (const [i, d] of [[0, 'in'], [1, 'out']] as const) {
      const s = util.find((x) => x.target === `127_0_0_1.${ifIndex}.${d}`);
      const values = (s?.datapoints ?? []).map(([v]) => v).filter((v): v is number => v !== null);
      if (speed === 0) {
        t.same(values, [], `ifIndex ${ifIndex} ${d}: no speed, no utilization`);
        continue;
      }
      t.ok(values.length >= 10, `ifIndex ${ifIndex} ${d}: ${values.length} points`);
      t.equal(Math.round(values.reduce((n, v) => n + v, 0) / 100 * speed * 10 / 8), sflowExpected.counters[Number(ifIndex)]![i],
        `ifIndex ${ifIndex} ${d}: utilization × ifSpeed = the octets`);
    }
  }
  const errors = await draw('Interface counters: errors and discards', '100');
  const of = (target: string) => sum(errors.find((x) => x.target === target)!);
  t.same([of('127_0_0_1.1.in.errors'), of('127_0_0_1.1.in.discards'), of('127_0_0_1.1.out.errors')], [12, 23, 6], 'errors and discards: the counters\' rise');
  const counters = (await renderPanel(panels.find((p) => p.title === 'Interface counters over the range')!.targets, ALL, 5, SFLOW)).get('A')!;
  t.same(counters.map((s) => [s.target, sum(s)]).sort(), Object.entries(sflowExpected.counters)
    .flatMap(([k, [a, b]]) => [[`127_0_0_1.${k}.in`, a], [`127_0_0_1.${k}.out`, b]]).sort(), 'counters table: octets per interface and direction');
});

t.test('two instances (prefix "multi"): every panel sums them; one instance alone shows the capture once', async (t) => {
  const multi = { ...ALL, prefix: 'multi' };
  const vars: Record<string, string[]> = {};
  for (const v of queryVariables(dash)) vars[v.name] = (await variableValues(v, multi)).sort();
  t.same(vars.instance, ['a', 'b'], 'the Instance variable lists both collectors');
  for (const name of ['direction', 'network', 'host', 'exporter']) t.same(vars[name], [...values[name]!].sort(), `${name}: the same values as one collector`);
  for (const p of panels) {
    const got = await renderPanel(p.targets, multi, 300);
    for (const [refId, ss] of got) t.ok(nonNull(ss) > 0, `${p.title} ${refId}: ${ss.length} series, ${nonNull(ss)} points`);
  }
  const sum = (s: RenderSeries) => s.datapoints.reduce((a, [v]) => a + (v ?? 0), 0);
  const bytes = async (v: Record<string, VarValue>) => Object.fromEntries((await renderPanel(panels.find((p) => p.title === 'Bytes over the range')!.targets, v, 5, IPFIX))
    .get('A')!.map((s) => [s.target, sum(s)]));
  const once = Object.fromEntries(Object.entries(truth.by_direction).map(([d, [b]]) => [d, b]));
  t.same(await bytes(multi), Object.fromEntries(Object.entries(once).map(([d, b]) => [d, 2 * b])), 'Bytes over the range, All = 2 × the truth');
  t.same(await bytes({ ...multi, instance: 'a' }), once, 'instance a = the truth');
  t.same(await bytes({ ...multi, instance: ['a', 'b'] }), await bytes(multi), 'a and b (glob braces) = All');
  // a rate panel: the per-interval sum of both instances, named by direction as with one collector
  const rate = async (prefix: string) => (await renderPanel(panels.find((p) => p.title === 'Traffic by direction')!.targets, { ...ALL, prefix }, 300))
    .get('A')!.map((s) => [s.target, s.datapoints.map(([v]) => v)] as const);
  t.same(await rate('multi'), (await rate('flowbridge')).map(([d, vs]) => [d, vs.map((v) => (v === null ? null : 2 * v))]), 'Traffic by direction: 2 × one collector');
});
