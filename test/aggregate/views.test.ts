import t from 'tap';
import { Aggregator } from '../../src/aggregate/aggregator.js';
import type { IntervalSummary, Totals, ViewRow } from '../../src/aggregate/summary.js';
import { DEFAULT_VIEWS, type ViewSpec } from '../../src/aggregate/views.js';
import { loadConfig } from '../../src/config/load.js';
import { replay } from '../../src/ingest/replay.js';
import { silentLogger } from '../../src/lib/log.js';
import { FlowRecord, IpVersion } from '../../src/flow/record.js';
import { testRecord } from '../helpers/record.js';

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const IN = 0, OUT = 1, INTERNAL = 2;
const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** a TCP record unless `o` says otherwise */
const rec = (o: Partial<FlowRecord>): FlowRecord => testRecord({ protocol: 6, ...o });

function collect(views: readonly ViewSpec[] = DEFAULT_VIEWS, extra: Partial<ConstructorParameters<typeof Aggregator>[0]> = {}) {
  const out: IntervalSummary[] = [];
  const agg = new Aggregator({ holdMs: 0, views, ...extra }, (s) => out.push(s));
  return { agg, out };
}

const sum = (rows: Totals[]) => rows.reduce((a, r) => ({ bytes: a.bytes + r.bytes, packets: a.packets + r.packets, flows: a.flows + r.flows }), { bytes: 0, packets: 0, flows: 0 });

t.test('the suggested views: interfaces count each side with its own direction, remote hosts by direction', (t) => {
  const { agg, out } = collect();
  agg.add(rec({ startMs: 1000, endMs: 1000, bytes: 100, packets: 1, src4: ip(8, 8, 8, 8), dst4: ip(10, 0, 0, 1), inIf: 3, outIf: 7 }), IN, -1, 0, 1000);
  agg.add(rec({ startMs: 2000, endMs: 2000, bytes: 50, packets: 2, src4: ip(10, 0, 0, 1), dst4: ip(8, 8, 4, 4), inIf: 7, outIf: 0 }), OUT, 0, -1, 2000);
  agg.add(rec({ startMs: 2000, endMs: 2000, bytes: 9, packets: 1, src4: ip(10, 0, 0, 1), dst4: ip(10, 0, 0, 2) }), INTERNAL, 0, 0, 2000);
  agg.flush();
  t.equal(out.length, 1);
  const s = out[0]!;
  t.same(s.views!.interfaces, [
    { key: { exporter: '192.0.2.1', interface: 3 }, direction: 'in', bytes: 100, packets: 1, flows: 1 },
    { key: { exporter: '192.0.2.1', interface: 7 }, direction: 'in', bytes: 50, packets: 2, flows: 1 },
    { key: { exporter: '192.0.2.1', interface: 7 }, direction: 'out', bytes: 100, packets: 1, flows: 1 },
  ]);
  t.same(Object.keys(s.viewsOther!.interfaces!), ['in', 'out']);
  t.same(s.views!.remotehosts, [
    { key: { remotehost: '8.8.8.8' }, direction: 'in', bytes: 100, packets: 1, flows: 1 },
    { key: { remotehost: '8.8.4.4' }, direction: 'out', bytes: 50, packets: 2, flows: 1 },
  ], 'internal traffic has no remote host');
    t.same(Object.keys(s.viewsOther!.remotehosts!), ['in', 'out'], 'a remote host exists for in and out traffic only');
  t.end();
});

t.test('any keys, per none, a filter, IPv6 and unsigned 32-bit values', (t) => {
  const { agg, out } = collect([
    { name: 'as', keys: ['remoteas', 'dscp'], top: 10, filter: 'protocol=udp', per: 'none' },
    { name: 'v6', keys: ['localhost', 'serviceport'], top: 10, filter: '', per: 'direction' },
  ]);
  const r6 = rec({ startMs: 1000, endMs: 1000, bytes: 10, packets: 1, ipVersion: IpVersion.V6, protocol: 17, srcPort: 53, dstPort: 40000, srcAs: 4_200_000_000, tos: 0xb8 });
  r6.src6.set(Buffer.from('20010db8000000000000000000000001', 'hex'));
  r6.dst6.set(Buffer.from('20010db8000100000000000000000002', 'hex'));
  agg.add(r6, IN, -1, 0, 1000);
  agg.add(rec({ startMs: 1000, endMs: 1000, bytes: 5, packets: 1, protocol: 1, srcAs: 64500 }), IN, -1, 0, 1000);
  agg.flush();
  const s = out[0]!;
  t.same(s.views!.as, [{ key: { remoteas: 4_200_000_000, dscp: 46 }, bytes: 10, packets: 1, flows: 1 }], 'per none: no direction; the TCP record filtered out');
  t.same(s.viewsOther!.as, { all: { bytes: 0, packets: 0, flows: 0 } });
  t.same(s.views!.v6, [{ key: { localhost: '2001:db8:1::2', serviceport: 53 }, direction: 'in', bytes: 10, packets: 1, flows: 1 }],
    'an ICMP record has no service port: not in the view');
  t.end();
});

t.test('top N per direction, the rest folded into other; spread portions add up exactly', (t) => {
  const { agg, out } = collect([{ name: 'r', keys: ['remotehost'], top: 2, filter: '', per: 'direction' }], { holdMs: 60_000 });
  agg.setClock(30_000);
  for (let i = 1; i <= 5; i++) {
    // 25 s records from 5 s to 30 s: three intervals each
    agg.add(rec({ startMs: 5000, endMs: 30000, bytes: 1000 * i + 1, packets: 7 * i, src4: ip(8, 8, 8, i), dst4: ip(10, 0, 0, 1) }), IN, -1, 0, 30000);
  }
  agg.flush();
  t.equal(out.length, 3);
  for (const s of out) {
    const rows = s.views!.r!;
    t.equal(rows.length, 2);
    t.same(rows.map((r) => r.key.remotehost), ['8.8.8.5', '8.8.8.4'], 'largest first');
    const all = sum([...rows, s.viewsOther!.r!.in!]);
    t.same(all, { bytes: s.directions.in.bytes, packets: s.directions.in.packets, flows: s.directions.in.flows });
  }
  t.equal(out.reduce((a, s) => a + sum([...s.views!.r!, s.viewsOther!.r!.in!]).bytes, 0), 15005, 'every byte, once');
  t.end();
});

t.test('a spoofed flood: tuples capped, counted, memory bounded, totals exact', (t) => {
  const { agg, out } = collect([{ name: 'r', keys: ['remotehost'], top: 5, filter: '', per: 'direction' }], { maxViewTuples: 300 });
  for (let i = 0; i < 20_000; i++) {
    agg.add(rec({ startMs: 1000, endMs: 1000, bytes: 40, packets: 1, src4: (ip(1, 0, 0, 0) + i) >>> 0, dst4: ip(10, 0, 0, 1) }), IN, -1, 0, 1000);
  }
  const view = (agg as unknown as { keys: { views: { views: { size: number }[] } } }).keys.views.views[0]!;
  t.equal(view.size, 300, 'ids bounded by the cap');
  agg.flush();
  const s = out[0]!;
  t.equal(s.views!.r!.length, 5);
  t.equal(s.stats.viewTuplesCapped!.r, 20_000 - 300, 'records past the cap counted');
  t.same(sum([...s.views!.r!, s.viewsOther!.r!.in!]), { bytes: 800_000, packets: 20_000, flows: 20_000 });
  t.equal(view.size, 0, 'ids freed once no open interval uses them');
  t.end();
});

t.test('setViews (reload): an unchanged view keeps counting, a new one starts empty, a removed one goes', (t) => {
  const keep: ViewSpec = { name: 'r', keys: ['remotehost'], top: 10, filter: '', per: 'direction' };
  const { agg, out } = collect([keep, { name: 'gone', keys: ['protocol'], top: 10, filter: '', per: 'none' }], { holdMs: 60_000 });
  agg.add(rec({ startMs: 1000, endMs: 1000, bytes: 10, packets: 1, src4: ip(8, 8, 8, 8), dst4: ip(10, 0, 0, 1) }), IN, -1, 0, 1000);
  agg.setViews([{ ...keep, keys: [...keep.keys] }, { name: 'new', keys: ['protocol'], top: 10, filter: '', per: 'none' }]);
  agg.add(rec({ startMs: 2000, endMs: 2000, bytes: 5, packets: 1, src4: ip(8, 8, 8, 8), dst4: ip(10, 0, 0, 1) }), IN, -1, 0, 2000);
  agg.flush();
  const s = out[0]!;
  t.same(Object.keys(s.views!), ['r', 'new']);
  t.same((s.views!.r as ViewRow[]).map((r) => r.bytes), [15], 'kept view: both records');
  t.same(s.views!.new, [{ key: { protocol: 6 }, bytes: 5, packets: 1, flows: 1 }], 'new view: from the reload on');
  t.throws(() => agg.setViews([{ ...keep, name: 'bad', filter: 'group=nosuch' }]), /unknown group/);
  t.end();
});

t.test('the capture: remote hosts + other = the direction totals, in and out', async (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] }, views: DEFAULT_VIEWS } });
  const summaries: IntervalSummary[] = [];
  await replay([`${FIX}pmacctd-ipfix.pcap`], cfg, { log: silentLogger, progress: false, onSummary: (s) => summaries.push(s) });
  t.ok(summaries.length > 1);
  let rows = 0;
  for (const d of ['in', 'out'] as const) {
    let views = 0, viewPackets = 0, dir = 0, dirPackets = 0;
    for (const s of summaries) {
      const mine = s.views!.remotehosts!.filter((r) => r.direction === d);
      rows += mine.length;
      const all = sum([...mine, s.viewsOther!.remotehosts![d]!]);
      views += all.bytes;
      viewPackets += all.packets;
      dir += s.directions[d].bytes;
      dirPackets += s.directions[d].packets;
    }
    t.ok(dir > 0, `${d}: traffic`);
    t.equal(views, dir, `${d}: bytes`);
    t.equal(viewPackets, dirPackets, `${d}: packets`);
  }
  t.ok(rows > 0, 'rows listed');
});

t.test('the pipeline: view_tuples_capped_total{view} and a reload of the views', async (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] }, aggregate: { maxViewTuples: 1 }, views: DEFAULT_VIEWS } });
  let capped = 0;
  const r = await replay([`${FIX}pmacctd-ipfix.pcap`], cfg, {
    log: silentLogger, progress: false, onSummary: (s) => { capped += s.stats.viewTuplesCapped?.remotehosts ?? 0; },
  });
  t.ok(capped > 0, 'a cap of 1 tuple is hit');
  t.equal(r.pipeline.metrics.total('view_tuples_capped_total'), capped, 'the metric counts what the summaries say');
  const next = loadConfig({ argv: [], env: {}, overrides: { views: [{ name: 'protocols', keys: ['protocol'] }] } });
  r.pipeline.reload(next);
  t.same(r.pipeline.aggregator.cfg.views.map((v) => v.name), ['interfaces', 'remotehosts'], 'the start configuration is not mutated');
  const bad = loadConfig({ argv: [], env: {}, overrides: { views: [{ name: 'x', keys: ['vlan'], filter: 'group=lab' }] } });
  t.throws(() => r.pipeline.reload(bad), /^config: views\[0\]\.filter = "group=lab"/, 'a filter naming an unknown group is refused');
  const groups = [...r.pipeline.groups.names], classifier = r.pipeline.classifier;
  const badWithNetworks = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16'], dmz: ['192.0.2.0/24'] }, views: [{ name: 'x', keys: ['vlan'], filter: 'group=lab' }] } });
  t.throws(() => r.pipeline.reload(badWithNetworks), /group=lab/);
  t.same(r.pipeline.groups.names, groups, 'a refused reload adds no group');
  t.equal(r.pipeline.classifier, classifier, 'and keeps the classifier');
});
