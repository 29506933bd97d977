// The dashboards without a server, both the bundled ones and those generated for a configuration with
// views of every kind (src/dashboards/): they parse, ids and uids are unique, every datasource they use
// is provisioned with that uid and type, and every measurement, tag, field and Graphite path their
// queries name is in docs/metrics.md (read from its tables: the doc is the one list of names).
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ViewSpec } from '../../src/aggregate/views.js';
import { loadConfig } from '../../src/config/load.js';
import {
  allPanels, checkGraphitePath, checkInfluxQL, datasourceRefs, DASHBOARDS, generatedDashboard, graphitePaths, IFNAME, loadDashboard,
  loadSchemaDoc, measurementsOf, panelQueries, provisionedDatasources, queryVariables, ROOT, variableQuery, withoutInstance, withViews,
  type Dashboard,
} from './dashboards.js';

/** Views of every shape: by interface, by one key, by AS pairs without direction, with a filter, renamed tags and odd names. */
const VIEWS = [
  { name: 'interfaces', keys: ['exporter', 'interface'] },
  { name: 'remotehosts', keys: ['remotehost'], top: 50 },
  { name: 'as-pairs', keys: ['srcas', 'dstas'], per: 'none' },
  { name: 'peers.v4', keys: ['remoteas', 'group'], filter: 'direction=in,out' },
  { name: 'flows', keys: ['direction', 'protocol', 'localhost'] },
];
const cfg = loadConfig({ argv: [], env: {}, overrides: { views: VIEWS } });
const views: readonly ViewSpec[] = cfg.views;
/** the bundled dashboards are the default configuration's (test/dashboards.test.ts) */
const defaults = loadConfig({ argv: [], env: {}, overrides: {} });
const schema = withViews(loadSchemaDoc(), [...views, ...defaults.views.filter((d) => !views.some((v) => v.name === d.name))]);
const bundled = { influx: loadDashboard('influxdb'), graphite: loadDashboard('graphite') };
const generated = { influx: generatedDashboard('influxdb', cfg), graphite: generatedDashboard('graphite', cfg) };
/** Each check runs on the bundled pair and on the pair with views, with the views each has. */
const PAIRS: [string, { influx: Dashboard; graphite: Dashboard }, readonly ViewSpec[]][] = [['bundled', bundled, defaults.views], ['with views', generated, views]];
const viewsOf = (what: string) => PAIRS.find(([w]) => w === what)![2].map((v) => `view_${v.name}`);

t.test('docs/metrics.md parses into the schema the sinks write', (t) => {
  t.same([...loadSchemaDoc().measurements.keys()], ['traffic', 'hosts', 'ports', 'protocols', 'networks', 'exporters', 'collector', 'sinks', 'alerts']);
  t.same(schema.measurements.get('traffic'), { name: 'traffic', graphite: 'flowbridge.total.<direction>.<field>', tags: ['direction'],
    fields: ['bytes', 'packets', 'flows', 'bps', 'pps'], graphiteFields: ['bytes', 'packets', 'flows', 'bps', 'pps'] });
  t.same(schema.measurements.get('exporters')!.fields, ['bytes', 'packets', 'flows', 'bps', 'pps', 'records']);
  t.same(schema.measurements.get('hosts')!.tags, ['host', 'direction', 'network']);
  t.ok(['datagrams', 'records', 'decodeErrors', 'templateMisses', 'late', 'intervalRecords', 'intervalLate', 'hostOverflow', 'portOverflow',
    'exporterOverflow'].every((f) => schema.measurements.get('collector')!.fields.includes(f)), 'collector fields');
  t.same(schema.measurements.get('sinks')!.fields, ['lines', 'dropped', 'failed', 'errors', 'retries', 'queue']);
  t.same(schema.measurements.get('alerts'), { name: 'alerts', graphite: 'flowbridge.alerts.<alert>.<kind>.<field>', tags: ['alert', 'kind', 'metric', 'exporter'],
    fields: ['value', 'threshold', 'intervalStart', 'intervalEnd', 'detail', 'text'], graphiteFields: ['value', 'threshold'] });
  t.same(schema.directions, ['in', 'out', 'internal', 'external']);
  t.same(schema.commonTags, ['instance'], 'instance: a tag of every measurement');
  t.same(schema.interfaceCounters, { name: 'interface_counters', graphite: 'flowbridge.interfaces.<exporter>.<ifIndex>.<direction>.<field>',
    tags: ['exporter', 'ifIndex', 'direction', IFNAME], fields: ['octets', 'ucastPkts', 'errors', 'discards', 'bps', 'pps', 'ifSpeed'],
    graphiteFields: ['octets', 'ucastPkts', 'errors', 'discards', 'bps', 'pps', 'ifSpeed'] });
  t.same(schema.viewFields, ['bytes', 'packets', 'flows', 'bps', 'pps']);
  t.match(schema.measurements.get('view_interfaces'), { graphite: 'flowbridge.views.interfaces.<exporter>.<interface>.<direction>.<field>',
    tags: ['exporter', 'interface', 'direction', IFNAME] });
  t.match(schema.measurements.get('view_peers.v4'), { graphite: 'flowbridge.views.peers_v4.<remoteas>.<network>.<direction>.<field>',
    tags: ['remoteas', 'network', 'direction'] });
  t.match(schema.measurements.get('view_flows'), { tags: ['flowdirection', 'protocol', 'localhost', 'direction'] });
  t.match(schema.measurements.get('view_as-pairs'), { graphite: 'flowbridge.views.as-pairs.<srcas>.<dstas>.<field>', tags: ['srcas', 'dstas'] });
  t.ok(schema.ifnameDocumented, 'docs/metrics.md names the ifname tag');
  t.end();
});

t.test('both dashboards parse, with fixed unique uids, unique panel ids and a current schema', (t) => {
  for (const file of Object.values(DASHBOARDS)) t.doesNotThrow(() => JSON.parse(readFileSync(ROOT + file, 'utf8')), file);
  for (const [, { influx, graphite }] of PAIRS) t.same([influx.uid, graphite.uid], ['flowbridge-influxdb', 'flowbridge-graphite']);
  for (const d of PAIRS.flatMap(([, p]) => [p.influx, p.graphite])) {
    t.ok(/^[A-Za-z0-9_-]{1,40}$/.test(d.uid), `${d.uid}: a valid Grafana uid`);
    t.ok(d.schemaVersion >= 41, `${d.uid}: schemaVersion ${d.schemaVersion}`);
    const ids = allPanels(d).map((p) => p.id);
    t.equal(new Set(ids).size, ids.length, `${d.uid}: ${ids.length} panel ids, all different`);
    t.ok(ids.every((id) => Number.isInteger(id) && id > 0));
    const refIds = allPanels(d).map((p) => (p.targets ?? []).map((x) => x.refId));
    t.ok(refIds.every((r) => new Set(r).size === r.length), `${d.uid}: refIds unique within each panel`);
    const names = d.templating.list.map((v) => v.name);
    t.same(names.filter((n) => ['direction', 'host', 'network', 'exporter'].includes(n)).sort(), ['direction', 'exporter', 'host', 'network'],
      `${d.uid}: variables for direction, host, group (network) and exporter`);
    t.ok(d.annotations.list.some((a) => a.name === 'flowbridge alerts' && a.enable === true), `${d.uid}: alerts as annotations`);
    const titles = allPanels(d).map((p) => p.title);
    for (const want of ['Traffic by direction', 'Packets per second', 'Active flows per interval', 'Top receivers (in)', 'Top senders (out)',
      'Top ports', 'Protocols', 'Networks', 'Flow records per second by exporter', 'Datagrams and records per second',
      'Decode errors, template misses, late parts, overflows', 'Sink errors', 'Sink queue depth', 'Alerts']) {
      t.ok(titles.includes(want), `${d.uid}: panel "${want}"`);
    }
  }
  t.end();
});

t.test('every datasource reference is a provisioned uid of the right type', (t) => {
  const provisioned = provisionedDatasources();
  t.same(provisioned.map((p) => [p.uid, p.type]), [['flowbridge-influxdb', 'influxdb'], ['flowbridge-graphite', 'graphite']]);
  t.equal(provisioned[0]!.jsonData.version, 'InfluxQL', 'the InfluxDB datasource speaks InfluxQL');
  t.equal(provisioned[0]!.jsonData.httpHeaderName1, 'Authorization', 'with the token header (InfluxDB 2)');
  for (const [d, type] of PAIRS.flatMap(([, p]) => [[p.influx, 'influxdb'], [p.graphite, 'graphite']] as const)) {
    const refs = datasourceRefs(d);
    t.ok(refs.length > 20, `${d.uid}: ${refs.length} references`);
    const bad = refs.filter((r) => !provisioned.some((p) => p.uid === r.uid && p.type === r.type) || r.type !== type);
    t.same(bad, [], `${d.uid}: all point at the provisioned ${type} datasource`);
  }
  const provider = parseYaml(readFileSync(`${ROOT}grafana/provisioning/dashboards/flowbridge.yaml`, 'utf8')) as { providers: { type: string; options: { path: string } }[] };
  t.equal(provider.providers[0]!.type, 'file');
  t.equal(provider.providers[0]!.options.path, '/etc/grafana/dashboards/flowbridge', 'the provider reads where docker-compose.yml mounts grafana/dashboards');
  t.end();
});

t.test('every InfluxQL query names only documented measurements, tags and fields', (t) => {
  for (const [what, { influx }] of PAIRS) {
    const queries = [...panelQueries(influx, 'query'), ...queryVariables(influx).map((v) => ({ where: `variable ${v.name}`, text: variableQuery(v).text }))];
    t.ok(queries.length >= 25, `${what}: ${queries.length} queries`);
    for (const q of queries) t.same(checkInfluxQL(q.text, schema), [], `${what}, ${q.where}: ${q.text}`);
    const used = new Set(queries.flatMap((q) => measurementsOf(q.text)));
    const expected = [...schema.measurements.keys()].filter((m) => !m.startsWith('view_') || viewsOf(what).includes(m));
    t.same([...used].sort(), expected.sort(), `${what}: every measurement has a panel`);
  }
  t.end();
});

t.test('the InfluxQL checker catches what it must', (t) => {
  t.same(checkInfluxQL('SELECT mean(bps) FROM trafic WHERE $timeFilter', schema), ['measurement trafic is not in docs/metrics.md']);
  t.same(checkInfluxQL('SELECT mean(bits) FROM traffic WHERE $timeFilter', schema), ['bits is neither a field nor a tag of traffic']);
  t.same(checkInfluxQL('SELECT sum(bytes) FROM hosts WHERE group = \'lan\' AND $timeFilter', schema), ['group is not a tag of hosts']);
  t.same(checkInfluxQL('SELECT sum(bytes) FROM hosts WHERE $timeFilter GROUP BY time($__interval), bytes', schema), ['bytes is not a tag of hosts']);
  t.same(checkInfluxQL('SHOW TAG VALUES FROM exporters WITH KEY = host', schema), ['host is not a tag of exporters']);
  t.end();
});

t.test('every Graphite target and variable names only documented paths', (t) => {
  for (const [what, { graphite }] of PAIRS) {
    const queries = panelQueries(graphite, 'target');
    t.ok(queries.length >= 25, `${what}: ${queries.length} targets`);
    for (const q of queries) {
      const paths = graphitePaths(q.text);
      t.ok(paths.length > 0, `${q.where}: names a path`);
      for (const p of paths) t.same(checkGraphitePath(p, schema), [], `${what}, ${q.where}: ${p}`);
    }
    for (const v of queryVariables(graphite).filter((x) => x.name !== 'instance')) {
      const q = variableQuery(v);
      const paths = q.kind === 'find' ? [q.text] : graphitePaths(q.text);
      t.ok(paths.length > 0, `variable ${v.name} names a path`);
      for (const p of paths) t.same(checkGraphitePath(p, schema, q.kind === 'find'), [], `variable ${v.name}: ${p}`);
    }
    const used = new Set(queries.flatMap((q) => graphitePaths(q.text).map((p) => withoutInstance(p).split('.').slice(1, 3).join('.'))));
    const expected = new Set([...schema.measurements.values()].filter((m) => !m.name.startsWith('view_') || viewsOf(what).includes(m.name))
      .map((m) => m.graphite.split('.').slice(1, m.name.startsWith('view_') ? 3 : 2).join('.')));
    t.same([...new Set([...used].map((u) => (u.startsWith('views.') ? u : u.split('.')[0])))].sort(), [...expected].sort(),
      `${what}: every Graphite subtree (and view) has a panel`);
  }
  t.same(checkGraphitePath('$prefix.views.interfaces.*.*.in.bits', schema), ['bits is not a Graphite field of view_interfaces']);
  t.same(checkGraphitePath('$prefix.views.interfaces.*.in.bps', schema), ['$prefix.views.interfaces.*.in.bps matches no Graphite path of docs/metrics.md']);
  t.same(checkGraphitePath('$prefix.views.nosuchview.*.in.bps', schema), ['$prefix.views.nosuchview.*.in.bps matches no Graphite path of docs/metrics.md']);
  t.same(checkGraphitePath('$prefix.total.$direction.bits', schema), ['bits is not a Graphite field of traffic']);
  t.same(checkGraphitePath('$prefix.alerts.*.*.text', schema), ['text is not a Graphite field of alerts']);
  t.same(checkGraphitePath('$prefix.hosts.*.inbound.bps', schema), ['inbound is not a direction']);
  t.same(checkGraphitePath('$prefix.host.*.in.bps', schema), ['$prefix.host.*.in.bps matches no Graphite path of docs/metrics.md']);
  t.same(checkGraphitePath('$prefix.exporter.*', schema, true), ['$prefix.exporter.* matches no Graphite path of docs/metrics.md']);
  t.end();
});

t.test('several collectors: both dashboards select instances and sum over them', (t) => {
  for (const [, { influx, graphite }] of PAIRS) instances(t, influx, graphite);
  t.end();
});

function instances(t: Test, influx: Dashboard, graphite: Dashboard): void {
  for (const d of [influx, graphite]) {
    const v = d.templating.list.find((x) => x.name === 'instance');
    t.match(v, { type: 'query', includeAll: true, multi: true }, `${d.uid}: an Instance variable, "All" by default`);
    t.same(v?.current, { selected: true, text: ['All'], value: ['$__all'] });
  }
  t.equal(influx.templating.list.find((x) => x.name === 'instance')!.allValue, '.*', 'InfluxDB: All matches points without the tag too');
  // InfluxQL: every query filters on the instance; a mean or max is taken per instance, then summed
  for (const q of panelQueries(influx, 'query')) {
    t.match(q.text, 'instance =~ /^$instance$/', `${q.where}: filters on $instance`);
    // (an interface's speed is no rate: every instance gives the same, the highest is the one)
    if (/\b(mean|max)\((?!ifSpeed\))/.test(q.text)) {
      t.match(q.text, /^SELECT sum\(\w+\) AS \w+ FROM \(SELECT (mean|max)\(\w+\) AS \w+ FROM \w+ WHERE .* GROUP BY time\(\$__interval\), [\w, ]*instance\) WHERE \$timeFilter GROUP BY /,
        `${q.where}: the sum over instances of each one's ${/\b(mean|max)\(/.exec(q.text)![1]}`);
    }
  }
  // Graphite: every path is named with and without the instance node (one query, either layout)
  for (const q of panelQueries(graphite, 'target')) {
    const paths = graphitePaths(q.text);
    const plain = paths.filter((p) => p === withoutInstance(p)), multi = paths.filter((p) => p !== withoutInstance(p));
    t.same(multi.map(withoutInstance), plain, `${q.where}: group(P, $prefix.$instance.…P)`);
    t.ok(!/aliasByNode\(\$prefix|aliasByNode\(highest\(/.test(q.text), `${q.where}: series of several instances are summed, not only renamed`);
  }
  for (const v of queryVariables(graphite).filter((x) => x.name !== 'instance')) {
    const q = variableQuery(v);
    t.equal(q.kind, 'render', `${v.name}: a Metric Name query (the layouts differ in depth: one find pattern cannot cover both)`);
    t.same(graphitePaths(q.text).filter((p) => p !== withoutInstance(p)).map(withoutInstance), graphitePaths(q.text).filter((p) => p === withoutInstance(p)));
  }
  const inst = graphite.templating.list.find((x) => x.name === 'instance')!;
  t.equal(inst.query, '$prefix.*');
  t.equal(inst.regex, `/^(?!(${schema.subtrees.join('|')})$).*/`, 'the instance list leaves out exactly the subtrees of docs/metrics.md');
}

// A panel drawing one series per host, port, protocol, exporter, view tuple or interface shows at most $top
// of them (#18): thousands otherwise.
function ignoringTop(d: Dashboard, field: 'query' | 'target'): string[] {
  const vars = new Map(queryVariables(d).map((v) => [v.name, variableQuery(v).text]));
  // $top itself, or a variable whose query ranks with top(…, $top)
  const honours = (text: string): boolean => text.includes('$top') && (!/\$top\w/.test(text) || [...text.matchAll(/\$(top\w+)/g)]
    .every((m) => /\btop\(.*\$top\b/.test(vars.get(m[1]!) ?? '')));
  const perKey = field === 'query'
    ? (q: string) => /GROUP BY time\(\$__interval\),[^)]*\b(host|port|protocol|exporter)\b/.test(q) || /FROM ("view_|interface_counters)/.test(q)
    : (q: string) => /\$prefix\.(hosts|ports|protocols|exporters|views|interfaces)\./.test(q);
  return allPanels(d).filter((p) => p.type === 'timeseries')
    .flatMap((p) => (p.targets ?? []).map((x) => ({ title: p.title, text: String(x[field]) })))
    .filter((q) => perKey(q.text) && !honours(q.text)).map((q) => `${q.title}: ${q.text}`);
}

t.test('time series per host, port, protocol, exporter, view tuple or interface honour $top, in both dashboards', (t) => {
  for (const [what, { influx, graphite }] of PAIRS) {
    t.same(ignoringTop(influx, 'query'), [], `${what}: InfluxDB`);
    t.same(ignoringTop(graphite, 'target'), [], `${what}: Graphite`);
    for (const v of influx.templating.list.filter((x) => x.name.startsWith('top_'))) {
      t.match(v, { hide: 2, includeAll: true, multi: true, refresh: 2, skipUrlSync: true }, `${what}: ${v.name}: hidden, all values, refreshed with the time range`);
      t.match(variableQuery(v).text, /\btop\(\w+, .*\$top\)/, `${what}: ${v.name} ranks with top(…, $top)`);
    }
  }
  t.ok(generated.influx.templating.list.filter((v) => v.name.startsWith('top_')).length > 10, 'a ranking per view, key and direction');
  const influx = bundled.influx;
  // the check itself: a per-host panel without $top is caught
  const broken = structuredClone(influx);
  const receivers = allPanels(broken).find((p) => p.title === 'Receivers (in)')!;
  receivers.targets![0]!.query = String(receivers.targets![0]!.query).replace('$top_in_hosts', '$host');
  t.equal(ignoringTop(broken, 'query').length, 1, 'a panel ignoring $top fails');
  t.end();
});

// ---- views and interface counters ----

const titles = (d: Dashboard) => allPanels(d).filter((p) => p.type !== 'row').map((p) => p.title);
const targetsOf = (d: Dashboard, field: 'query' | 'target', pred: (p: { title: string; type: string }) => boolean) =>
  allPanels(d).filter(pred).flatMap((p) => (p.targets ?? []).map((x) => ({ title: p.title, text: String(x[field]), alias: x.alias as string | undefined })));

t.test('every configured view has its row on both backends: stacked time series per direction, a table, a pie per AS key', (t) => {
  for (const v of views) {
    const rows = (d: Dashboard) => allPanels(d).filter((p) => p.type === 'row' && p.title.startsWith(`View ${v.name} (`));
    const mine = (d: Dashboard) => allPanels(d).filter((p) => p.type !== 'row' && p.title.startsWith(`${v.name}: `));
    for (const [backend, d] of Object.entries(generated)) {
      t.equal(rows(d).length, 1, `${backend}: a row for ${v.name}`);
      const series = mine(d).filter((p) => p.type === 'timeseries');
      t.same(series.map((p) => p.title), v.per === 'direction'
        ? [`${v.name}: bits per second received (in)`, `${v.name}: bits per second sent (out)`] : [`${v.name}: bits per second`], `${backend}: ${v.name} time series`);
      for (const p of series) t.match(p.fieldConfig, { defaults: { unit: 'bps', custom: { stacking: { mode: 'normal' } } } }, `${backend}: ${p.title} stacked`);
      t.equal(mine(d).filter((p) => p.type === 'table').length, 1, `${backend}: ${v.name} table`);
      const asKeys = v.keys.filter((k) => ['srcas', 'dstas', 'remoteas'].includes(k));
      t.equal(mine(d).filter((p) => p.type === 'piechart').length, asKeys.length, `${backend}: ${v.name}: a pie per AS key (${asKeys.join(', ') || 'none'})`);
    }
    t.same(mine(generated.graphite).map((p) => p.title), mine(generated.influx).map((p) => p.title), `${v.name}: the same panels on both backends`);
    const measurement = `view_${v.name}`;
    for (const q of targetsOf(generated.influx, 'query', (p) => p.title.startsWith(`${v.name}: `))) {
      t.same(measurementsOf(q.text), [measurement], `${q.title}: reads ${measurement}`);
    }
  }
  const fromViews = (d: Dashboard) => titles(d).filter((x) => views.some((v) => x.startsWith(`${v.name}: `)) || x.startsWith('Interface counters'));
  t.same(fromViews(generated.graphite), fromViews(generated.influx), 'both dashboards: the same view and interface panels in the same order');
  t.end();
});

t.test('interfaces: InfluxDB groups by ifname and names series by exporter, ifIndex and name; Graphite paths carry the ifIndex', (t) => {
  const ifQueries = targetsOf(generated.influx, 'query', (p) => p.type === 'timeseries')
    .filter((q) => /FROM (view_interfaces|interface_counters)\b/.test(q.text));
  t.equal(ifQueries.length, 6, 'interfaces in and out; counters in, out, utilization, errors');
  for (const q of ifQueries) {
    t.match(q.text, new RegExp(`GROUP BY time\\(\\$__interval\\), exporter, (interface|ifIndex), ${IFNAME}\\b`), `${q.title}: grouped by ${IFNAME}`);
    t.match(q.alias, new RegExp(`^\\$tag_exporter if\\$tag_(interface|ifIndex) \\$tag_${IFNAME}\\b`), `${q.title}: named exporter, ifIndex, name`);
    // a missing tag is an empty value: what is left reads as "192.0.2.1 if3"
    const tags: Record<string, string> = { exporter: '192.0.2.1', interface: '3', ifIndex: '3', direction: 'in', [IFNAME]: '' };
    const unnamed = q.alias!.replace(/\$tag_(\w+)/g, (_, tag: string) => tags[tag]!).replace('$col', 'errors');
    t.match(unnamed.replace(/\s+/g, ' ').trim(), /^192\.0\.2\.1 if3( in( errors)?)?$/, `${q.title}: "${unnamed}" without a name`);
  }
  for (const q of targetsOf(generated.influx, 'query', (p) => p.type === 'table').filter((x) => /FROM (view_interfaces|interface_counters)\b/.test(x.text))) {
    t.match(q.text, new RegExp(`, ${IFNAME} FROM \\(.* GROUP BY .*\\b${IFNAME}\\b`), `${q.title}: ${IFNAME} as a column`);
  }
  t.notMatch(JSON.stringify(generated.graphite), IFNAME, 'plain Graphite paths have no interface names');
  // the view "interfaces" lies where "All" instances of the interface counters would: $prefix.*.interfaces.…
  for (const q of targetsOf(generated.graphite, 'target', (p) => p.title.startsWith('Interface counters'))) {
    t.match(q.text, /exclude\(\$prefix\.\$instance\.interfaces\.[^)]*, '\.views\.interfaces\.'\)/, `${q.title}: leaves out the view's paths`);
  }
  t.notMatch(targetsOf(generated.graphite, 'target', (p) => p.title === 'Traffic by direction')[0]!.text, 'exclude', 'where no view is named like the subtree, nothing to leave out');
  const util = targetsOf(generated.influx, 'query', (p) => p.title === 'Interface counters: utilization')[0]!;
  t.match(util.text, /sum\(octets\) \* 8000\.0 \/ \$__interval_ms \/ max\(ifSpeed\) \* 100 AS utilization .* WHERE ifSpeed > 0 AND /,
    'InfluxDB: bits per second over ifSpeed, where the agent gives one');
  t.match(targetsOf(generated.graphite, 'target', (p) => p.title === 'Interface counters: utilization')[0]!.text,
    /reduceSeries\(mapSeries\(.*'asPercent', 3, 'bps', 'ifSpeed'\)/, 'Graphite: bps as a percentage of ifSpeed per interface and direction');
  for (const [backend, d] of Object.entries(bundled)) {
    t.ok(titles(d).includes('Interface counters: utilization'), `${backend}, bundled: the interface counters whatever the views`);
  }
  t.end();
});

t.test('panel and series names come from the configured views, never from the code', (t) => {
  const renamed = loadConfig({ argv: [], env: {}, overrides: { views: [
    { name: 'uplinks', keys: ['exporter', 'interface'] }, { name: 'talkers', keys: ['remotehost'] }] } });
  for (const kind of ['influxdb', 'graphite'] as const) {
    const text = JSON.stringify(generatedDashboard(kind, renamed));
    t.notMatch(text, /interfaces \(|view_interfaces|views\.interfaces|remotehosts/, `${kind}: no default view name`);
    t.match(text, kind === 'influxdb' ? /FROM view_uplinks .*FROM view_talkers /s : /\$prefix\.views\.uplinks\..*\$prefix\.views\.talkers\./s, `${kind}: the configured ones`);
    const none = JSON.stringify(generatedDashboard(kind, loadConfig({ argv: [], env: {}, overrides: { views: [] } })));
    t.notMatch(none, /view_|\.views\./, `${kind}: no views, no view panels`);
  }
  t.end();
});
