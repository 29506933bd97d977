// Interface names as series: the tag `ifname` on views keyed by interface and on interface_counters,
// only where the summary has a name; never a Graphite path node; a renamed interface is a new series
// even though the sinks cache their escaped names.
import t from 'tap';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { emptySummary } from '../helpers/summary.js';
import { GraphiteSink } from '../../src/export/graphite.js';
import { InfluxSink } from '../../src/export/influx.js';
import { viewMeasurement } from '../../src/export/series-views.js';
import { Metrics } from '../../src/lib/counters.js';

const z = { bytes: 0, packets: 0, flows: 0 };
const zi = { octets: 0, ucastPkts: 0, errors: 0, discards: 0, bps: 0, pps: 0 };
const TS = 1793491200;

function summary(name3 = 'xe-0/0/1'): IntervalSummary {
  return {
    ...emptySummary(TS),
    views: {
      ifs: [
        { key: { exporter: '192.0.2.1', interface: 3 }, direction: 'in', bytes: 1000, packets: 10, flows: 2, ifName: name3 },
        { key: { exporter: '192.0.2.1', interface: 4 }, direction: 'out', bytes: 500, packets: 5, flows: 1 },
      ],
      ifall: [{ key: { exporter: '192.0.2.1', interface: 3 }, bytes: 70, packets: 7, flows: 3, ifName: 'ge 0;1' }],
      hosts: [{ key: { remotehost: '198.51.100.7' }, direction: 'in', bytes: 10, packets: 1, flows: 1, ifName: 'never written' }],
    },
    viewsOther: { ifs: { in: { bytes: 100, packets: 1, flows: 1 }, out: z }, ifall: { all: z }, hosts: { in: z, out: z } },
    interfaces: [
      { exporter: '192.0.2.1', ifIndex: 3, ifSpeed: 1_000_000_000, in: { ...zi, octets: 125, bps: 100 }, out: zi, ifName: name3 },
      { exporter: '192.0.2.1', ifIndex: 9, ifSpeed: 0, in: zi, out: zi },
    ],
  };
}

const ours = (l: string) => /^(view_|interface_counters)|^flowbridge\.(views|interfaces)\./.test(l);
/** the series keys: each line up to its first unescaped space */
const influx = (sink: InfluxSink, s = summary()) => sink.format(s).filter(ours).map((l) => /^(?:\\.|[^ \\])+/.exec(l)![0]);

t.test('InfluxDB: ifname where the name is known, sorted among the tags', async (t) => {
  const sink = new InfluxSink({ api: 'v1' }, { metrics: new Metrics() });
  t.same(influx(sink), [
    'view_ifs,direction=in,exporter=192.0.2.1,ifname=xe-0/0/1,interface=3',
    'view_ifs,direction=out,exporter=192.0.2.1,interface=4',
    'view_ifs,direction=in,exporter=other,interface=other',
    'view_ifall,exporter=192.0.2.1,ifname=ge\\ 0;1,interface=3',
    'view_hosts,direction=in,remotehost=198.51.100.7',
    'interface_counters,direction=in,exporter=192.0.2.1,ifIndex=3,ifname=xe-0/0/1',
    'interface_counters,direction=out,exporter=192.0.2.1,ifIndex=3,ifname=xe-0/0/1',
    'interface_counters,direction=in,exporter=192.0.2.1,ifIndex=9',
    'interface_counters,direction=out,exporter=192.0.2.1,ifIndex=9',
  ], 'no ifname on a view without the interface key, on an other row or an unnamed interface');
  t.same(influx(sink, summary('core-1')).filter((l) => l.includes('ifname')), [
    'view_ifs,direction=in,exporter=192.0.2.1,ifname=core-1,interface=3',
    'view_ifall,exporter=192.0.2.1,ifname=ge\\ 0;1,interface=3',
    'interface_counters,direction=in,exporter=192.0.2.1,ifIndex=3,ifname=core-1',
    'interface_counters,direction=out,exporter=192.0.2.1,ifIndex=3,ifname=core-1',
  ], 'renamed: the cached series name is not reused');
  const inst = new InfluxSink({ api: 'v1', instance: 'eu1' }, { metrics: new Metrics() });
  t.equal(influx(inst)[0], 'view_ifs,direction=in,exporter=192.0.2.1,ifname=xe-0/0/1,instance=eu1,interface=3', 'with the instance tag');
  await Promise.all([sink.stop(), inst.stop()]);
});

function graphite(opts: ConstructorParameters<typeof GraphiteSink>[0], s = summary()): string[] {
  return new GraphiteSink(opts, { metrics: new Metrics() }).format(s).flatMap((c) => c.text.split('\n').filter(Boolean)).filter(ours);
}

t.test('Graphite: plain paths unchanged, tagged series carry ifname', async (t) => {
  const plain = graphite({});
  t.ok(plain.includes(`flowbridge.views.ifs.192_0_2_1.3.in.bytes 1000 ${TS}`));
  t.ok(plain.includes(`flowbridge.views.ifall.192_0_2_1.3.bytes 70 ${TS}`));
  t.ok(plain.includes(`flowbridge.interfaces.192_0_2_1.3.in.octets 125 ${TS}`));
  t.notOk(plain.some((l) => /xe-0|ge_0|ifname/.test(l)), 'no name in any path');
  const unnamed = summary();
  for (const rows of Object.values(unnamed.views!)) for (const r of rows) delete r.ifName;
  for (const r of unnamed.interfaces!) delete r.ifName;
  t.same(plain, graphite({}, unnamed), 'the same lines as without names');
  t.equal(plain.length, 5 * 5 + 4 * 7);
  const tagged = graphite({ tagged: true });
  t.ok(tagged.includes(`flowbridge.views.ifs.bytes;direction=in;exporter=192.0.2.1;ifname=xe-0/0/1;interface=3 1000 ${TS}`));
  t.ok(tagged.includes(`flowbridge.views.ifs.bytes;direction=out;exporter=192.0.2.1;interface=4 500 ${TS}`), 'unnamed: no tag');
  t.ok(tagged.includes(`flowbridge.views.ifall.flows;exporter=192.0.2.1;ifname=ge_0_1;interface=3 3 ${TS}`), 'space and ; made safe');
  t.ok(tagged.includes(`flowbridge.interfaces.octets;direction=in;exporter=192.0.2.1;ifIndex=3;ifname=xe-0/0/1 125 ${TS}`));
  t.ok(tagged.includes(`flowbridge.interfaces.octets;direction=in;exporter=192.0.2.1;ifIndex=9 0 ${TS}`));
  t.notOk(tagged.some((l) => l.includes('never written')));
  const renamed = new GraphiteSink({ tagged: true }, { metrics: new Metrics() });
  renamed.format(summary());
  const again = renamed.format(summary('core-1')).flatMap((c) => c.text.split('\n'));
  t.ok(again.includes(`flowbridge.interfaces.bps;direction=in;exporter=192.0.2.1;ifIndex=3;ifname=core-1 100 ${TS}`), 'renamed: a new series');
});

t.test('viewMeasurement: ifname after the path tags for views keyed by interface only', async (t) => {
  t.same(viewMeasurement('ifs', ['exporter', 'interface'], true), {
    name: 'view_ifs', graphite: 'views.ifs', tags: ['exporter', 'interface', 'direction', 'ifname'], pathTags: 3,
    fields: viewMeasurement('x', [], false).fields,
  });
  t.same(viewMeasurement('a', ['interface', 'exporter'], false).tags, ['interface', 'exporter', 'ifname']);
  t.equal(viewMeasurement('a', ['interface', 'exporter'], false).pathTags, 2);
  t.same(viewMeasurement('b', ['exporter', 'inputifindex'], true).tags, ['exporter', 'inputifindex', 'direction'], 'an ifIndex key is not the interface key');
});
