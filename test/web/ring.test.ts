// The web page's bounded history: ring wrap-around, pruning by the newest summary's clock, `since`
// filters, and the trimmed page view that keeps the documented sums.
import t from 'tap';
import type { IntervalSummary, HostRow, PortRow, ViewRow } from '../../src/aggregate/summary.js';
import type { AlertEvent } from '../../src/alert/event.js';
import { History, Ring, TrimmedViews, trimSummary } from '../../src/web/ring.js';

const zero = () => ({ bytes: 0, packets: 0, flows: 0 });
const rate = () => ({ ...zero(), bps: 0, pps: 0 });

function summary(start: number, interval = 10, hosts: HostRow[] = [], ports: PortRow[] = []): IntervalSummary {
  return {
    start, end: start + interval, interval,
    directions: { in: rate(), out: rate(), internal: rate(), external: rate() },
    hosts, hostsOther: { in: zero(), out: zero() },
    ports, portsOther: { in: zero(), out: zero(), internal: zero(), external: zero() },
    protocols: [], groups: [], exporters: [],
    stats: { records: 0, late: 0, hostOverflow: 0, portOverflow: 0, exporterOverflow: 0, collector: {} },
  };
}

t.test('Ring keeps the newest `capacity` entries, oldest first, and counts what it overwrote', async (t) => {
  t.throws(() => new Ring(0), RangeError);
  t.throws(() => new Ring(1.5), RangeError);
  const r = new Ring<number>(3);
  t.strictSame(r.toArray(), []);
  t.equal(r.newest(), undefined);
  for (let i = 1; i <= 7; i++) r.push(i);
  t.strictSame(r.toArray(), [5, 6, 7]);
  t.equal(r.size, 3);
  t.equal(r.evicted, 4);
  t.equal(r.at(0), 5);
  t.equal(r.at(3), undefined);
  t.equal(r.at(-1), undefined);
  t.equal(r.newest(), 7);
  t.strictSame(r.toArray((x) => x % 2 === 1), [5, 7]);
  r.pruneWhile((x) => x < 7);
  t.strictSame(r.toArray(), [7]);
  t.equal(r.evicted, 6);
  r.push(8);
  r.push(9);
  r.push(10);
  t.strictSame(r.toArray(), [8, 9, 10], 'wraps correctly after pruning');
  r.pruneWhile(() => true);
  t.equal(r.size, 0);
});

t.test('History holds `history` worth of intervals by the newest summary, not the wall clock', async (t) => {
  const h = new History({ historyMs: 60_000, intervalSec: 10, alerts: 2 });
  t.equal(h.summaries.capacity, 7, 'six intervals plus one spare');
  const t0 = 1793491200; // 2026-11-01: far from "now", as in a replay
  for (let i = 0; i < 10; i++) h.addSummary(summary(t0 + i * 10));
  t.strictSame(h.intervals().map((s) => s.start), [40, 50, 60, 70, 80, 90].map((x) => t0 + x), 'the last 60 s');
  t.strictSame(h.intervals(t0 + 70).map((s) => s.start), [t0 + 70, t0 + 80, t0 + 90]);
  t.strictSame(h.intervals(t0 + 1000), []);
  // a gap (collector stopped for an hour): everything older than 60 s before the new one goes
  h.addSummary(summary(t0 + 3600));
  t.strictSame(h.intervals().map((s) => s.start), [t0 + 3600]);
  t.equal(h.evicted, 10, "4 aged out before, 6 after the gap");

  const a = (time: number): AlertEvent => ({ kind: 'event', name: 'x', keys: {}, value: 1, metric: 'flows', start: 0, end: 10, time });
  h.addAlert(a(1));
  h.addAlert(a(2));
  h.addAlert(a(3));
  t.strictSame(h.recentAlerts().map((x) => x.time), [2, 3], 'only the newest alerts');
  t.strictSame(h.recentAlerts(3).map((x) => x.time), [3]);
  t.equal(h.evicted, 11);
});

t.test('trimSummary keeps the top N per direction and folds the rest into "other"', async (t) => {
  const host = (n: number, direction: 'in' | 'out', bytes: number): HostRow =>
    ({ host: `10.0.0.${n}`, group: 'home', direction, bytes, packets: bytes / 100, flows: 1 });
  const port = (p: number, direction: PortRow['direction'], bytes: number): PortRow =>
    ({ protocol: 'tcp', port: p, direction, bytes, packets: bytes / 100, flows: 1 });
  const s = summary(0, 10,
    [host(1, 'in', 100), host(2, 'in', 300), host(3, 'in', 200), host(4, 'out', 500)],
    [port(80, 'in', 100), port(443, 'in', 500), port(22, 'external', 50), port(25, 'external', 70), port(53, 'out', 1)]);
  s.hostsOther.in = { bytes: 1000, packets: 10, flows: 5 };
  const frozen = JSON.stringify(s);
  const v = trimSummary(s, 1);
  t.equal(JSON.stringify(s), frozen, 'the shared summary is not modified');
  t.strictSame(v.hosts.map((h) => h.host), ['10.0.0.2', '10.0.0.4'], 'largest per direction');
  t.strictSame(v.hostsOther.in, { bytes: 1300, packets: 13, flows: 7 });
  t.strictSame(v.hostsOther.out, zero());
  t.strictSame(v.ports.map((p) => p.port), [443, 25, 53]);
  t.strictSame(v.portsOther.in, { bytes: 100, packets: 1, flows: 1 });
  t.strictSame(v.portsOther.external, { bytes: 50, packets: 0.5, flows: 1 });
  t.strictSame(v.directions, s.directions);
  t.equal(trimSummary(s, 3), s, 'nothing to trim: the same object');

  const views = new TrimmedViews();
  const a = views.get(s, 1);
  t.equal(views.get(s, 1), a, 'memoized');
  t.not(views.get(s, 2), a, 'another N is computed anew');
  t.strictSame(views.get(s, 2).hosts.length, 3);
});

t.test('trimSummary trims each view per direction too, its rest into viewsOther (per: none under "all")', async (t) => {
  const row = (remotehost: string, direction: ViewRow['direction'], bytes: number): ViewRow =>
    ({ key: { remotehost }, ...(direction ? { direction } : {}), bytes, packets: bytes / 100, flows: 1 });
  const s = summary(0);
  s.views = {
    remotehosts: [row('a', 'in', 100), row('b', 'in', 300), row('c', 'out', 50)],
    peers: [row('a', undefined, 10), row('b', undefined, 20)],
    small: [row('a', 'in', 1)],
  };
  s.viewsOther = { remotehosts: { in: { bytes: 5, packets: 1, flows: 1 }, out: zero() }, peers: { all: zero() }, small: { in: zero() } };
  const frozen = JSON.stringify(s);
  const v = trimSummary(s, 1);
  t.equal(JSON.stringify(s), frozen, 'the shared summary is not modified');
  t.strictSame(v.views!.remotehosts!.map((r) => r.key.remotehost), ['b', 'c']);
  t.strictSame(v.viewsOther!.remotehosts, { in: { bytes: 105, packets: 2, flows: 2 }, out: zero() }, 'Σ rows + other unchanged');
  t.strictSame(v.views!.peers!.map((r) => r.key.remotehost), ['b']);
  t.strictSame(v.viewsOther!.peers, { all: { bytes: 10, packets: 0.1, flows: 1 } });
  t.equal(v.views!.small, s.views.small, 'a view with nothing to trim is shared');
  t.equal(trimSummary(s, 2), s, 'nothing to trim: the same object');
});
