import t from 'tap';
import { Aggregator } from '../../src/aggregate/aggregator.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { IpVersion } from '../../src/flow/record.js';
import { testRecord } from '../helpers/record.js';

const IN = 0, OUT = 1, INTERNAL = 2, EXTERNAL = 3;

const rec = testRecord;

const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** An aggregator whose clock follows each record's arrival, as the live pipeline drives it. */
function collect(cfg: ConstructorParameters<typeof Aggregator>[0] = {}) {
  const out: IntervalSummary[] = [];
  const agg = new Aggregator({ holdMs: 0, ...cfg }, (s) => out.push(s));
  const add = agg.add.bind(agg);
  agg.add = (r, d, sg, dg, at) => {
    agg.setClock(at);
    add(r, d, sg, dg, at);
  };
  return { agg, out };
}

t.test('spreads a record evenly over the intervals it covers, exactly', (t) => {
  const { agg, out } = collect({ holdMs: 60_000 });
  // 25 s flow from 5 s to 30 s: 5 s in [0,10), 10 s in [10,20), 10 s in [20,30)
  agg.add(rec({ startMs: 5000, endMs: 30000, bytes: 1001, packets: 7, protocol: 6, srcPort: 443, dstPort: 50000, dst4: ip(10, 1, 0, 9), src4: ip(8, 8, 8, 8) }), IN, -1, 0, 30000);
  agg.flush();
  t.equal(out.length, 3);
  t.same(out.map((s) => s.start), [0, 10, 20]);
  const bytes = out.map((s) => s.directions.in.bytes);
  t.same(bytes, [200, 401, 400], 'proportional with cumulative rounding');
  t.equal(bytes.reduce((a, b) => a + b), 1001);
  t.equal(out.map((s) => s.directions.in.packets).reduce((a, b) => a + b), 7);
  t.same(out.map((s) => s.directions.in.flows), [1, 1, 1], 'a flow counts as active in each interval');
  t.same(out.map((s) => s.stats.records), [0, 0, 1], 'the record itself is counted once');
  t.equal(out[1]!.directions.in.bps, 320.8, 'bps = bytes*8/interval');
  t.end();
});

t.test('assign=end and assign=arrival put everything in one interval', (t) => {
  for (const [assign, k] of [['end', 2], ['arrival', 4]] as const) {
    const { agg, out } = collect({ assign, holdMs: 60_000 });
    agg.add(rec({ startMs: 5000, endMs: 25000, bytes: 100, packets: 1 }), EXTERNAL, -1, -1, 45000);
    agg.flush();
    const hit = out.filter((s) => s.directions.external.bytes > 0);
    t.equal(hit.length, 1, assign);
    t.equal(hit[0]!.start, k * 10, assign);
  }
  t.end();
});

t.test('sampling rate multiplies bytes, packets and flows', (t) => {
  const { agg, out } = collect();
  agg.add(rec({ startMs: 1000, endMs: 1000, bytes: 100, packets: 2, samplingRate: 64 }), OUT, 0, -1, 1000);
  agg.flush();
  t.same(out[0]!.directions.out, { bytes: 6400, packets: 128, flows: 64, bps: 5120, pps: 12.8 });
  t.end();
});

t.test('an interval stays open for hold; later portions go to the current interval as late', (t) => {
  const { agg, out } = collect({ holdMs: 20_000 });
  agg.add(rec({ startMs: 1000, endMs: 2000, bytes: 10, packets: 1 }), IN, -1, 0, 2000);
  agg.advance(29_999);
  t.equal(out.length, 0, 'interval 0 closes at 10 s + 20 s hold');
  agg.add(rec({ startMs: 3000, endMs: 4000, bytes: 5, packets: 1 }), IN, -1, 0, 29_999);
  agg.advance(30_000);
  t.equal(out.length, 1);
  t.equal(out[0]!.directions.in.bytes, 15, 'within hold: counted in its own interval');
  agg.add(rec({ startMs: 3000, endMs: 4000, bytes: 7, packets: 1 }), IN, -1, 0, 30_000);
  t.equal(agg.lateTotal, 1);
  agg.flush();
  const rest = out.slice(1);
  t.equal(rest.reduce((a, s) => a + s.directions.in.bytes, 0), 7, 'late bytes are not lost');
  t.equal(rest.find((s) => s.directions.in.bytes === 7)!.start, 30, 'they land in the current interval');
  t.equal(rest.find((s) => s.directions.in.bytes === 7)!.stats.late, 1);
  t.same(out.map((s) => s.start), [0, 10, 20, 30], 'empty intervals are emitted too, in order');
  t.end();
});

t.test('hosts: in = received, out = sent, internal counts for both; top N plus other equals totals', (t) => {
  const { agg, out } = collect({ topHosts: 2 });
  const A = ip(10, 0, 0, 1), B = ip(10, 0, 0, 2), C = ip(10, 0, 0, 3), X = ip(198, 51, 100, 1);
  agg.add(rec({ startMs: 0, endMs: 0, src4: X, dst4: A, bytes: 300, packets: 3 }), IN, -1, 0, 0);
  agg.add(rec({ startMs: 0, endMs: 0, src4: X, dst4: B, bytes: 200, packets: 2 }), IN, -1, 0, 0);
  agg.add(rec({ startMs: 0, endMs: 0, src4: X, dst4: C, bytes: 100, packets: 1 }), IN, -1, 0, 0);
  agg.add(rec({ startMs: 0, endMs: 0, src4: A, dst4: B, bytes: 50, packets: 1 }), INTERNAL, 0, 0, 0);
  agg.add(rec({ startMs: 0, endMs: 0, src4: C, dst4: X, bytes: 40, packets: 1 }), OUT, 0, -1, 0);
  agg.flush();
  const s = out[0]!;
  const recv = s.hosts.filter((h) => h.direction === 'in');
  t.same(recv.map((h) => [h.host, h.bytes]), [['10.0.0.1', 300], ['10.0.0.2', 250]]);
  t.same(s.hostsOther.in, { bytes: 100, packets: 1, flows: 1 });
  const sum = recv.reduce((a, h) => a + h.bytes, 0) + s.hostsOther.in.bytes;
  t.equal(sum, s.directions.in.bytes + s.directions.internal.bytes);
  const sent = s.hosts.filter((h) => h.direction === 'out');
  t.same(sent.map((h) => [h.host, h.bytes]), [['10.0.0.1', 50], ['10.0.0.3', 40]]);
  t.same(s.groups.map((g) => [g.group, g.direction, g.bytes]), [['home', 'in', 650], ['home', 'out', 90]]);
  t.end();
});

t.test('ports use the lower (service) port; ports + other equals each direction', (t) => {
  const { agg, out } = collect({ topPorts: 1 });
  agg.add(rec({ startMs: 0, endMs: 0, protocol: 6, srcPort: 51000, dstPort: 443, bytes: 100, packets: 1 }), OUT, 0, -1, 0);
  agg.add(rec({ startMs: 0, endMs: 0, protocol: 6, srcPort: 443, dstPort: 51001, bytes: 900, packets: 1 }), IN, -1, 0, 0);
  agg.add(rec({ startMs: 0, endMs: 0, protocol: 17, srcPort: 53, dstPort: 40000, bytes: 80, packets: 1 }), IN, -1, 0, 0);
  agg.add(rec({ startMs: 0, endMs: 0, protocol: 1, bytes: 60, packets: 1 }), IN, -1, 0, 0);
  agg.flush();
  const s = out[0]!;
  t.same(s.ports.map((p) => [p.protocol, p.port, p.direction, p.bytes]), [['tcp', 443, 'in', 900], ['tcp', 443, 'out', 100]]);
  t.equal(s.portsOther.in.bytes, 140);
  t.same(s.protocols.map((p) => [p.protocol, p.direction, p.bytes]),
    [['icmp', 'in', 60], ['tcp', 'in', 900], ['tcp', 'out', 100], ['udp', 'in', 80]]);
  t.same(s.exporters.map((e) => [e.exporter, e.bytes, e.records]), [['192.0.2.1', 1140, 4]]);
  t.end();
});

t.test('a million distinct hosts: the table stays capped and totals stay exact', (t) => {
  const { agg, out } = collect({ maxHosts: 5000, topHosts: 10 });
  const r = rec({ startMs: 0, endMs: 0, bytes: 3, packets: 1, src4: ip(203, 0, 113, 1) });
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 1_000_000; i++) {
    r.dst4 = (ip(10, 0, 0, 0) + i) >>> 0;
    agg.add(r, IN, -1, 0, 0);
  }
  const grown = process.memoryUsage().rss - before;
  agg.flush();
  const s = out[0]!;
  t.equal(s.directions.in.bytes, 3_000_000);
  t.equal(s.hosts.length, 10);
  t.equal(s.hosts.reduce((a, h) => a + h.bytes, 0) + s.hostsOther.in.bytes, 3_000_000);
  t.equal(s.stats.hostOverflow, 1_000_000 - 5000);
  t.ok(grown < 100 * 1024 * 1024, `RSS grew ${Math.round(grown / 1e6)} MB for 1M hosts with a 5000 cap`);
  t.end();
});

t.test('maxHosts bounds the hosts of the open intervals; a closed interval frees its hosts', (t) => {
  const { agg, out } = collect({ maxHosts: 2 });
  const to = (d: number, at: number) => agg.add(rec({ startMs: at, endMs: at, bytes: 10, packets: 1, dst4: ip(10, 1, 0, d), src4: ip(8, 8, 8, 8) }), IN, -1, 0, at);
  to(1, 1000); to(2, 2000); to(3, 3000);
  agg.advance(10_000);
  to(3, 11_000); to(4, 12_000); to(1, 13_000);
  agg.flush();
  t.same(out.map((s) => s.hosts.map((h) => h.host).sort()), [['10.1.0.1', '10.1.0.2'], ['10.1.0.3', '10.1.0.4']]);
  t.same(out.map((s) => s.stats.hostOverflow), [1, 1], 'the third host of each interval went to other');
  t.same(out.map((s) => s.hostsOther.in.bytes), [10, 10]);
  t.end();
});

t.test('a host spread over open intervals keeps its counts when another interval closes', (t) => {
  const { agg, out } = collect({ holdMs: 30_000, maxHosts: 4, maxPorts: 2 }); // half full: compacted
  const r = (d: number, s: number, e: number, bytes: number) => rec({ startMs: s, endMs: e, bytes, packets: 1, protocol: 17, srcPort: 53, dstPort: 40000 + d, dst4: ip(10, 1, 0, d), src4: ip(8, 8, 8, 8) });
  agg.add(r(5, 1000, 1000, 7), IN, -1, 0, 1000); // host 5: interval 0 only, first id
  agg.add(r(6, 5000, 25_000, 300), IN, -1, 0, 25_000); // host 6: intervals 0, 1 and 2
  agg.advance(40_000); // interval 0 closes: host 5's id goes, host 6's is renumbered
  t.equal(out.length, 1);
  agg.add(r(7, 21_000, 21_000, 11), IN, -1, 0, 41_000);
  agg.add(r(6, 22_000, 22_000, 13), IN, -1, 0, 42_000);
  agg.flush();
  const rows = out.map((s) => s.hosts.map((h) => `${h.host} ${h.bytes}`).sort());
  t.same(rows, [['10.1.0.5 7', '10.1.0.6 75'], ['10.1.0.6 150'], ['10.1.0.6 88', '10.1.0.7 11']]);
  t.same(out.map((s) => s.ports.map((p) => `${p.port} ${p.bytes}`)), [['53 82'], ['53 150'], ['53 99']]);
  t.end();
});

t.test('a closed interval\'s window serves a later interval and starts empty', (t) => {
  const { agg, out } = collect({ maxHosts: 1, maxPorts: 1, maxExporters: 1 });
  const r = (host: number, exporter: string, port: number, at: number) => rec({ exporter, startMs: at, endMs: at, bytes: 100, packets: 2, protocol: 6, srcPort: port, dstPort: 50000, dst4: ip(10, 1, 0, host), src4: ip(8, 8, 8, 8) });
  agg.add(r(1, 'a', 80, 1000), IN, -1, 0, 1000);
  agg.add(r(2, 'b', 443, 2000), IN, -1, 0, 2000); // over every limit: "other" and overflow counts
  agg.advance(12_000); // interval 0 closes; its window is kept for reuse
  agg.add(r(3, 'c', 22, 12_000), OUT, 0, -1, 12_000);
  agg.advance(30_000);
  t.equal(out.length, 3);
  const [, s1, s2] = out;
  t.same(s1!.hosts.map((h) => `${h.host} ${h.direction} ${h.bytes}`), ['8.8.8.8 out 100']);
  t.same(s1!.ports.map((p) => `${p.port} ${p.direction} ${p.bytes}`), ['22 out 100']);
  t.same(s1!.exporters.map((e) => `${e.exporter} ${e.records}`), ['c 1']);
  t.same([s1!.directions.in.bytes, s1!.directions.out.bytes, s1!.hostsOther.in.bytes, s1!.portsOther.in.bytes], [0, 100, 0, 0]);
  t.same(s1!.groups.map((g) => `${g.group} ${g.direction} ${g.bytes}`), ['home out 100']);
  t.same([s1!.stats.records, s1!.stats.hostOverflow, s1!.stats.portOverflow, s1!.stats.exporterOverflow], [1, 0, 0, 0]);
  t.same([s2!.stats.records, s2!.hosts.length, s2!.protocols.length, s2!.directions.out.bytes], [0, 0, 0, 0], 'an empty interval on a reused window');
  t.end();
});

t.test('IPv6 hosts are keyed and printed in RFC 5952 form', (t) => {
  const { agg, out } = collect();
  const r = rec({ ipVersion: IpVersion.V6, startMs: 0, endMs: 0, bytes: 10, packets: 1 });
  Buffer.from('20010db8000100000000000000000005', 'hex').copy(r.dst6);
  agg.add(r, IN, -1, 0, 0);
  agg.flush();
  t.same(out[0]!.hosts.map((h) => h.host), ['2001:db8:1::5']);
  t.end();
});

t.test('live mode emits empty intervals from start() and rejects bad intervals', (t) => {
  const { agg, out } = collect();
  agg.start(100_000);
  agg.advance(130_000);
  t.same(out.map((s) => s.start), [100, 110, 120]);
  t.equal(out[0]!.directions.in.bytes, 0);
  agg.add(rec({ startMs: 50_000, endMs: 50_000, bytes: 1, packets: 1 }), IN, -1, 0, 130_000);
  t.equal(agg.lateTotal, 1, 'before start: late, into the current interval');
  t.throws(() => new Aggregator({ intervalMs: 1500 }, () => {}));
  t.end();
});
