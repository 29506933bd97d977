// sFlow counter samples end to end: a capture built here (the pmacctd sFlow fixture carries no counter
// samples) replayed through replay(), its summaries' `interfaces` checked against the counters tshark
// reads from the same capture: per interface, the rises summed over the intervals are the last sample
// less the first (a 32-bit wrap included, the restart's drop excluded), each in the interval it arrived in.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { replay } from '../../src/ingest/replay.js';
import { silentLogger } from '../../src/lib/log.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { cat, hex, ip4, u32, u64 } from './nf-build.js';
import { writePcap, type Captured } from '../helpers/pcap-write.js';

const TWO32 = 2 ** 32;
const T0 = 1_800_000_000_000; // a multiple of the 10 s interval
const I = 10_000;
const AGENT = '192.0.2.1';

const entry = (format: number, body: Buffer) => cat(u32(format), u32(body.length), body);

interface If {
  ifIndex: number;
  ifSpeed: number;
  inOctets: number;
  inUcast: number;
  inDiscards: number;
  inErrors: number;
  outOctets: number;
  outUcast: number;
  outDiscards: number;
  outErrors: number;
}

/** Counter sample 0:2 holding one generic interface counters record 0:1 (88 bytes). */
const counterSample = (seq: number, c: If) => entry(2, cat(u32(seq), u32(c.ifIndex), u32(1), entry(1, cat(
  u32(c.ifIndex), u32(6), u64(c.ifSpeed), u32(1), u32(3),
  u64(c.inOctets), u32(c.inUcast), u32(0), u32(0), u32(c.inDiscards), u32(c.inErrors), u32(0),
  u64(c.outOctets), u32(c.outUcast), u32(0), u32(0), u32(c.outDiscards), u32(c.outErrors), u32(0)))));

// one sampled TCP packet 10.1.0.48 -> 198.51.100.53: the replay's event clock moves with the datagrams
const FRAME = hex(`020000000002 020000000001 0800 4500 0034 1234 4000 4006 0000 0a010030 c6336435
  a0b8 01bb 00000001 00000000 5018 ffff 0000 0000`);
const flowSample = (seq: number) => entry(1, cat(u32(seq), u32(3), u32(1), u32(seq), u32(0), u32(3), u32(4), u32(1),
  entry(1, cat(u32(1), u32(FRAME.length + 4), u32(4), u32(FRAME.length), FRAME, Buffer.alloc((4 - (FRAME.length % 4)) % 4)))));

let dgSeq = 0;
const datagram = (uptimeMs: number, samples: Buffer[]) =>
  cat(u32(5), u32(1), ip4(AGENT), u32(0), u32(++dgSeq), u32(uptimeMs), u32(samples.length), ...samples);

/** Arrival (s after T0) and each interface's counters; ifIndex 4's agent restarts at 101 s. */
function scenario(): Captured[] {
  const packets: Captured[] = [];
  const a: If = { ifIndex: 3, ifSpeed: 1e9, inOctets: 2 ** 40 + 5, inUcast: TWO32 - 1000, inDiscards: 7, inErrors: 1,
    outOctets: 123_456_789, outUcast: 10, outDiscards: 0, outErrors: 0 };
  const b: If = { ifIndex: 4, ifSpeed: 1e10, inOctets: 9_000_000, inUcast: 80_000, inDiscards: 0, inErrors: 0,
    outOctets: 4_000_000_000, outUcast: 3_000_000, outDiscards: 2, outErrors: 0 };
  const times = [1, 21, 25, 41, 61, 81, 101, 121];
  let seqA = 100, seqB = 200;
  for (const [n, s] of times.entries()) {
    if (n > 0) {
      a.inOctets += 600_000 + n; a.inUcast = (a.inUcast + 600 + n) % TWO32; a.inErrors += n % 2; a.inDiscards += 1;
      a.outOctets += 90_000 * n; a.outUcast += 70; a.outErrors += 1;
    }
    if (s === 101) { // restart: counters and sequence back near zero
      b.inOctets = 5000; b.inUcast = 40; b.outOctets = 3000; b.outUcast = 30; b.outDiscards = 0; seqB = 1;
    } else if (n > 0) {
      b.inOctets += 1_000_000 * n; b.inUcast += 800; b.outOctets += 2_000_000; b.outUcast += 1500; b.outDiscards += 1;
    }
    packets.push({ tsMs: T0 + s * 1000, payload: datagram(s * 1000 + 5_000_000, [
      flowSample(n + 1), counterSample(seqA++, a), counterSample(seqB++, b)]) });
  }
  return packets;
}

function have(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Seen { tsMs: number; ifIndex: number; inOctets: number; outOctets: number; inUcast: number; outUcast: number }

/** Every generic interface counters record tshark decodes, in capture order. */
function tsharkCounters(file: string): Seen[] {
  const fields = ['frame.time_epoch', 'sflow_245.ifindex', 'sflow_245.ifinoct', 'sflow_245.ifoutoct',
    'sflow_245.ifinpkt', 'sflow_245.ifoutpkt'];
  const out = execFileSync('tshark', ['-n', '-r', file, '-d', 'udp.port==2055,sflow', '-T', 'fields',
    '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const seen: Seen[] = [];
  for (const line of out.trim().split('\n')) {
    const [ts, ...cols] = line.split('\t');
    const lists = cols.map((c) => c.split(',').map(Number));
    for (let i = 0; i < lists[0]!.length; i++) {
      seen.push({ tsMs: Math.round(Number(ts) * 1000), ifIndex: lists[0]![i]!, inOctets: lists[1]![i]!,
        outOctets: lists[2]![i]!, inUcast: lists[3]![i]!, outUcast: lists[4]![i]! });
    }
  }
  return seen;
}

t.test('replayed counter samples become per-interval interface rises that add up to what tshark reads',
  { skip: have('tshark') ? false : 'tshark is not installed (Debian package tshark)' }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'flowbridge-ifc-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = writePcap(join(dir, 'sflow-counters.pcap'), scenario());
    const cfg = loadConfig({ argv: [], env: {}, overrides: {} });
    const summaries: IntervalSummary[] = [];
    const r = await replay([file], cfg, { log: silentLogger, progress: false, onSummary: (s) => summaries.push(s) });
    t.equal(r.pipeline.metrics.total('records_total'), 8, 'one flow sample per datagram');
    t.equal(r.pipeline.metrics.total('sflow_counter_resets_total', { exporter: AGENT }), 1, 'ifIndex 4 restarted once');
    // the decoder passes the counter sample's sequence number on: it restarting tells the reset first
    t.equal(r.pipeline.metrics.total('sflow_counter_resets_total', { exporter: AGENT, reason: 'sequence' }), 1, 'told by its sequence number');
    t.equal(r.pipeline.metrics.total('interface_counters_late_total'), 0);

    const seen = tsharkCounters(file);
    t.equal(seen.length, 16, 'tshark reads two interfaces in each of the eight datagrams');
    const of = (ifIndex: number) => seen.filter((s) => s.ifIndex === ifIndex);
    const a = of(3), b = of(4);
    const restart = b.findIndex((s) => s.tsMs === T0 + 101_000);
    t.ok(restart > 0 && b[restart]!.inOctets < b[restart - 1]!.inOctets, 'tshark sees ifIndex 4 go down at 101 s');

    // the sums over all intervals
    const rows = summaries.flatMap((s) => s.interfaces ?? []);
    const sum = (ifIndex: number, f: (r: (typeof rows)[number]) => number) =>
      rows.filter((r) => r.ifIndex === ifIndex).reduce((n, r) => n + f(r), 0);
    const last = (x: Seen[]) => x[x.length - 1]!;
    t.equal(sum(3, (r) => r.in.octets), last(a).inOctets - a[0]!.inOctets, 'ifIndex 3 in octets: last - first');
    t.equal(sum(3, (r) => r.out.octets), last(a).outOctets - a[0]!.outOctets, 'ifIndex 3 out octets');
    t.ok(last(a).inUcast < a[0]!.inUcast, 'ifIndex 3 in unicast packets wrapped');
    t.equal(sum(3, (r) => r.in.ucastPkts), last(a).inUcast + TWO32 - a[0]!.inUcast, 'ifIndex 3 in packets across the wrap');
    t.equal(sum(4, (r) => r.in.octets),
      b[restart - 1]!.inOctets - b[0]!.inOctets + last(b).inOctets - b[restart]!.inOctets,
      'ifIndex 4 in octets: before the restart, and from the restart on');
    t.equal(sum(4, (r) => r.out.ucastPkts),
      b[restart - 1]!.outUcast - b[0]!.outUcast + last(b).outUcast - b[restart]!.outUcast);
    for (const row of rows) {
      for (const d of [row.in, row.out]) {
        for (const v of [d.octets, d.ucastPkts, d.errors, d.discards]) t.ok(Number.isSafeInteger(v) && v >= 0);
      }
    }

    // each rise in the interval its later sample arrived in: 21 s and 25 s share one
    const at = (sec: number) => summaries.find((s) => s.start * 1000 === Math.floor((T0 + sec * 1000) / I) * I);
    t.equal(at(1)?.interfaces, undefined, 'the first samples are baselines');
    t.same(at(21)!.interfaces!.map((r) => [r.exporter, r.ifIndex, r.ifSpeed]), [[AGENT, 3, 1e9], [AGENT, 4, 1e10]]);
    const i3 = at(21)!.interfaces![0]!;
    t.equal(i3.in.octets, a[2]!.inOctets - a[0]!.inOctets, 'two samples in one interval add up');
    t.equal(i3.in.bps, (i3.in.octets * 8) / 10);
    t.equal(i3.in.pps, i3.in.ucastPkts / 10);
    t.equal(i3.out.errors, 2);
    t.equal(i3.in.discards, 2);
    t.same(at(101)!.interfaces!.map((r) => r.ifIndex), [3], 'the restart gives ifIndex 4 no row');
    t.same(at(121)!.interfaces!.map((r) => r.ifIndex), [3, 4]);
    t.equal(at(121)!.interfaces![1]!.in.octets, last(b).inOctets - b[restart]!.inOctets);
    const withRows = summaries.filter((s) => s.interfaces !== undefined).map((s) => (s.start * 1000 - T0) / 1000);
    t.same(withRows, [20, 40, 60, 80, 100, 120], 'rows only where a rise arrived');
    // the JSON sink writes the summaries as they are
    t.match(JSON.parse(JSON.stringify(at(41))), { interfaces: [{ exporter: AGENT, ifIndex: 3, in: { octets: Number } }] });
  });
