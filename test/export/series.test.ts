// The shared series schema: Graphite naming and sanitizing, InfluxDB lines equal to the official
// client's Point output (escaping included), schema rules, and docs/metrics.md covering every name.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { Point } from '@influxdata/influxdb-client';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { GraphiteSink } from '../../src/export/graphite.js';
import {
  ALERT_TEXT_FIELDS, alertSeries, graphitePrefix, graphiteTagValue, influxFields, influxSeriesKey, MEASUREMENTS, SeriesWalker,
} from '../../src/export/series.js';
import { graphiteNode, type FieldDef, type MeasurementDef } from '../../src/export/series-defs.js';
import { Metrics } from '../../src/lib/counters.js';

const z = { bytes: 0, packets: 0, flows: 0 };
const rate = (bytes: number, packets: number, flows: number) => ({ bytes, packets, flows, bps: (bytes * 8) / 10, pps: packets / 10 });

function summary(): IntervalSummary {
  return {
    start: 1793491200, end: 1793491210, interval: 10,
    directions: { in: rate(1000, 10, 2), out: rate(500, 5, 1), internal: rate(0, 0, 0), external: rate(7, 1, 1) },
    hosts: [
      { host: '10.1.0.5', group: 'home', direction: 'in', bytes: 900, packets: 9, flows: 1 },
      { host: '2001:db8:1::10', group: 'home lab,=x', direction: 'out', bytes: 500, packets: 5, flows: 1 },
    ],
    hostsOther: { in: { bytes: 100, packets: 1, flows: 1 }, out: z },
    ports: [
      { protocol: 'tcp', port: 443, direction: 'out', bytes: 500, packets: 5, flows: 1 },
      { protocol: 'ipv6-icmp', port: 0, direction: 'in', bytes: 3, packets: 1, flows: 1 },
    ],
    portsOther: { in: { bytes: 997, packets: 9, flows: 1 }, out: z, internal: z, external: z },
    protocols: [{ protocol: 'tcp', direction: 'out', bytes: 500, packets: 5, flows: 1 }],
    groups: [{ group: 'home', direction: 'in', bytes: 1000, packets: 10, flows: 2 }],
    exporters: [{ exporter: '192.0.2.1', bytes: 1507, packets: 16, flows: 4, records: 4 }],
    stats: { records: 4, late: 1, hostOverflow: 0, portOverflow: 2, exporterOverflow: 0,
      collector: { datagrams: 3, records: 4, decodeErrors: 0, templateMisses: 1, late: 1, 'odd key': 5 } },
  };
}

t.test('Graphite nodes: IPv4 dots to _, IPv6 colons to -, nothing outside [A-Za-z0-9_-]', async (t) => {
  t.equal(graphiteNode('10.1.0.5'), '10_1_0_5');
  t.equal(graphiteNode('2001:db8:1::10'), '2001-db8-1--10');
  t.equal(graphiteNode('fe80::1%eth0'), 'fe80--1_eth0');
  t.equal(graphiteNode('home lab/ü'), 'home_lab__');
  t.equal(graphiteNode('ipv6-icmp'), 'ipv6-icmp');
  t.equal(graphiteNode(''), '_');
  t.equal(graphitePrefix('site1.flows'), 'site1.flows');
  t.equal(graphitePrefix('.my site..x.'), 'my_site.x');
  t.equal(graphitePrefix(''), '');
  t.equal(graphiteTagValue('2001:db8::1'), '2001:db8::1', 'colons are fine in tag values');
  t.equal(graphiteTagValue('a;b c'), 'a_b_c');
  t.equal(graphiteTagValue('~x'), '_x');
  t.equal(graphiteTagValue(''), '_');
});

function graphiteLines(opts: ConstructorParameters<typeof GraphiteSink>[0], s = summary()): string[] {
  return new GraphiteSink(opts, { metrics: new Metrics() }).format(s).flatMap((c) => c.text.split('\n').filter(Boolean));
}

t.test('Graphite paths of a summary', async (t) => {
  const lines = graphiteLines({});
  const has = (l: string) => t.ok(lines.includes(l), l);
  has('flowbridge.total.in.bps 800 1793491200');
  has('flowbridge.total.in.bytes 1000 1793491200');
  has('flowbridge.total.internal.pps 0 1793491200');
  has('flowbridge.hosts.10_1_0_5.in.bytes 900 1793491200');
  has('flowbridge.hosts.2001-db8-1--10.out.packets 5 1793491200');
  has('flowbridge.hosts.other.in.bytes 100 1793491200');
  has('flowbridge.ports.tcp.443.out.bytes 500 1793491200');
  has('flowbridge.ports.ipv6-icmp.0.in.flows 1 1793491200');
  has('flowbridge.ports.all.other.in.bytes 997 1793491200');
  has('flowbridge.protocols.tcp.out.bps 400 1793491200');
  has('flowbridge.networks.home.in.bytes 1000 1793491200');
  has('flowbridge.exporters.192_0_2_1.records 4 1793491200');
  has('flowbridge.collector.datagrams 3 1793491200');
  has('flowbridge.collector.odd_key 5 1793491200');
  has('flowbridge.collector.intervalLate 1 1793491200');
  has('flowbridge.collector.portOverflow 2 1793491200');
  t.notOk(lines.some((l) => l.includes('hosts.other.out')), 'empty "other" rows are left out');
  // 4 traffic + 2 hosts + 1 other + 2 ports + 1 other + 1 protocol + 1 network rows, 5 fields each; exporter 6; collector 11
  t.equal(lines.length, 12 * 5 + 6 + 11);
  t.ok(lines.every((l) => /^[A-Za-z0-9_.-]+ -?[0-9.e+]+ 1793491200$/.test(l)), 'every line is "path value timestamp"');
  t.ok(graphiteLines({ prefix: '' }).includes('total.in.bytes 1000 1793491200'), 'no prefix');
  t.ok(graphiteLines({ prefix: 'a.b' }).includes('a.b.total.in.bytes 1000 1793491200'));
});

t.test('Graphite 1.1 tagged series: name.field;tags sorted by key', async (t) => {
  const lines = graphiteLines({ tagged: true });
  t.ok(lines.includes('flowbridge.hosts.bytes;direction=out;host=2001:db8:1::10;network=home_lab,=x 500 1793491200'));
  t.ok(lines.includes('flowbridge.total.bps;direction=in 800 1793491200'));
  t.ok(lines.includes('flowbridge.ports.bytes;direction=out;port=443;protocol=tcp 500 1793491200'));
  t.ok(lines.includes('flowbridge.collector.datagrams 3 1793491200'), 'no tags, no ";"');
});

t.test('chunks hold whole lines, at most chunkLines each', async (t) => {
  const chunks = new GraphiteSink({ chunkLines: 10 }, { metrics: new Metrics() }).format(summary());
  t.equal(chunks.reduce((a, c) => a + c.lines, 0), 77);
  t.ok(chunks.every((c) => c.lines <= 10 && c.text.endsWith('\n') && c.text.split('\n').length - 1 === c.lines));
});

/** The client's own serialization of one row, for comparison. */
function pointLine(m: MeasurementDef, tags: readonly string[], fields: readonly FieldDef[], values: ArrayLike<number>, ts: number): string {
  const p = new Point(m.name);
  m.tags.forEach((k, i) => { if (tags[i]) p.tag(k, tags[i]!); });
  fields.forEach((f, i) => (f.int ? p.intField(f.name, values[i]) : p.floatField(f.name, values[i])));
  return p.timestamp(ts).toLineProtocol({ convertTime: (v) => String(v) })!;
}

t.test('InfluxDB lines from cached series keys equal what the client Point writes, escaping included', async (t) => {
  const walker = new SeriesWalker();
  const ours: string[] = [], theirs: string[] = [];
  const n = walker.walk(summary(), (m, _key, tags, fields, values) => {
    ours.push(`${influxSeriesKey(m, tags)} ${influxFields(fields, values)} 1793491200`);
    theirs.push(pointLine(m, tags, fields, values, 1793491200));
  }, { sink: 'influx', dropped: 1, errors: 2, failed: 0, lines: 100, queue: 5, retries: 2 });
  t.equal(n, ours.length);
  t.same(ours, theirs);
  t.ok(ours.includes('hosts,direction=out,host=2001:db8:1::10,network=home\\ lab\\,\\=x bps=400,bytes=500i,flows=1i,packets=5i,pps=0.5 1793491200'));
  t.ok(ours.includes('traffic,direction=in bps=800,bytes=1000i,flows=2i,packets=10i,pps=1 1793491200'));
  t.ok(ours.includes('sinks,sink=influx dropped=1i,errors=2i,failed=0i,lines=100i,queue=5i,retries=2i 1793491200'));
  t.ok(ours.includes('collector datagrams=3i,decodeErrors=0i,exporterOverflow=0i,hostOverflow=0i,intervalLate=1i,intervalRecords=4i,late=1i,odd_key=5i,portOverflow=2i,records=4i,templateMisses=1i 1793491200'));
  t.equal(influxFields([{ name: 'x', int: false }, { name: 'y', int: true }], [NaN, 3]), 'y=3i', 'NaN is left out');
});

// InfluxQL keywords (influxql/scanner): a name among them must be quoted in every query
const INFLUXQL_KEYWORDS = `ALL ALTER ANALYZE ANY AS ASC BEGIN BY CARDINALITY CREATE CONTINUOUS DATABASE DATABASES DEFAULT DELETE DESC
DESTINATIONS DIAGNOSTICS DISTINCT DROP DURATION END EVERY EXACT EXPLAIN FIELD FOR FROM GRANT GRANTS GROUP GROUPS IN INF INSERT
INTO KEY KEYS KILL LIMIT SHOW MEASUREMENT MEASUREMENTS NAME OFFSET ON ORDER PASSWORD POLICY POLICIES PRIVILEGES QUERIES QUERY
READ REPLICATION RESAMPLE RETENTION REVOKE SELECT SERIES SET SHARD SHARDS SLIMIT SOFFSET STATS SUBSCRIPTION SUBSCRIPTIONS TAG
TO USER USERS VALUES WHERE WITH WRITE`.split(/\s+/);

t.test('schema rules: no name is both a tag and a field, none is an InfluxQL keyword, docs/metrics.md lists all', async (t) => {
  const walker = new SeriesWalker();
  const collectorFields: string[] = [];
  walker.walk(summary(), (m, _k, _t, fields) => { if (m.name === 'collector') collectorFields.push(...fields.map((f) => f.name)); });
  const tags = new Set(MEASUREMENTS.flatMap((m) => m.tags));
  const fields = new Set([...MEASUREMENTS.flatMap((m) => m.fields.map((f) => f.name)), ...collectorFields, ...ALERT_TEXT_FIELDS]);
  t.same([...tags].filter((x) => fields.has(x)), [], 'tags and fields are disjoint (InfluxDB 3 rejects a clash)');
  const names = [...MEASUREMENTS.map((m) => m.name), ...tags, ...fields];
  t.same(names.filter((x) => INFLUXQL_KEYWORDS.includes(x.toUpperCase())), []);
  for (const m of MEASUREMENTS) t.ok(m.fields.every((f, i) => i === 0 || m.fields[i - 1]!.name < f.name), `${m.name}: fields sorted as Point writes them`);
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  // every name but the synthetic 'odd key' of this summary's collector stats
  for (const n of new Set(names)) if (n !== 'odd_key') t.ok(doc.includes(`\`${n}\``), `docs/metrics.md mentions \`${n}\``);
  for (const m of MEASUREMENTS) t.ok(doc.includes(`\`flowbridge.${m.graphite}.`), `docs/metrics.md gives the Graphite path of ${m.name}`);
});

t.test('alerts: tags, detail and a readable line', async (t) => {
  const a = alertSeries({ kind: 'threshold', name: 'uport', keys: { ipsource: '10.1.1.1', icmpunreachableport: 1000 }, value: 1200,
    metric: 'frames', threshold: 1000, start: 1, end: 11, time: 12_345 });
  t.same(a.tags, ['uport', 'threshold', 'frames', '']);
  t.equal(a.detail, 'ipsource=10.1.1.1 icmpunreachableport=1000');
  t.equal(a.text, 'threshold uport ipsource=10.1.1.1 icmpunreachableport=1000: frames 1200 > 1000');
  const alert = { kind: 'cleared' as const, name: 'uport', keys: { ipsource: '10.1.1.1' }, value: 10, metric: 'frames', threshold: 1000,
    start: 1, end: 11, exporter: '192.0.2.1', time: 12_345 };
  const plain = new GraphiteSink({}, { metrics: new Metrics() }).formatAlert(alert);
  t.same(plain, { text: 'flowbridge.alerts.uport.cleared.value 10 12\nflowbridge.alerts.uport.cleared.threshold 1000 12\n', lines: 2, start: 1 });
  const tagged = new GraphiteSink({ tagged: true }, { metrics: new Metrics() }).formatAlert({ ...alert, threshold: undefined });
  t.equal(tagged.text, 'flowbridge.alerts.value;alert=uport;exporter=192.0.2.1;kind=cleared;metric=frames 10 12\n');
});
