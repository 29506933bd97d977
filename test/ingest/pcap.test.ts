import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readUdpPackets, newPcapStats, CaptureFileError, type PcapStats, type ReadOptions } from '../../src/ingest/pcap.js';

const FIX = fileURLToPath(new URL('../fixtures/', import.meta.url));
const IPFIX = join(FIX, 'pmacctd-ipfix.pcap');
const ING = join(FIX, 'ingest');

// Oracle: tshark -r pmacctd-ipfix.pcap -T fields -e frame.time_epoch -e udp.length
const ORACLE = { count: 150, first: 1795389884733.934, last: 1795389887797.097, payloadBytes: 68120 };

interface Pkt { tsMs: number; srcAddr: string; srcPort: number; dstAddr: string; dstPort: number; payload: Buffer }

function collect(path: string, stats: PcapStats = newPcapStats(), opts: ReadOptions = {}): Pkt[] {
  const out: Pkt[] = [];
  // The payload may view the reader's chunk buffer: copy it, as every consumer must.
  for (const p of readUdpPackets(path, stats, opts)) out.push({ ...p, payload: Buffer.from(p.payload) });
  return out;
}

function digest(pkts: Pkt[]): string {
  const h = createHash('sha256');
  for (const p of pkts) h.update(`${p.tsMs}|${p.srcAddr}|${p.srcPort}|${p.dstAddr}|${p.dstPort}|`).update(p.payload);
  return h.digest('hex');
}

/** Offsets of the record headers of a little-endian microsecond pcap. */
function recordOffsets(buf: Buffer): number[] {
  const out: number[] = [];
  for (let p = 24; p + 16 <= buf.length; p += 16 + buf.readUInt32LE(p + 8)) out.push(p);
  return out;
}

/** The same capture written big-endian (as a big-endian host's libpcap would). */
function toBigEndian(le: Buffer): Buffer {
  const b = Buffer.from(le);
  b.writeUInt32BE(le.readUInt32LE(0), 0);
  b.writeUInt16BE(le.readUInt16LE(4), 4);
  b.writeUInt16BE(le.readUInt16LE(6), 6);
  for (let i = 8; i < 24; i += 4) b.writeUInt32BE(le.readUInt32LE(i), i);
  for (const p of recordOffsets(le)) for (let i = 0; i < 16; i += 4) b.writeUInt32BE(le.readUInt32LE(p + i), p + i);
  return b;
}

/** A little-endian pcap of the given frames, one second apart. */
function pcap(link: number, frames: Buffer[], magic = 0xa1b2c3d4, frac = 250_000): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(magic, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(link, 20);
  parts.push(h);
  frames.forEach((f, i) => {
    const r = Buffer.alloc(magic === 0xa1b2cd34 ? 24 : 16);
    r.writeUInt32LE(1793491200 + i, 0);
    r.writeUInt32LE(frac, 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, f);
  });
  return Buffer.concat(parts);
}

/** Raw IPv4 packet (link type 101) carrying UDP bytes, optionally one fragment of a bigger datagram. */
function rawV4(body: Buffer, off = 0, more = false, proto = 17): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + body.length, 2);
  h.writeUInt16BE(0xbeef, 4);
  h.writeUInt16BE((more ? 0x2000 : 0) | (off >> 3), 6);
  h[8] = 64;
  h[9] = proto;
  h.set([10, 0, 0, 1], 12);
  h.set([10, 0, 0, 2], 16);
  return Buffer.concat([h, body]);
}

function udp(payload: Buffer, sport = 3000, dport = 4739): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([u, payload]);
}

t.test('the pmacctd IPFIX capture matches the tshark oracle', (t) => {
  const stats = newPcapStats();
  const pkts = collect(IPFIX, stats);
  t.equal(pkts.length, ORACLE.count);
  t.match(stats, { packets: 150, udp: 150, nonUdp: 0, truncated: 0, fragments: 0, reassembled: 0, errors: 0, fragmentsDropped: 0 });
  t.ok(Math.abs(pkts[0]!.tsMs - ORACLE.first) < 1e-3, `first ${pkts[0]!.tsMs}`);
  t.ok(Math.abs(pkts.at(-1)!.tsMs - ORACLE.last) < 1e-3, `last ${pkts.at(-1)!.tsMs}`);
  t.ok(pkts[0]!.tsMs >= Date.UTC(2026, 10, 1), 'on/after 2026-11-01');
  let bytes = 0, monotonic = true, ipfix = true;
  for (let i = 0; i < pkts.length; i++) {
    const p = pkts[i]!;
    bytes += p.payload.length;
    if (i > 0 && p.tsMs < pkts[i - 1]!.tsMs) monotonic = false;
    // Each payload is one whole IPFIX message: version 10, length field = datagram length.
    if (p.payload.readUInt16BE(0) !== 10 || p.payload.readUInt16BE(2) !== p.payload.length) ipfix = false;
    if (p.srcAddr !== '127.0.0.1' || p.dstAddr !== '127.0.0.1' || p.dstPort !== 9920 || p.srcPort !== 55436) ipfix = false;
  }
  t.equal(bytes, ORACLE.payloadBytes);
  t.ok(monotonic, 'timestamps never go back');
  t.ok(ipfix, 'every datagram is a whole IPFIX message from 127.0.0.1:55436 to 127.0.0.1:9920');
  t.end();
});

t.test('records spanning chunk boundaries read the same as whole chunks', (t) => {
  const ref = digest(collect(IPFIX));
  for (const chunkSize of [64, 500, 701, 4096]) t.equal(digest(collect(IPFIX, newPcapStats(), { chunkSize })), ref, `chunk ${chunkSize}`);
  t.end();
});

t.test('big-endian and nanosecond pcaps read the same', (t) => {
  const dir = t.testdir({ 'be.pcap': toBigEndian(readFileSync(IPFIX)) });
  const ref = collect(IPFIX);
  t.equal(digest(collect(join(dir, 'be.pcap'))), digest(ref), 'big-endian');
  const ns = collect(join(ING, 'ipfix-head-ns.pcap')); // editcap -F nsecpcap
  t.equal(ns.length, 20);
  t.equal(digest(ns), digest(ref.slice(0, 20)), 'nanosecond magic');
  t.end();
});

t.test('nanosecond fractions and the modified-pcap variant', (t) => {
  const frame = rawV4(udp(Buffer.from('ns')));
  const dir = t.testdir({
    'ns.pcap': pcap(101, [frame], 0xa1b23c4d, 123_456_789),
    'mod.pcap': pcap(101, [frame, frame], 0xa1b2cd34),
  });
  const [p] = collect(join(dir, 'ns.pcap'));
  t.ok(Math.abs(p!.tsMs - (1793491200000 + 123.456789)) < 1e-6, `sub-ms digits kept: ${p!.tsMs}`);
  t.same([p!.srcAddr, p!.srcPort, p!.dstAddr, p!.dstPort, p!.payload.toString()], ['10.0.0.1', 3000, '10.0.0.2', 4739, 'ns']);
  const mod = collect(join(dir, 'mod.pcap'));
  t.same(mod.map((m) => [m.tsMs, m.payload.toString()]), [[1793491200250, 'ns'], [1793491201250, 'ns']]);
  t.end();
});

t.test('text2pcap captures of every link type', (t) => {
  const cases: [string, [string, number, string, number, string][]][] = [
    ['sll.pcap', [['10.0.0.1', 1111, '10.0.0.2', 2055, 'sll-v4']]],
    ['sll2.pcap', [['2001:db8::1', 5000, '2001:db8::2', 6343, 'sll2-v6']]],
    ['null.pcap', [['127.0.0.1', 40000, '127.0.0.1', 9995, 'null-v4'], ['::1', 40001, '::1', 9996, 'null-v6']]],
    ['raw.pcap', [['192.0.2.7', 123, '198.51.100.9', 4739, 'raw-v4']]],
    ['vlan.pcap', [['10.1.0.1', 2000, '10.1.0.2', 2055, 'qinq']]],
  ];
  for (const [file, want] of cases) {
    const stats = newPcapStats();
    const got = collect(join(ING, file), stats);
    t.same(got.map((p) => [p.srcAddr, p.srcPort, p.dstAddr, p.dstPort, p.payload.toString()]), want, file);
    t.equal(got[0]!.tsMs, 1793491200250, `${file} time`);
    t.same([stats.packets, stats.udp, stats.errors], [want.length, want.length, 0]);
  }
  t.end();
});

t.test('fragmented IPv4 datagrams are reassembled across records', (t) => {
  const msg = collect(IPFIX)[0]!.payload; // a 408-byte IPFIX message
  const d = udp(msg);
  const frames = [rawV4(d.subarray(0, 136), 0, true), rawV4(Buffer.alloc(20), 0, false, 6), rawV4(d.subarray(272), 272), rawV4(d.subarray(136, 272), 136, true)];
  const dir = t.testdir({ 'frag.pcap': pcap(101, frames) });
  const stats = newPcapStats();
  const got = collect(join(dir, 'frag.pcap'), stats);
  t.equal(got.length, 1);
  t.ok(got[0]!.payload.equals(msg), 'payload bytes');
  t.equal(got[0]!.tsMs, 1793491203250, 'stamped with the completing fragment');
  t.match(stats, { packets: 4, udp: 1, nonUdp: 1, truncated: 0, fragments: 3, reassembled: 1, errors: 0, fragmentsDropped: 0 });
  const lone = t.testdir({ 'lone.pcap': pcap(101, [frames[0]!]) });
  const s2 = newPcapStats();
  t.equal(collect(join(lone, 'lone.pcap'), s2).length, 0);
  t.equal(s2.fragmentsDropped, 1, 'incomplete at end of file');
  t.end();
});

t.test('a capture cut short ends quietly, counted as truncated', (t) => {
  const full = readFileSync(IPFIX);
  const offs = recordOffsets(full);
  const cuts = [24 + 5, offs[1]! + 10, offs[10]! + 16 + 100, full.length - 1, offs[40]!];
  const files: Record<string, Buffer> = {};
  cuts.forEach((c, i) => { files[`cut${i}.pcap`] = full.subarray(0, c); });
  const dir = t.testdir(files);
  cuts.forEach((c, i) => {
    const stats = newPcapStats();
    const complete = offs.filter((o, k) => (offs[k + 1] ?? full.length) <= c).length;
    const got = collect(join(dir, `cut${i}.pcap`), stats);
    t.equal(got.length, complete, `cut at ${c}: ${complete} whole records`);
    t.equal(stats.truncated, c === offs[40] ? 0 : 1, `cut at ${c}`);
    t.equal(stats.packets, complete);
  });
  t.end();
});

t.test('corruption stops with the file and offset; bad files are rejected', (t) => {
  const full = Buffer.from(readFileSync(IPFIX));
  const offs = recordOffsets(full);
  full.writeUInt32LE(300_000, offs[3]! + 8);
  const dir = t.testdir({
    'corrupt.pcap': full,
    'text.pcap': 'this is not a capture\n',
    'empty.pcap': '',
    'short.pcap': Buffer.from('d4c3b2a10200', 'hex'),
    'v3.pcap': (() => { const b = pcap(1, []); b.writeUInt16LE(3, 4); return b; })(),
  });
  for (const chunkSize of [undefined, 300]) {
    let n = 0;
    const err = t.throws(() => { for (const _ of readUdpPackets(join(dir, 'corrupt.pcap'), newPcapStats(), { chunkSize })) n++; }) as unknown as CaptureFileError;
    t.ok(err instanceof CaptureFileError);
    t.equal(err.offset, offs[3]);
    t.match(err.message, /corrupt\.pcap: record length 300000 over 262144 at offset \d+/);
    t.equal(n, 3, 'the good records before it were yielded');
  }
  t.throws(() => collect(join(dir, 'text.pcap')), /text\.pcap: not a pcap or pcapng file \(magic 0x73696874\) at offset 0/);
  t.throws(() => collect(join(dir, 'empty.pcap')), /empty\.pcap: not a pcap or pcapng file/);
  t.throws(() => collect(join(dir, 'short.pcap')), /short\.pcap: pcap file header cut short/);
  t.throws(() => collect(join(dir, 'v3.pcap')), /unsupported pcap version 3/);
  t.throws(() => collect(join(dir, 'missing.pcap')), { code: 'ENOENT' });
  t.end();
});

t.test('stopping early closes the file', { skip: !existsSync('/proc/self/fd') && 'needs /proc' }, (t) => {
  const before = readdirSync('/proc/self/fd').length;
  for (let i = 0; i < 3; i++) for (const p of readUdpPackets(IPFIX)) if (p.dstPort === 9920) break;
  t.equal(readdirSync('/proc/self/fd').length, before);
  t.end();
});
