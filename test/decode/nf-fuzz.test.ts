// Fuzz: 100,000+ random and mutated datagrams per format (v5, v9, IPFIX) from real exporter output,
// with a fixed seed, extreme timestamps, counters and sampling rates among the mutations. Nothing but a
// DecodeError may escape decode(); every datagram ends decoded or as a counted error; every record,
// once normalized, is sane and bounded, and the intervals it is counted in add up to it exactly; the
// template cache stays within its bounds.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { readUdpPackets } from '../../src/ingest/pcap.js';
import { Netflow5Decoder } from '../../src/decode/netflow5.js';
import { Netflow9Decoder } from '../../src/decode/netflow9.js';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { DecodeError } from '../../src/lib/errors.js';
import type { FlowRecord } from '../../src/flow/record.js';
import { RecordNormalizer } from '../../src/flow/normalize.js';
import { Aggregator } from '../../src/aggregate/aggregator.js';
import type { DatagramDecoder } from '../../src/decode/types.js';
import { cat, ipfix, ipfixOptTpl, set, tpl, u16, u32, u64, u8, v9, v9OptTpl } from './nf-build.js';

// `npm run fuzz` raises this to 1,000,000 per format; the regular suite runs 100,000.
const ITERATIONS = Number(process.env.FLOWBRIDGE_FUZZ_ITERATIONS) || 100_000;

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function datagrams(file: string): Buffer[] {
  const out: Buffer[] = [];
  const path = fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url));
  for (const p of readUdpPackets(path)) out.push(Buffer.from(p.payload)); // payload views a reused chunk
  return out;
}

/** Offsets of set headers in a v9/IPFIX datagram, to aim length corruption at. */
function setOffsets(buf: Buffer, headerLen: number): number[] {
  const offs: number[] = [];
  let pos = headerLen;
  while (pos + 4 <= buf.length) {
    offs.push(pos);
    const len = buf.readUInt16BE(pos + 2);
    if (len < 4) break;
    pos += len;
  }
  return offs;
}

const EDGE16 = [0, 1, 2, 3, 4, 5, 8, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff];
/** Words that make extreme times (2^62 ms, 1970, uptime wraps), counters (2^64 - 1) and sampling rates. */
const EXTREME = [
  u32(0), u32(1), u32(0x7fffffff), u32(0x80000000), u32(0xffffffff), Buffer.alloc(8, 0xff), u64(2 ** 62),
  u64(2 ** 53), cat(u32(0x80000000), u32(0)), u64(1000),
];

function mutate(rand: () => number, seeds: Buffer[], headerLen: number, version: number): Buffer {
  const pick = (n: number) => Math.floor(rand() * n);
  const src = seeds[pick(seeds.length)]!;
  const kind = pick(11);
  if (kind === 0) {
    // Random bytes behind a valid version word.
    const b = Buffer.alloc(pick(600));
    for (let i = 0; i < b.length; i++) b[i] = pick(256);
    if (b.length >= 2) b.writeUInt16BE(version, 0);
    return b;
  }
  let b = Buffer.from(src);
  if (kind === 1 || kind === 2) {
    // Bit flips (not in the version word, which is the dispatcher's business).
    const flips = 1 + pick(8);
    for (let i = 0; i < flips && b.length > 2; i++) b[2 + pick(b.length - 2)]! ^= 1 << pick(8);
  } else if (kind === 3) {
    b = b.subarray(0, pick(b.length + 1));
  } else if (kind === 4 || kind === 5) {
    // Set length (or a template field count/length right after it) set to an edge or random value.
    const offs = setOffsets(b, headerLen);
    if (offs.length > 0) {
      const at = offs[pick(offs.length)]! + 2 + (kind === 5 ? 2 * pick(4) : 0);
      if (at + 2 <= b.length) b.writeUInt16BE(rand() < 0.5 ? EDGE16[pick(EDGE16.length)]! : pick(65536), at);
    }
  } else if (kind === 6) {
    // Header length/count field.
    if (b.length >= 4) b.writeUInt16BE(rand() < 0.5 ? EDGE16[pick(EDGE16.length)]! : pick(65536), 2);
  } else if (kind === 7) {
    // Splice: head of one datagram, tail of another.
    const other = seeds[pick(seeds.length)]!;
    b = Buffer.concat([b.subarray(0, pick(b.length + 1)), other.subarray(pick(other.length + 1))]);
  } else if (kind === 8) {
    // Overwrite a run of bytes with zeros or 0xff.
    const start = pick(b.length + 1), len = pick(16);
    b.fill(rand() < 0.5 ? 0 : 0xff, Math.max(2, start), Math.min(b.length, start + len));
  } else if (kind === 9) {
    // An extreme value over a word anywhere past the version: header times, counters, sampling rates.
    const w = EXTREME[pick(EXTREME.length)]!;
    if (b.length >= 2 + w.length) w.copy(b, 2 + pick(b.length - 1 - w.length));
  } else {
    // Flip bytes in a window, then truncate somewhere after it.
    const start = 2 + pick(Math.max(1, b.length - 2));
    for (let i = start; i < Math.min(b.length, start + 4); i++) b[i] = pick(256);
    b = b.subarray(0, start + pick(b.length - start + 1));
  }
  return b;
}

interface Outcome {
  decoded: number; errors: number; escaped: unknown[]; records: number; insane: number; reported: number;
  /** records normalization adjusted */
  adjusted: number;
  /** Σ scaled bytes, packets, flows of the records, and the same over the interval summaries */
  counted: [number, number, number];
  summed: [number, number, number];
  /** summary counters that were not exact integers */
  inexact: number;
}

const ARRIVAL = 1_800_000_000_000;
const MAX_FLOW_MS = 7_200_000;

function run(name: string, seed: number, seeds: Buffer[], headerLen: number, version: number,
  make: (report: (e: DecodeError) => void) => DatagramDecoder, tick?: (i: number) => void): Outcome {
  const rand = prng(seed);
  const o: Outcome = {
    decoded: 0, errors: 0, escaped: [], records: 0, insane: 0, reported: 0, adjusted: 0, counted: [0, 0, 0], summed: [0, 0, 0], inexact: 0,
  };
  const dec = make((e) => {
    if (!(e instanceof DecodeError)) o.escaped.push(e);
    o.reported++;
  });
  // a 1 Gb/s link keeps the fuzz's sums below 2^53, where they can be compared exactly
  const norm = new RecordNormalizer({ maxFlowDurationMs: MAX_FLOW_MS, maxLinkBps: 1e9 });
  // the live aggregator's view: the clock at the arrival, an hour of intervals open behind it
  const agg = new Aggregator({ intervalMs: 10_000, holdMs: 3_600_000 }, (s) => {
    for (const d of Object.values(s.directions)) {
      o.summed[0] += d.bytes; o.summed[1] += d.packets; o.summed[2] += d.flows;
      if (!Number.isSafeInteger(d.bytes) || !Number.isSafeInteger(d.packets) || !Number.isSafeInteger(d.flows)) o.inexact++;
    }
  });
  agg.start(ARRIVAL - 3_600_000);
  agg.setClock(ARRIVAL);
  const emit = (r: FlowRecord) => {
    o.records++;
    if (norm.normalize(r, ARRIVAL) !== 0) o.adjusted++;
    if (!(r.startMs <= r.endMs) || r.endMs - r.startMs > MAX_FLOW_MS || !(r.endMs <= ARRIVAL + MAX_FLOW_MS)
      || !(r.samplingRate >= 1) || r.exporter !== name || !Number.isSafeInteger(r.bytes) || !Number.isSafeInteger(r.packets)
      || !Number.isSafeInteger(r.scaledBytes) || !Number.isSafeInteger(r.scaledPackets) || !Number.isSafeInteger(r.scaledFlows)) o.insane++;
    o.counted[0] += r.scaledBytes; o.counted[1] += r.scaledPackets; o.counted[2] += r.scaledFlows;
    agg.add(r, 3, -1, -1, ARRIVAL);
  };
  for (let i = 0; i < ITERATIONS; i++) {
    tick?.(i);
    const buf = i < seeds.length ? seeds[i]! : mutate(rand, seeds, headerLen, version);
    try {
      dec.decode(buf, name, ARRIVAL, emit);
      o.decoded++;
    } catch (err) {
      if (err instanceof DecodeError) o.errors++;
      else o.escaped.push(err);
    }
  }
  agg.flush(true);
  return o;
}

/** A subtest's `t` (the last overload of t.test takes just the callback). */
type Subtest = Parameters<Parameters<typeof t.test>[0]>[0];

function check(t: Subtest, o: Outcome): void {
  t.same(o.escaped.slice(0, 3), [], 'only DecodeErrors escape');
  t.equal(o.decoded + o.errors, ITERATIONS, 'every datagram decoded or counted as an error');
  t.equal(o.insane, 0, 'every emitted record, normalized, is sane and bounded');
  t.ok(o.adjusted > 0, `${o.adjusted} records adjusted by normalization`);
  t.equal(o.inexact, 0, 'every interval counter an exact integer');
  t.same(o.summed.slice(0, 2), o.counted.slice(0, 2), `the intervals add up to the records: ${o.counted[0]} B, ${o.counted[1]} packets`);
  // a flow counts once in each interval it is active in, so at least once
  t.ok(o.summed[2] >= o.counted[2], `flows: ${o.summed[2]} counted over the intervals for ${o.counted[2]}`);
  t.ok(o.decoded > ITERATIONS / 20 && o.errors > ITERATIONS / 20, `mix: ${o.decoded} decoded, ${o.errors} errors, ${o.reported} reported, ${o.records} records`);
}

// Extra IPFIX/v9 seeds reaching code the fixtures do not: options, variable-length and enterprise fields.
const IPFIX_EXTRA = [
  ipfix({ exportTime: 1793491210, domain: 3 },
    set(3, ipfixOptTpl(400, [[302, 8]], [[305, 4], [306, 4], [160, 8]])), set(400, cat(u64(5), u32(1), u32(9), u64(1793491200000))),
    set(2, tpl(300, [[8, 4], [82, 65535], [1, 65535, 9], [302, 8], [22, 4], [21, 4], [154, 8]])),
    set(300, cat(u32(1), u8(2), u16(0x6162), u8(255), u16(3), u8(1), u8(2), u8(3), u64(5), u32(1), u32(2), u64(0)), 2)),
];
const V9_EXTRA = [
  v9({ sysUptime: 1000, unixSecs: 1793491210, sourceId: 1 },
    set(1, v9OptTpl(257, [[1, 4]], [[48, 1], [50, 4], [34, 4]]), 2), set(257, cat(u32(0), u8(1), u32(10), u32(0)), 3),
    set(0, tpl(258, [[8, 4], [12, 4], [48, 1], [1, 4], [2, 4], [21, 4], [22, 4]])),
    set(258, cat(u32(1), u32(2), u8(1), u32(100), u32(1), u32(900), u32(800)))),
];

t.test('fuzz', (t) => {
  const started = Date.now();
  t.test('NetFlow v5', (t) => {
    const seeds = datagrams('softflowd-v5.pcap');
    const o = run('v5', 5, seeds, 24, 5, (report) => new Netflow5Decoder({ report }));
    check(t, o);
    t.end();
  });
  for (const [label, version, files, extra, headerLen] of [
    ['NetFlow v9', 9, ['pmacctd-v9.pcap', 'softflowd-v9.pcap'], V9_EXTRA, 20],
    ['IPFIX', 10, ['pmacctd-ipfix.pcap'], IPFIX_EXTRA, 16],
  ] as const) {
    t.test(label, (t) => {
      const seeds = [...files.flatMap(datagrams), ...extra];
      const clock = { ms: 0 };
      const templates = new TemplateCache({ now: () => clock.ms, maxTemplates: 2000, pendingMaxBytes: 1 << 20 });
      const sampling = new SamplingTable();
      const make = (report: (e: DecodeError) => void) => {
        const deps = { templates, sampling, report };
        return version === 9 ? new Netflow9Decoder(deps) : new IpfixDecoder(deps);
      };
      // 1 ms per datagram: held sets expire (60 s) and sweeps run along the way.
      const o = run(label, version, seeds, headerLen, version, make, (i) => {
        clock.ms++;
        if (i % 5000 === 0) templates.sweep();
      });
      check(t, o);
      t.ok(templates.size <= 2000, `templates ${templates.size} within the cap (refused ${templates.stats.refused})`);
      t.ok(templates.pendingBytes <= 1 << 20, `held bytes ${templates.pendingBytes} within the budget`);
      const s = templates.stats;
      t.ok(s.pendingHeld > 0 && s.pendingExpired + s.pendingDropped > 0, `held ${s.pendingHeld}, decoded later ${s.pendingDecoded}, expired ${s.pendingExpired}, dropped ${s.pendingDropped}`);
      t.end();
    });
  }
  t.comment(`${ITERATIONS} datagrams per format in ${Date.now() - started} ms`);
  t.end();
});
