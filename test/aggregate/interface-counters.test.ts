// Interface counter rises per interval of arrival: sums, rates, late rises, and the bounds.
import t from 'tap';
import { InterfaceCounters } from '../../src/aggregate/interface-counters.js';
import { IfCounterDelta } from '../../src/decode/counters-sflow.js';
import { Metrics } from '../../src/lib/counters.js';

const I = 10_000;
const K = 180_000_000; // an interval index: K * I is epoch ms
const at = (k: number, s = 0) => k * I + s * 1000;

function delta(p: Partial<IfCounterDelta> = {}): IfCounterDelta {
  return Object.assign(new IfCounterDelta(), { agent: '192.0.2.1', ifIndex: 3, ifSpeed: 1e9 }, p);
}

t.test('two rises in one interval add up; rates are over the interval', (t) => {
  const ic = new InterfaceCounters({ intervalMs: I });
  ic.add(delta({ inOctets: 1000, inUcastPkts: 10, outOctets: 250, outErrors: 1 }), at(K, 1));
  ic.add(delta({ inOctets: 500, inUcastPkts: 5, inDiscards: 2, outOctets: 0, ifSpeed: 1e10 }), at(K, 9.999));
  t.equal(ic.take(K - 1, 10), undefined, 'nothing in the interval before');
  t.same(ic.take(K, 10), [{
    exporter: '192.0.2.1', ifIndex: 3, ifSpeed: 1e10,
    in: { octets: 1500, ucastPkts: 15, errors: 0, discards: 2, bps: 1200, pps: 1.5 },
    out: { octets: 250, ucastPkts: 0, errors: 1, discards: 0, bps: 200, pps: 0 },
  }]);
  t.equal(ic.take(K, 10), undefined, 'taken once');
  t.equal(ic.size, 0);
  t.end();
});

t.test('rises across an interval boundary go to the interval each arrived in', (t) => {
  const ic = new InterfaceCounters({ intervalMs: I });
  ic.add(delta({ inOctets: 100 }), at(K, 9.999));
  ic.add(delta({ inOctets: 200 }), at(K + 1));
  ic.add(delta({ inOctets: 300, ifIndex: 1 }), at(K + 1, 5));
  ic.add(delta({ inOctets: 7, agent: '192.0.2.0' }), at(K + 1, 5));
  t.same(ic.take(K, 10)!.map((r) => r.in.octets), [100]);
  t.same(ic.take(K + 1, 10)!.map((r) => [r.exporter, r.ifIndex, r.in.octets]),
    [['192.0.2.0', 3, 7], ['192.0.2.1', 1, 300], ['192.0.2.1', 3, 200]], 'sorted by exporter, ifIndex');
  t.end();
});

t.test('a rise for an emitted interval goes to the next one and is counted late; skipped intervals join the next taken', (t) => {
  const m = new Metrics();
  const ic = new InterfaceCounters({ intervalMs: I, metrics: m });
  ic.add(delta({ inOctets: 1 }), at(K));
  ic.add(delta({ inOctets: 2 }), at(K + 1));
  ic.add(delta({ inOctets: 4 }), at(K + 3));
  // interval K+1 and K+2 are never emitted (a replay skipping empty intervals): K+1's rows join K+3's
  t.same(ic.take(K, 10)!.map((r) => r.in.octets), [1]);
  t.same(ic.take(K + 3, 10)!.map((r) => r.in.octets), [6]);
  t.equal(m.total('interface_counters_late_total'), 1);
  ic.add(delta({ inOctets: 8 }), at(K + 2)); // its interval is gone: the next one to be emitted
  t.equal(m.total('interface_counters_late_total'), 2);
  t.equal(ic.take(K + 3, 10), undefined);
  t.same(ic.take(K + 4, 10)!.map((r) => r.in.octets), [8]);
  t.end();
});

t.test('bounded: interfaces per interval and open intervals', (t) => {
  const m = new Metrics();
  const ic = new InterfaceCounters({ intervalMs: I, maxInterfaces: 2, maxIntervals: 3, metrics: m });
  for (let i = 1; i <= 5; i++) ic.add(delta({ ifIndex: i, inOctets: i }), at(K));
  ic.add(delta({ ifIndex: 1, inOctets: 10 }), at(K)); // a known interface still adds up
  t.equal(ic.size, 2);
  t.equal(m.total('interface_counters_dropped_total'), 3);
  ic.add(delta({ ifIndex: 1, inOctets: 100 }), at(K + 1));
  ic.add(delta({ ifIndex: 1, inOctets: 1000 }), at(K + 2));
  // a fourth open interval folds the oldest (K) into the next (K+1): totals kept, each row counted late
  ic.add(delta({ ifIndex: 7, inOctets: 5 }), at(K + 3));
  t.equal(m.total('interface_counters_late_total'), 2);
  t.equal(ic.take(K, 10), undefined);
  t.same(ic.take(K + 1, 10)!.map((r) => [r.ifIndex, r.in.octets]), [[1, 111], [2, 2]]);
  t.same(ic.take(K + 3, 10)!.map((r) => [r.ifIndex, r.in.octets]), [[1, 1000], [7, 5]], 'K+2, never emitted, joins K+3');
  t.equal(ic.size, 0);
  t.equal(m.total('interface_counters_late_total'), 3);
  t.end();
});

t.test('sums are capped at 2^53 - 1 and counted', (t) => {
  const m = new Metrics();
  const ic = new InterfaceCounters({ intervalMs: I, metrics: m });
  ic.add(delta({ inOctets: 2 ** 52 }), at(K));
  ic.add(delta({ inOctets: 2 ** 52 }), at(K));
  ic.add(delta({ inOctets: 2 ** 52 }), at(K));
  t.equal(ic.take(K, 10)![0]!.in.octets, Number.MAX_SAFE_INTEGER);
  t.equal(m.total('aggregate_counters_saturated_total'), 2, 'each capped addition');
  t.end();
});
