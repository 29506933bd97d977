import t from 'tap';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readUdpPackets, newPcapStats, CaptureFileError, type PcapStats, type ReadOptions } from '../../src/ingest/pcap.js';
import { ticksToMs, MAX_BLOCK } from '../../src/ingest/pcapng.js';

const FIX = fileURLToPath(new URL('../fixtures/', import.meta.url));

interface Pkt { tsMs: number; srcAddr: string; srcPort: number; dstAddr: string; dstPort: number; payload: Buffer }

function collect(path: string, stats: PcapStats = newPcapStats(), opts: ReadOptions = {}): Pkt[] {
  const out: Pkt[] = [];
  for (const p of readUdpPackets(path, stats, opts)) out.push({ ...p, payload: Buffer.from(p.payload) });
  return out;
}

function digest(pkts: Pkt[]): string {
  const h = createHash('sha256');
  for (const p of pkts) h.update(`${p.tsMs}|${p.srcAddr}|${p.srcPort}|${p.dstAddr}|${p.dstPort}|`).update(p.payload);
  return h.digest('hex');
}

// --- pcapng block builders ---

function u16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v);
  return b;
}

function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0); else b.writeUInt32BE(v >>> 0);
  return b;
}

function pad(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

function block(type: number, body: Buffer, le: boolean): Buffer {
  const len = 12 + pad(body).length;
  return Buffer.concat([u32(type, le), u32(len, le), pad(body), u32(len, le)]);
}

function opt(code: number, value: Buffer, le: boolean): Buffer {
  return Buffer.concat([u16(code, le), u16(value.length, le), pad(value)]);
}

function shb(le: boolean): Buffer {
  return block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d, le), u16(1, le), u16(0, le), Buffer.alloc(8, 0xff)]), le);
}

function idb(le: boolean, link: number, options: Buffer[] = []): Buffer {
  const opts = options.length ? Buffer.concat([...options, Buffer.alloc(4)]) : Buffer.alloc(0);
  return block(1, Buffer.concat([u16(link, le), u16(0, le), u32(65535, le), opts]), le);
}

function epb(le: boolean, iface: number, ticks: bigint, data: Buffer, type = 6): Buffer {
  const hi = Number(ticks >> 32n), lo = Number(ticks & 0xffffffffn);
  const id = type === 2 ? Buffer.concat([u16(iface, le), u16(0, le)]) : u32(iface, le);
  return block(type, Buffer.concat([id, u32(hi, le), u32(lo, le), u32(data.length, le), u32(data.length, le), pad(data),
    opt(1, Buffer.from('a comment'), le), Buffer.alloc(4)]), le);
}

function spb(le: boolean, data: Buffer): Buffer {
  return block(3, Buffer.concat([u32(data.length, le), data]), le);
}

/** Raw IPv4 + UDP (link type 101) with a text payload. */
function rawUdp(text: string, src = [10, 0, 0, 1]): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(28);
  h[0] = 0x45;
  h.writeUInt16BE(28 + payload.length, 2);
  h[8] = 64;
  h[9] = 17;
  h.set(src, 12);
  h.set([10, 0, 0, 2], 16);
  h.writeUInt16BE(5000, 20);
  h.writeUInt16BE(2055, 22);
  h.writeUInt16BE(8 + payload.length, 24);
  return Buffer.concat([h, payload]);
}

const SEC = 1793491200n; // 2026-11-01T00:00:00Z

/** Two sections (little- then big-endian) exercising every block kind and timestamp option. */
function sample(): Buffer {
  const L = true, B = false;
  return Buffer.concat([
    shb(L),
    idb(L, 101), // microseconds by default
    idb(L, 101, [opt(9, Buffer.from([9]), L), opt(2, Buffer.from('eth0'), L)]), // nanoseconds
    idb(L, 101, [opt(9, Buffer.from([0x8a]), L), opt(14, Buffer.from([100, 0, 0, 0, 0, 0, 0, 0]), L)]), // 2^-10 s, +100 s
    epb(L, 0, SEC * 1_000_000n + 250_000n, rawUdp('us')),
    block(0x40000bad, Buffer.from('custom block, skipped'), L),
    epb(L, 1, SEC * 1_000_000_000n + 123_456_789n, rawUdp('ns')),
    block(4, Buffer.alloc(16), L), // name resolution
    epb(L, 2, SEC * 1024n + 512n, rawUdp('bin')),
    spb(L, rawUdp('simple')),
    epb(L, 1, SEC * 1_000_000_000n + 5_000_000n, rawUdp('obsolete'), 2),
    block(5, Buffer.alloc(12), L), // interface statistics
    shb(B),
    idb(B, 101, [opt(9, Buffer.from([3]), B)]), // milliseconds; the previous section's interfaces are gone
    epb(B, 0, SEC * 1000n + 7n, rawUdp('big-endian', [10, 0, 0, 9])),
  ]);
}

const WANT: [string, number][] = [
  ['us', 1793491200250], ['ns', 1793491200123.456789], ['bin', 1793491300500], ['simple', 1793491300500],
  ['obsolete', 1793491200005], ['big-endian', 1793491200007],
];

t.test('sections, interfaces, timestamp options and every packet block', (t) => {
  const dir = t.testdir({ 'sample.pcapng': sample() });
  for (const chunkSize of [undefined, 64, 200]) {
    const stats = newPcapStats();
    const got = collect(join(dir, 'sample.pcapng'), stats, { chunkSize });
    t.same(got.map((p) => p.payload.toString()), WANT.map((w) => w[0]), `payloads, chunk ${chunkSize}`);
    got.forEach((p, i) => t.ok(Math.abs(p.tsMs - WANT[i]![1]) < 1e-6, `${WANT[i]![0]} at ${p.tsMs}`));
    t.same([got[0]!.srcAddr, got[0]!.srcPort, got[0]!.dstAddr, got[0]!.dstPort, got[5]!.srcAddr], ['10.0.0.1', 5000, '10.0.0.2', 2055, '10.0.0.9']);
    t.same([stats.packets, stats.udp, stats.truncated, stats.errors], [6, 6, 0, 0]);
  }
  t.end();
});

t.test('editcap and mergecap output', (t) => {
  const classic = collect(join(FIX, 'pmacctd-ipfix.pcap')).slice(0, 20);
  const ng = collect(join(FIX, 'ingest', 'ipfix-head.pcapng'));
  t.equal(ng.length, 20);
  t.equal(digest(ng), digest(classic), 'editcap -F pcapng reads as the classic pcap');
  const two = collect(join(FIX, 'ingest', 'two-interfaces.pcapng'));
  t.same(two.map((p) => [p.srcAddr, p.dstPort, p.payload.toString()]), [['10.0.0.1', 2055, 'sll-v4'], ['192.0.2.7', 4739, 'raw-v4']],
    'one Linux-SLL and one raw-IP interface');
  t.end();
});

t.test('a last block cut short ends quietly, counted as truncated', (t) => {
  const full = sample();
  const lastLen = full.readUInt32BE(full.length - 4);
  const lastAt = full.length - lastLen;
  const files: Record<string, Buffer> = {};
  for (const cut of [4, 8, 20, lastLen - 1]) files[`cut${cut}.pcapng`] = full.subarray(0, lastAt + cut);
  const dir = t.testdir(files);
  for (const cut of [4, 8, 20, lastLen - 1]) {
    const stats = newPcapStats();
    t.equal(collect(join(dir, `cut${cut}.pcapng`), stats).length, 5, `cut ${cut} bytes into the last block`);
    t.equal(stats.truncated, 1);
  }
  t.end();
});

t.test('corrupt blocks stop with the file and the block offset', (t) => {
  const L = true;
  const head = Buffer.concat([shb(L), idb(L, 101)]);
  const good = epb(L, 0, 1n, rawUdp('x'));
  const at = head.length + good.length; // every bad block follows one good packet
  const bad = (b: Buffer) => Buffer.concat([head, good, b]);
  const odd = Buffer.from(good); odd.writeUInt32LE(good.length + 2, 4);
  const huge = Buffer.from(good); huge.writeUInt32LE(MAX_BLOCK + 4, 4);
  const trailer = Buffer.from(good); trailer.writeUInt32LE(good.length + 4, good.length - 4);
  const capOver = Buffer.from(good); capOver.writeUInt32LE(4000, 20);
  const bom = shb(L); bom.writeUInt32LE(0x12345678, 8);
  const v2 = shb(L); v2.writeUInt16LE(2, 12);
  const cases: [string, Buffer, RegExp][] = [
    ['odd', bad(odd), /bad pcapng block length 86 \(block type 6\)/],
    ['huge', bad(huge), /bad pcapng block length/],
    ['trailer', bad(trailer), /does not match its trailing length/],
    ['cap', bad(capOver), /captured length 4000 exceeds its block/],
    ['iface', bad(epb(L, 3, 1n, rawUdp('x'))), /packet names interface 3, but the section has 1/],
    ['bom', bad(bom), /bad byte-order magic/],
    ['version', bad(v2), /unsupported pcapng version 2\.0/],
    ['tsresol', bad(idb(L, 101, [opt(9, Buffer.from([20]), L)])), /unsupported if_tsresol 20/],
    ['option', bad(block(1, Buffer.concat([u16(101, L), u16(0, L), u32(0, L), u16(2, L), u16(200, L)]), L)), /option 2 of 200 bytes overruns/],
    ['spb', Buffer.concat([shb(L), spb(L, rawUdp('x'))]), /simple packet block before any interface block/],
  ];
  const files: Record<string, Buffer> = {};
  for (const [name, buf] of cases) files[`${name}.pcapng`] = buf;
  const dir = t.testdir(files);
  for (const [name, , re] of cases) {
    const err = t.throws(() => collect(join(dir, `${name}.pcapng`))) as unknown as CaptureFileError;
    t.ok(err instanceof CaptureFileError, name);
    t.match(err.message, re, name);
    t.match(err.message, new RegExp(`${name}\\.pcapng: .* at offset \\d+$`), `${name} names file and offset`);
    const want = name === 'spb' ? shb(L).length : name === 'bom' ? at + 8 : at;
    t.equal(err.offset, want, `${name} offset`);
  }
  t.end();
});

t.test('ticksToMs is exact where a double product would not be', (t) => {
  const cases: [bigint, number][] = [
    [SEC * 1_000_000_000n + 999_999_999n, 1e9], [SEC * 1_000_000n + 1n, 1e6], [SEC * 1024n + 1023n, 1024],
    [0n, 1e6], [(1n << 64n) - 1n, 1e9], [SEC * 10n ** 10n + 1n, 1e10],
  ];
  for (const [ticks, rate] of cases) {
    const hi = Number(ticks >> 32n), lo = Number(ticks & 0xffffffffn);
    const r = BigInt(rate);
    const want = Number((ticks / r) * 1000n) + Number(ticks % r) * 1000 / rate;
    t.equal(ticksToMs(hi, lo, rate), want, `${ticks} at ${rate}/s`);
  }
  t.ok(Math.abs(ticksToMs(1, 0, 2 ** 40) - (2 ** 32 / 2 ** 40) * 1000) < 1e-9, 'huge rates fall back to a plain division');
  t.end();
});
