// Hostile-record drills (issue 17, items 1, 5 and 9): crafted timestamps, counters and sampling rates in
// real datagrams through the live pipeline. Each must cost what a sound record costs, count once, and
// leave every total an exact integer that the sinks can write.
import t from 'tap';
import { loadConfig } from '../src/config/load.js';
import { Pipeline } from '../src/pipeline.js';
import type { IntervalSummary } from '../src/aggregate/summary.js';
import { cat, ip4, ipfix, set, tpl, u16, u32, u64, u8, type Field } from './decode/nf-build.js';
import { InfluxSink } from '../src/export/influx.js';
import { GraphiteSink } from '../src/export/graphite.js';
import { Metrics } from '../src/lib/counters.js';

const I = 10_000;
const T = 1_793_491_205_000; // 5 s into an interval
const EXPORTER = '192.0.2.10';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** IPFIX template 256: v4 addresses, 8-byte counters, protocol, ports, ms start/end, sampling interval. */
const FIELDS: Field[] = [[8, 4], [12, 4], [1, 8], [2, 8], [4, 1], [7, 2], [11, 2], [152, 8], [153, 8], [34, 4]];
/** counters of -1 are 2^64 - 1 on the wire */
interface Rec { bytes: number; packets: number; start: number; end: number; rate?: number; src?: string; dst?: string }
const counter = (v: number) => (v === -1 ? Buffer.alloc(8, 0xff) : u64(v));
function record(r: Rec): Buffer {
  return cat(ip4(r.src ?? '10.1.0.5'), ip4(r.dst ?? '198.51.100.7'), counter(r.bytes), counter(r.packets), u8(6), u16(443), u16(50000),
    u64(r.start), u64(r.end), u32(r.rate ?? 0));
}
function datagram(recs: Rec[], exportSec = Math.floor(T / 1000)): Buffer {
  return ipfix({ exportTime: exportSec }, set(2, tpl(256, FIELDS)), set(256, cat(...recs.map(record))));
}

/** A live pipeline (started at `startMs` without sockets; datagrams then set its clock) and what it emits. */
function live(overrides: object = {}, startMs = T) {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.0.0.0/8'] }, state: { file: '' }, ...overrides } });
  const out: IntervalSummary[] = [];
  const p = new Pipeline(cfg, { time: 'arrival', onSummary: (s) => out.push(s) });
  p.aggregator.start(startMs);
  const close = () => {
    p.aggregator.flush(true);
    return out;
  };
  const adjusted = (kind: string) => p.metrics.total('records_adjusted_total', { kind });
  return { p, out, close, adjusted };
}

const sum = (out: IntervalSummary[], f: (s: IntervalSummary) => number) => out.reduce((a, s) => a + f(s), 0);
const outBytes = (out: IntervalSummary[]) => sum(out, (s) => s.directions.out.bytes);
const outFlows = (out: IntervalSummary[]) => sum(out, (s) => s.directions.out.flows);

t.test('flowEndMilliseconds = 2^62: counted once, at its arrival, as bad_time; the clock is not moved', (t) => {
  const { p, close, adjusted } = live();
  p.onDatagram(datagram([{ bytes: 1500, packets: 1, start: T - 5000, end: 2 ** 62 }]), EXPORTER, T);
  const out = close();
  t.equal(adjusted('bad_time'), 1);
  t.equal(outBytes(out), 1500);
  t.equal(outFlows(out), 1, 'one flow, not one per interval crossed');
  t.ok(out.every((s) => s.start * 1000 <= T), 'no interval after the wall clock');
  t.equal(out.find((s) => s.directions.out.bytes > 0)!.start * 1000, Math.floor(T / I) * I, 'in the interval of its arrival');
  t.end();
});

t.test('a record from 1970 to now: bad_time, counted at its end, one flow (not 898 million)', (t) => {
  const { p, close, adjusted } = live();
  p.onDatagram(datagram([{ bytes: 123_456, packets: 100, start: 1000, end: T - 1000 }]), EXPORTER, T);
  const out = close();
  t.equal(adjusted('bad_time'), 1);
  t.equal(outBytes(out), 123_456);
  t.equal(outFlows(out), 1);
  t.equal(sum(out, (s) => s.stats.late), 0, 'at its end, which is open: nothing late');
  t.end();
});

t.test('NetFlow v5: 168 datagrams of records whose uptimes put start and end 24 days apart', (t) => {
  const { p, close, adjusted } = live();
  const day = 86_400_000;
  const b = Buffer.alloc(24 + 48 * 30);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(30, 2);
  b.writeUInt32BE(25 * day, 4); // sysUptime
  b.writeUInt32BE(Math.floor(T / 1000), 8);
  for (let i = 0; i < 30; i++) {
    const o = 24 + 48 * i;
    ip4('10.1.0.5').copy(b, o);
    ip4('198.51.100.7').copy(b, o + 4);
    b.writeUInt32BE(2, o + 16); // packets
    b.writeUInt32BE(1000, o + 20); // bytes
    b.writeUInt32BE(1 * day, o + 24); // first
    b.writeUInt32BE(25 * day, o + 28); // last
    b[o + 38] = 17;
  }
  for (let i = 0; i < 168; i++) p.onDatagram(b, EXPORTER, T);
  const out = close();
  t.equal(adjusted('bad_time'), 168 * 30);
  t.equal(outBytes(out), 168 * 30 * 1000);
  t.equal(outFlows(out), 168 * 30, 'each record one flow');
  t.end();
});

t.test('a sound 1-hour flow: spread over the open intervals, the part before them late in one step', (t) => {
  const { p, close, adjusted } = live({}, T - 100_000); // running for 100 s: more than the hold is open
  p.onDatagram(datagram([{ bytes: 3_600_001, packets: 3601, start: T - 3_600_000, end: T }]), EXPORTER, T);
  const out = close();
  t.equal(adjusted('bad_time'), 0, 'within aggregate.maxFlowDuration');
  t.equal(outBytes(out), 3_600_001, 'exact');
  t.equal(sum(out, (s) => s.directions.out.packets), 3601, 'exact');
  const touched = out.filter((s) => s.directions.out.flows > 0);
  // open at T: the intervals from (T - hold) on, 75 s of hold over 10 s intervals
  const openFirst = Math.floor((T - 75_000) / I), cur = Math.floor(T / I);
  t.equal(touched.length, cur - openFirst + 1, 'each open interval once');
  t.equal(outFlows(out), touched.length, 'one flow per interval touched');
  t.equal(sum(out, (s) => s.stats.late), 1, 'late once');
  const last = touched.at(-1)!;
  t.equal(last.start * 1000, cur * I);
  // the 55 s inside the open intervals got their own share; the rest landed in the current interval
  t.equal(touched[0]!.directions.out.bytes, 10_000, 'an open interval before the current one: its 10 s share');
  t.end();
});

t.test('counters past line rate and rates past sampling.maxRate: clamped, counted, exact integers in every sink', (t) => {
  const { p, close, adjusted } = live();
  const recs: Rec[] = [
    // 2^64 - 1 octets at 1:2^32-1
    { bytes: -1, packets: -1, start: T - 2000, end: T - 1000, rate: 2 ** 32 - 1 },
    // 2^40 bytes in 1 packet, unsampled
    { bytes: 2 ** 40, packets: 1, start: T - 2000, end: T - 1000 },
    // sound neighbour
    { bytes: 500, packets: 5, start: T - 2000, end: T - 1000, rate: 10 },
  ];
  for (let i = 0; i < 20; i++) p.onDatagram(datagram(recs), EXPORTER, T);
  const out = close();
  t.equal(adjusted('bad_sampling'), 20, 'rate 2^32-1 refused');
  t.equal(adjusted('bad_counter'), 40);
  const s = out.find((x) => x.directions.out.bytes > 0)!;
  for (const v of [s.directions.out.bytes, s.directions.out.packets, s.directions.out.flows]) {
    t.ok(Number.isSafeInteger(v), `${v} is an exact integer`);
  }
  // per record at most 1 Tb/s over 1 s = 1.25e11 bytes; the jumbo record at most 65,535 bytes
  t.equal(s.directions.out.bytes, 20 * (125_000_000_000 + 65_535 + 5000));
  const m = new Metrics();
  const lines = new InfluxSink({ url: 'http://127.0.0.1:9' }, { metrics: m }).format(s);
  const ints = lines.flatMap((l) => [...l.matchAll(/[a-zA-Z]+=([^,\s]+i)\b/g)].map((x) => x[1]!));
  t.ok(ints.length > 0);
  t.same(ints.filter((v) => !/^\d+i$/.test(v)), [], 'every InfluxDB integer field is digits');
  const g = new GraphiteSink({ host: '127.0.0.1', port: 9 }, { metrics: m });
  const glines = g.format(s).flatMap((c) => c.text.split('\n').filter(Boolean));
  t.same(glines.filter((l) => !/^\S+ -?\d+(\.\d+)? \d+$/.test(l)), [], 'every Graphite value is a plain number');
  t.end();
});

t.test('a summary holding more than 2^53 is capped, counted, and written as an integer', (t) => {
  const { p, close } = live();
  // 100 records each at line rate over 2 h: 9e14 bytes each, 9e16 in all
  const big: Rec = { bytes: 900_000_000_000_000, packets: 100_000_000_000, start: T - 7_200_000, end: T };
  for (let i = 0; i < 100; i++) p.onDatagram(datagram([big], Math.floor(T / 1000)), EXPORTER, T);
  const out = close();
  const cur = out.find((s) => s.start * 1000 === Math.floor(T / I) * I)!;
  t.equal(cur.directions.out.bytes, MAX_SAFE, 'capped at 2^53 - 1');
  t.ok(cur.stats.saturated! > 0, 'and counted');
  t.ok(p.metrics.total('aggregate_counters_saturated_total') > 0);
  t.end();
});

t.test('fractional sampling rates: integer counters whose sums stay exact', (t) => {
  const { p, close, adjusted } = live();
  // samplingPacketInterval 2, samplingPacketSpace 1: 1 in 1.5
  const fields: Field[] = [[8, 4], [12, 4], [1, 4], [2, 4], [4, 1], [153, 8], [305, 4], [306, 4]];
  for (let i = 0; i < 101; i++) {
    const one = cat(ip4(`10.1.0.${i + 1}`), ip4('198.51.100.7'), u32(101), u32(1), u8(17), u64(T - 1000), u32(2), u32(1));
    p.onDatagram(ipfix({ exportTime: Math.floor(T / 1000) }, set(2, tpl(257, fields)), set(257, one)), EXPORTER, T);
  }
  const out = close();
  t.equal(adjusted('bad_sampling'), 0);
  const s = out.find((x) => x.directions.out.bytes > 0)!;
  t.equal(s.directions.out.bytes, Math.floor(101 * 151.5), 'Σ 101 × 1.5 over 101 records, within one byte');
  t.equal(s.directions.out.packets, Math.floor(101 * 1.5));
  t.equal(s.directions.out.flows, Math.floor(101 * 1.5));
  t.ok(s.hosts.every((h) => Number.isInteger(h.bytes) && Number.isInteger(h.packets) && Number.isInteger(h.flows)), 'every row an integer');
  t.end();
});
