// The aggregator's work is bounded by the open intervals, never by a record's span or a jump of the clock.
import t from 'tap';
import { Aggregator } from '../../src/aggregate/aggregator.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { FlowRecord, IpVersion } from '../../src/flow/record.js';
import { loadConfig } from '../../src/config/load.js';
import { Pipeline } from '../../src/pipeline.js';
import { readUdpPackets } from '../../src/ingest/pcap.js';
import { directionTotals } from '../helpers/totals.js';

const I = 10_000, HOLD = 75_000;
const T = 1_793_491_200_000;
const YEAR = 365 * 86_400_000;
const OUT = 1;

function rec(startMs: number, endMs: number, bytes: number): FlowRecord {
  const r = new FlowRecord();
  r.clear();
  r.exporter = '192.0.2.1';
  r.ipVersion = IpVersion.V4;
  r.src4 = 0x0a010005;
  r.dst4 = 0xc6336407;
  Object.assign(r, { startMs, endMs, bytes, packets: 1, samplingRate: 1, scaledBytes: bytes, scaledPackets: 1, scaledFlows: 1 });
  return r;
}

t.test('live: the clock stepped 10 years forward emits what holds data and at most a hold\'s worth of empty intervals', (t) => {
  const out: IntervalSummary[] = [];
  const agg = new Aggregator({ intervalMs: I, holdMs: HOLD }, (s) => out.push(s));
  agg.start(T);
  agg.setClock(T + 5000);
  agg.add(rec(T + 1000, T + 4000, 100), OUT, 0, -1, T + 5000);
  agg.advance(T + 10 * YEAR);
  const maxEmpty = Math.ceil(HOLD / I) + 64;
  t.ok(out.length <= maxEmpty + 1, `${out.length} summaries`);
  t.equal(out[0]!.start * 1000, T, 'the interval holding data first');
  t.equal(out[0]!.directions.out.bytes, 100);
  t.equal(agg.skipped + out.length, Math.floor((T + 10 * YEAR - HOLD) / I) - T / I, 'every interval emitted or counted as skipped');
  t.ok(out.slice(1).every((s, i) => i === 0 || s.start === out[i]!.start + I / 1000), 'the empty ones are the latest, in order');
  t.end();
});

t.test('a record wholly before the open intervals is late once, whatever its span', (t) => {
  const out: IntervalSummary[] = [];
  const agg = new Aggregator({ intervalMs: I, holdMs: HOLD }, (s) => out.push(s));
  agg.start(T - 3_600_000);
  agg.setClock(T);
  agg.add(rec(T - 3_000_000, T - 2_000_000, 1_000_000), OUT, 0, -1, T);
  agg.flush(true);
  const hit = out.filter((s) => s.directions.out.bytes > 0);
  t.equal(hit.length, 1);
  t.same([hit[0]!.start * 1000, hit[0]!.directions.out.bytes, hit[0]!.directions.out.flows, hit[0]!.stats.late], [T, 1_000_000, 1, 1]);
  t.end();
});

t.test('replay: two captures years apart cost what their records cost, with exact totals', (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] } } });
  const out: IntervalSummary[] = [];
  const p = new Pipeline(cfg, { time: 'event', onSummary: (s) => out.push(s) });
  const fix = new URL('../fixtures/', import.meta.url).pathname;
  // NetFlow v5: record times count from the header's unixSecs, so moving it moves them
  const packets = [...readUdpPackets(`${fix}softflowd-v5.pcap`)];
  for (const d of packets) p.onDatagram(Buffer.from(d.payload), '127.0.0.1', d.tsMs);
  p.aggregator.flush();
  const once = directionTotals(out);
  const first = out.length;
  // the same datagrams exported and captured 5 years later
  const shift = 5 * YEAR;
  for (const d of packets) {
    const b = Buffer.from(d.payload);
    b.writeUInt32BE(b.readUInt32BE(8) + shift / 1000, 8);
    p.onDatagram(b, '127.0.0.1', d.tsMs + shift);
  }
  p.aggregator.flush();
  const twice = Object.fromEntries(Object.entries(once).map(([k, [b, n]]) => [k, [2 * b, 2 * n]]));
  t.ok(Object.keys(once).length > 0);
  t.same(directionTotals(out), twice, 'both copies counted exactly');
  t.ok(out.length < 2 * first + 100, `${out.length} summaries, not one per interval of 5 years (${shift / I})`);
  t.ok(p.aggregator.skipped > 15_000_000, `${p.aggregator.skipped} empty intervals skipped`);
  t.end();
});
