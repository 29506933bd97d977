// The bundled dashboards without a server: they parse, ids and uids are unique, every datasource they
// use is provisioned with that uid and type, and every measurement, tag, field and Graphite path their
// queries name is in docs/metrics.md (read from its tables: the doc is the one list of names).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  allPanels, checkGraphitePath, checkInfluxQL, datasourceRefs, DASHBOARDS, graphitePaths, loadDashboard, loadSchemaDoc,
  panelQueries, provisionedDatasources, queryVariables, ROOT, variableQuery, withoutInstance,
} from './dashboards.js';

const schema = loadSchemaDoc();
const influx = loadDashboard('influxdb');
const graphite = loadDashboard('graphite');

t.test('docs/metrics.md parses into the schema the sinks write', (t) => {
  t.same([...schema.measurements.keys()], ['traffic', 'hosts', 'ports', 'protocols', 'networks', 'exporters', 'collector', 'sinks', 'alerts']);
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
  t.end();
});

t.test('both dashboards parse, with fixed unique uids, unique panel ids and a current schema', (t) => {
  for (const file of Object.values(DASHBOARDS)) t.doesNotThrow(() => JSON.parse(readFileSync(ROOT + file, 'utf8')), file);
  t.same([influx.uid, graphite.uid], ['flowbridge-influxdb', 'flowbridge-graphite']);
  for (const d of [influx, graphite]) {
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
  for (const [d, type] of [[influx, 'influxdb'], [graphite, 'graphite']] as const) {
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
  const queries = [...panelQueries(influx, 'query'), ...queryVariables(influx).map((v) => ({ where: `variable ${v.name}`, text: variableQuery(v).text }))];
  t.ok(queries.length >= 25, `${queries.length} queries`);
  for (const q of queries) t.same(checkInfluxQL(q.text, schema), [], `${q.where}: ${q.text}`);
  const used = new Set(queries.flatMap((q) => [...q.text.matchAll(/FROM (\w+)/g)].map((m) => m[1])));
  t.same([...used].sort(), [...schema.measurements.keys()].sort(), 'every measurement has a panel');
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
  const queries = panelQueries(graphite, 'target');
  t.ok(queries.length >= 25, `${queries.length} targets`);
  for (const q of queries) {
    const paths = graphitePaths(q.text);
    t.ok(paths.length > 0, `${q.where}: names a path`);
    for (const p of paths) t.same(checkGraphitePath(p, schema), [], `${q.where}: ${p}`);
  }
  for (const v of queryVariables(graphite).filter((x) => x.name !== 'instance')) {
    const q = variableQuery(v);
    const paths = q.kind === 'find' ? [q.text] : graphitePaths(q.text);
    t.ok(paths.length > 0, `variable ${v.name} names a path`);
    for (const p of paths) t.same(checkGraphitePath(p, schema, q.kind === 'find'), [], `variable ${v.name}: ${p}`);
  }
  const used = new Set(queries.flatMap((q) => graphitePaths(q.text).map((p) => withoutInstance(p).split('.')[1])));
  t.same([...used].sort(), [...schema.measurements.values()].map((m) => m.graphite.split('.')[1]).sort(), 'every Graphite subtree has a panel');
  t.same(checkGraphitePath('$prefix.total.$direction.bits', schema), ['bits is not a Graphite field of traffic']);
  t.same(checkGraphitePath('$prefix.alerts.*.*.text', schema), ['text is not a Graphite field of alerts']);
  t.same(checkGraphitePath('$prefix.hosts.*.inbound.bps', schema), ['inbound is not a direction']);
  t.same(checkGraphitePath('$prefix.host.*.in.bps', schema), ['$prefix.host.*.in.bps matches no Graphite path of docs/metrics.md']);
  t.same(checkGraphitePath('$prefix.exporter.*', schema, true), ['$prefix.exporter.* matches no Graphite path of docs/metrics.md']);
  t.end();
});

t.test('several collectors: both dashboards select instances and sum over them', (t) => {
  for (const d of [influx, graphite]) {
    const v = d.templating.list.find((x) => x.name === 'instance');
    t.match(v, { type: 'query', includeAll: true, multi: true }, `${d.uid}: an Instance variable, "All" by default`);
    t.same(v?.current, { selected: true, text: ['All'], value: ['$__all'] });
  }
  t.equal(influx.templating.list.find((x) => x.name === 'instance')!.allValue, '.*', 'InfluxDB: All matches points without the tag too');
  // InfluxQL: every query filters on the instance; a mean or max is taken per instance, then summed
  for (const q of panelQueries(influx, 'query')) {
    t.match(q.text, 'instance =~ /^$instance$/', `${q.where}: filters on $instance`);
    if (/\b(mean|max)\(/.test(q.text)) {
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
  t.end();
});

// A panel drawing one series per host or port shows at most $top of them (#18): thousands otherwise.
function ignoringTop(d: ReturnType<typeof loadDashboard>, field: 'query' | 'target'): string[] {
  const vars = new Map(queryVariables(d).map((v) => [v.name, variableQuery(v).text]));
  // $top itself, or a variable whose query ranks with top(…, $top)
  const honours = (text: string): boolean => text.includes('$top') && (!/\$top\w/.test(text) || [...text.matchAll(/\$(top\w+)/g)]
    .every((m) => /\btop\(.*\$top\b/.test(vars.get(m[1]!) ?? '')));
  const perKey = field === 'query'
    ? (q: string) => /GROUP BY time\(\$__interval\),[^)]*\b(host|port)\b/.test(q)
    : (q: string) => /\$prefix\.(hosts|ports)\./.test(q);
  return allPanels(d).filter((p) => p.type === 'timeseries')
    .flatMap((p) => (p.targets ?? []).map((x) => ({ title: p.title, text: String(x[field]) })))
    .filter((q) => perKey(q.text) && !honours(q.text)).map((q) => `${q.title}: ${q.text}`);
}

t.test('time series per host or port honour $top, in both dashboards', (t) => {
  t.same(ignoringTop(influx, 'query'), [], 'InfluxDB');
  t.same(ignoringTop(graphite, 'target'), [], 'Graphite');
  for (const name of ['top_in_hosts', 'top_out_hosts', 'top_ports']) {
    t.match(influx.templating.list.find((v) => v.name === name), { hide: 2, includeAll: true, multi: true, refresh: 2 },
      `${name}: hidden, all values, refreshed with the time range`);
  }
  // the check itself: a per-host panel without $top is caught
  const broken = structuredClone(influx);
  const receivers = allPanels(broken).find((p) => p.title === 'Receivers (in)')!;
  receivers.targets![0]!.query = String(receivers.targets![0]!.query).replace('$top_in_hosts', '$host');
  t.equal(ignoringTop(broken, 'query').length, 1, 'a panel ignoring $top fails');
  t.end();
});
