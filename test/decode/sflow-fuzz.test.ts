// Fuzz: 120,000 random and mutated datagrams (real pmacctd datagrams plus synthetic ones covering
// counter, expanded and sampled-IP paths) with a fixed seed. Nothing but DecodeError may escape
// decode(), reported errors are DecodeErrors, emitted records stay sane and the counter store bounded.
import t from 'tap';
import { RecordNormalizer } from '../../src/flow/normalize.js';
import { fileURLToPath } from 'node:url';
import { SflowDecoder } from '../../src/decode/sflow.js';
import { SflowCounterStore } from '../../src/decode/counters-sflow.js';
import type { FlowRecord } from '../../src/flow/record.js';
import { DecodeError } from '../../src/lib/errors.js';
import { readUdpPackets } from '../../src/ingest/pcap.js';

function fixtureDatagrams(): Buffer[] {
  const out: Buffer[] = [];
  // The reader reuses its buffer between packets: keep copies.
  for (const p of readUdpPackets(fileURLToPath(new URL('../fixtures/pmacctd-sflow.pcap', import.meta.url)))) out.push(Buffer.from(p.payload));
  return out;
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const u32 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
const entry = (format: number, body: string) => u32(format) + u32(body.length / 2) + body;
const IP4_TCP = '020000000002020000000001 8100 0064 0800 4500 0034 1234 4000 4006 0000 0a010030 c6336435 a0b8 01bb 00000001 00000000 5018 ffff 0000 0000'.replace(/\s+/g, '');
const ICMP6 = ('020000000002020000000001 86dd 6000 0000 0038 3a40 20010db8000100000000000000000010 20010db800ff00000000000000000020 ' +
  '0104 0000 00000000 6000 0000 0010 2c40 20010db800ff00000000000000000020 20010db8000100000000000000000010 1100 0001 12345678 a410 04d2 0010 0000').replace(/\s+/g, '');
const raw = (hdr: string) => entry(1, u32(1) + u32(hdr.length / 2 + 4) + u32(4) + u32(hdr.length / 2) + hdr + '00'.repeat((4 - ((hdr.length / 2) % 4)) % 4));
const synthetic = [
  u32(5) + u32(2) + '20010db8000000000000000000000001' + u32(3) + u32(1) + u32(2) + u32(3) +
    entry(3, u32(1) + u32(0) + u32(1) + u32(100) + u32(1) + u32(0) + u32(0) + u32(1) + u32(2) + u32(2) + u32(2) + raw(ICMP6) + entry(1001, u32(5) + u32(0) + u32(6) + u32(0))) +
    entry(4, u32(1) + u32(0) + u32(4) + u32(2) + entry(1, u32(4) + '00'.repeat(84)) + entry(2, '00'.repeat(52))) +
    entry(1, u32(2) + u32(1) + u32(100) + u32(1) + u32(0) + u32(1) + u32(2) + u32(1) + entry(3, u32(1500) + u32(6) + u32(1) + u32(2) + u32(3) + u32(4) + u32(5) + u32(6))),
  u32(5) + u32(1) + u32(0x7f000001) + u32(1) + u32(2) + u32(3) + u32(3) +
    entry(2, u32(1) + u32(9) + u32(1) + entry(1, u32(9) + '00'.repeat(84))) +
    entry(1, u32(2) + u32(1) + u32(100) + u32(1) + u32(0) + u32(1) + u32(2) + u32(2) + raw(IP4_TCP) + entry(4, u32(1280) + u32(17) + '00'.repeat(32) + u32(1) + u32(2) + u32(0) + u32(0))) +
    entry((9 << 12) | 1, 'cafe0000'),
].map((h) => Buffer.from(h, 'hex'));

// `npm run fuzz` raises this to 1,000,000; the regular suite runs 120,000.
const ITERATIONS = Number(process.env.FLOWBRIDGE_FUZZ_ITERATIONS) || 120_000;
const INTERESTING = [0, 1, 3, 4, 7, 8, 0x3fffffff, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff];

t.test(`${ITERATIONS} random and mutated datagrams: only DecodeError escapes`, (t) => {
  const seeds = [...fixtureDatagrams(), ...synthetic, ...synthetic, ...synthetic];
  t.equal(seeds.length, 2649 + 6);
  const rnd = prng(0x5f10e);
  const int = (n: number) => Math.floor(rnd() * n);
  const store = new SflowCounterStore(50);
  let reported = 0, badReports = 0, decoded = 0, errored = 0, records = 0, insane = 0, adjusted = 0;
  const norm = new RecordNormalizer();
  const errorKinds: Record<string, number> = {};
  const dec = new SflowDecoder({
    counters: store,
    report: (e) => {
      reported++;
      if (!(e instanceof DecodeError)) badReports++;
    },
  });
  const check = (r: FlowRecord) => {
    records++;
    if (r.packets !== 1 || !(r.bytes >= 0) || !Number.isFinite(r.bytes) || (r.ipVersion !== 0 && r.ipVersion !== 4 && r.ipVersion !== 6) ||
      r.srcPort < 0 || r.srcPort > 65535 || r.dstPort < 0 || r.dstPort > 65535 || r.vlan < 0 || r.vlan > 4095 ||
      r.src4 < 0 || r.src4 > 0xffffffff || r.exporter === '') insane++;
    // normalized (rates of 0 and 2^32 - 1 among the mutations): a bounded rate and exact integers
    if (norm.normalize(r, r.endMs) !== 0) adjusted++;
    if (!(r.samplingRate >= 1 && r.samplingRate <= norm.limits.maxRate) || !Number.isSafeInteger(r.scaledBytes)
      || !Number.isSafeInteger(r.scaledPackets) || !Number.isSafeInteger(r.scaledFlows)) insane++;
  };
  // The synthetic seeds are valid: they must decode cleanly before being mutated.
  const seen: number[] = [];
  for (const s of synthetic) seen.push(dec.decode(s, '192.0.2.1', 0, check));
  t.same(seen, [2, 1]);
  t.equal(reported, 0);
  t.equal(store.size, 2);
  const started = Date.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const seed = seeds[int(seeds.length)]!;
    let buf: Buffer;
    switch (i % 6) {
      case 0: { // random bytes, half of them behind a valid datagram header
        buf = Buffer.alloc(int(1500));
        for (let j = 0; j < buf.length; j++) buf[j] = int(256);
        if (rnd() < 0.5 && buf.length >= 28) seed.copy(buf, 0, 0, 28);
        break;
      }
      case 1: { // bit flips
        buf = Buffer.from(seed);
        for (let k = 1 + int(16); k > 0; k--) { const p = int(buf.length); buf[p]! ^= 1 << int(8); }
        break;
      }
      case 2: // truncation
        buf = Buffer.from(seed.subarray(0, int(seed.length)));
        break;
      case 3: // length/count corruption: sFlow is 4-byte aligned, so aligned words hit lengths often
      case 4: {
        buf = Buffer.from(seed);
        for (let k = 1 + int(3); k > 0; k--) {
          const p = int(buf.length >> 2) << 2;
          if (p + 4 > buf.length) continue;
          const v = rnd() < 0.6 ? INTERESTING[int(INTERESTING.length)]! : rnd() < 0.5 ? buf.readUInt32BE(p) + int(64) - 32 : int(2 ** 32);
          buf.writeUInt32BE(v >>> 0, p);
        }
        if (i % 6 === 4) buf = buf.subarray(0, buf.length - int(64));
        break;
      }
      default: { // splice two datagrams at random points
        const other = seeds[int(seeds.length)]!;
        buf = Buffer.concat([seed.subarray(0, int(seed.length)), other.subarray(int(other.length))]);
      }
    }
    try {
      dec.decode(buf, '192.0.2.1', i, check);
      decoded++;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      errorKinds[e.kind] = (errorKinds[e.kind] ?? 0) + 1;
      errored++;
    }
  }
  const ms = Date.now() - started;
  t.equal(decoded + errored, ITERATIONS, 'each datagram decoded or errored');
  t.ok(decoded > ITERATIONS / 10, `some decode cleanly (${decoded})`);
  t.ok(errored > ITERATIONS / 10, `some error (${errored})`);
  t.ok(records > ITERATIONS, `records emitted (${records})`);
  t.ok(reported > 0, `sample-level errors reported (${reported})`);
  t.equal(badReports, 0, 'only DecodeErrors reach the reporter');
  t.equal(insane, 0, 'every emitted record is within its field ranges, and bounded once normalized');
  t.ok(adjusted > 0, `${adjusted} records adjusted by normalization`);
  t.ok(store.size <= 50, 'counter store stays within its cap');
  t.ok(errorKinds['bad_length']! > 0 && errorKinds['truncated']! > 0 && errorKinds['unknown_version']! > 0, JSON.stringify(errorKinds));
  t.comment(`${ITERATIONS} datagrams in ${ms} ms`);
  t.end();
});
