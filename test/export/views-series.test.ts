// Views and sFlow interface counters as series: the exact InfluxDB lines and Graphite paths (plain and
// tagged) of a summary with a view per direction, a view per: none and one interface.
import t from 'tap';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { emptySummary } from '../helpers/summary.js';
import { GraphiteSink } from '../../src/export/graphite.js';
import { InfluxSink } from '../../src/export/influx.js';
import { SeriesWalker } from '../../src/export/series.js';
import { viewMeasurement } from '../../src/export/series-views.js';
import { Metrics } from '../../src/lib/counters.js';

const z = { bytes: 0, packets: 0, flows: 0 };
const zi = { octets: 0, ucastPkts: 0, errors: 0, discards: 0, bps: 0, pps: 0 };
const TS = 1793491200;

function summary(): IntervalSummary {
  return {
    ...emptySummary(TS),
    views: {
      remotehosts: [
        { key: { remotehost: '198.51.100.7' }, direction: 'in', bytes: 1000, packets: 10, flows: 2 },
        { key: { remotehost: '2001:db8::1' }, direction: 'out', bytes: 500, packets: 5, flows: 1 },
      ],
      peers: [{ key: { remoteas: 64500, group: 'home' }, bytes: 700, packets: 7, flows: 3 }],
    },
    viewsOther: {
      remotehosts: { in: { bytes: 100, packets: 1, flows: 1 }, out: z },
      peers: { all: { bytes: 50, packets: 1, flows: 1 } },
    },
    interfaces: [{ exporter: '192.0.2.1', ifIndex: 3, ifSpeed: 1_000_000_000,
      in: { octets: 12_500, ucastPkts: 100, errors: 1, discards: 0, bps: 10_000, pps: 10 }, out: zi }],
  };
}

const ours = (l: string) => /^(view_|interface_counters)|^flowbridge\.(eu1\.)?(views|interfaces)\./.test(l);

t.test('InfluxDB: view_<name> with the keys as tags, other rows, interface_counters', async (t) => {
  const sink = new InfluxSink({ api: 'v1' }, { metrics: new Metrics() });
  t.same(sink.format(summary()).filter(ours), [
    `view_remotehosts,direction=in,remotehost=198.51.100.7 bps=800,bytes=1000i,flows=2i,packets=10i,pps=1 ${TS}`,
    `view_remotehosts,direction=out,remotehost=2001:db8::1 bps=400,bytes=500i,flows=1i,packets=5i,pps=0.5 ${TS}`,
    `view_remotehosts,direction=in,remotehost=other bps=80,bytes=100i,flows=1i,packets=1i,pps=0.1 ${TS}`,
    `view_peers,network=home,remoteas=64500 bps=560,bytes=700i,flows=3i,packets=7i,pps=0.7 ${TS}`,
    `view_peers,network=other,remoteas=other bps=40,bytes=50i,flows=1i,packets=1i,pps=0.1 ${TS}`,
    `interface_counters,direction=in,exporter=192.0.2.1,ifIndex=3 bps=10000,discards=0i,errors=1i,ifSpeed=1000000000i,octets=12500i,pps=10,ucastPkts=100i ${TS}`,
    `interface_counters,direction=out,exporter=192.0.2.1,ifIndex=3 bps=0,discards=0i,errors=0i,ifSpeed=1000000000i,octets=0i,pps=0,ucastPkts=0i ${TS}`,
  ]);
  const inst = new InfluxSink({ api: 'v1', instance: 'eu1' }, { metrics: new Metrics() });
  t.ok(inst.format(summary()).filter(ours).every((l) => /^[^ ]*,instance=eu1[, ]/.test(l)), 'instance tag on every view and interface line');
  await Promise.all([sink.stop(), inst.stop()]);
});

function graphite(opts: ConstructorParameters<typeof GraphiteSink>[0], s = summary()): string[] {
  return new GraphiteSink(opts, { metrics: new Metrics() }).format(s).flatMap((c) => c.text.split('\n').filter(Boolean)).filter(ours);
}
const five = (path: string, [bytes, packets, flows]: [number, number, number]) =>
  [`${path}.bps ${(bytes * 8) / 10} ${TS}`, `${path}.bytes ${bytes} ${TS}`, `${path}.flows ${flows} ${TS}`,
    `${path}.packets ${packets} ${TS}`, `${path}.pps ${packets / 10} ${TS}`];

t.test('Graphite: views.<name>.<keys…>[.<direction>] and interfaces.<exporter>.<ifIndex>.<in|out>', async (t) => {
  t.same(graphite({}), [
    ...five('flowbridge.views.remotehosts.198_51_100_7.in', [1000, 10, 2]),
    ...five('flowbridge.views.remotehosts.2001-db8--1.out', [500, 5, 1]),
    ...five('flowbridge.views.remotehosts.other.in', [100, 1, 1]),
    ...five('flowbridge.views.peers.64500.home', [700, 7, 3]),
    ...five('flowbridge.views.peers.other.other', [50, 1, 1]),
    ...['bps 10000', 'discards 0', 'errors 1', 'ifSpeed 1000000000', 'octets 12500', 'pps 10', 'ucastPkts 100']
      .map((f) => `flowbridge.interfaces.192_0_2_1.3.in.${f} ${TS}`),
    ...['bps 0', 'discards 0', 'errors 0', 'ifSpeed 1000000000', 'octets 0', 'pps 0', 'ucastPkts 0']
      .map((f) => `flowbridge.interfaces.192_0_2_1.3.out.${f} ${TS}`),
  ]);
  const tagged = graphite({ tagged: true, instance: 'eu1' });
  t.equal(tagged.length, 39);
  t.ok(tagged.includes(`flowbridge.views.remotehosts.bytes;direction=out;instance=eu1;remotehost=2001:db8::1 500 ${TS}`));
  t.ok(tagged.includes(`flowbridge.views.peers.flows;instance=eu1;network=other;remoteas=other 1 ${TS}`));
  t.ok(tagged.includes(`flowbridge.interfaces.ucastPkts;direction=in;exporter=192.0.2.1;ifIndex=3;instance=eu1 100 ${TS}`));
  t.equal(graphite({ instance: 'eu1' })[0], `flowbridge.eu1.views.remotehosts.198_51_100_7.in.bps 800 ${TS}`);
});

t.test('view shapes: remembered without rows, group is network, a direction key beside the direction tag', async (t) => {
  const w = new SeriesWalker();
  const seen: string[] = [];
  const visit = (m: { name: string; tags: readonly string[] }, _k: string, tags: readonly string[]) => {
    if (m.name.startsWith('view_')) seen.push(`${m.name} ${m.tags.map((k, i) => `${k}=${tags[i]}`).join(',')}`);
  };
  t.equal(w.walk(summary(), visit), 4 + 5 + 2 + 1, 'traffic, view rows and others, interface directions, collector');
  seen.length = 0;
  // the next interval: remotehosts has no listed row, only its other
  const s = summary();
  s.views = { remotehosts: [] };
  s.viewsOther = { remotehosts: { in: z, out: { bytes: 9, packets: 1, flows: 1 } } };
  s.interfaces = undefined;
  t.equal(w.walk(s, visit), 4 + 1 + 1);
  t.same(seen, ['view_remotehosts remotehost=other,direction=out'], 'the key tags from the earlier rows');
  t.same(viewMeasurement('d.x', ['direction', 'group'], true).tags, ['flowdirection', 'network', 'direction']);
  t.same(viewMeasurement('d.x', ['direction'], false), { name: 'view_d.x', graphite: 'views.d_x', tags: ['direction'], pathTags: 1,
    fields: viewMeasurement('y', [], false).fields });
});
