import t from 'tap';
import { FrameParser, addRange, newPcapStats, type PcapStats } from '../../src/ingest/frames.js';

// --- frame builders (network byte order, checksums left 0: the parser does not verify them) ---

function v4addr(a: string): number[] {
  return a.split('.').map(Number);
}

function v6addr(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const words = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  return words.flatMap((w) => [parseInt(w, 16) >> 8, parseInt(w, 16) & 255]);
}

function udp(sport: number, dport: number, payload: Buffer, len = 8 + payload.length): Buffer {
  return Buffer.concat([Buffer.from([sport >> 8, sport & 255, dport >> 8, dport & 255, len >> 8, len & 255, 0, 0]), payload]);
}

interface V4Opts { proto?: number; id?: number; mf?: boolean; off?: number; ihl?: number; total?: number; version?: number }

function ipv4(src: string, dst: string, body: Buffer, o: V4Opts = {}): Buffer {
  const ihl = o.ihl ?? 5;
  const hlen = Math.max(ihl, 5) * 4;
  const total = o.total ?? hlen + body.length;
  const ff = (o.mf ? 0x2000 : 0) | ((o.off ?? 0) >> 3);
  const h = Buffer.alloc(hlen);
  h[0] = ((o.version ?? 4) << 4) | ihl;
  h.writeUInt16BE(total, 2);
  h.writeUInt16BE(o.id ?? 0x77, 4);
  h.writeUInt16BE(ff, 6);
  h[8] = 64;
  h[9] = o.proto ?? 17;
  Buffer.from(v4addr(src)).copy(h, 12);
  Buffer.from(v4addr(dst)).copy(h, 16);
  return Buffer.concat([h, body]);
}

/** IPv6 with extension headers given as [type, bytes] (each bytes.length + 2 a multiple of 8). */
function ipv6(src: string, dst: string, nh: number, body: Buffer, ext: [number, Buffer][] = []): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < ext.length; i++) {
    const next = i + 1 < ext.length ? ext[i + 1]![0] : nh;
    const b = ext[i]![1];
    parts.push(Buffer.from([next, ext[i]![0] === 44 ? 0 : (b.length + 2) / 8 - 1]), b);
  }
  const payload = Buffer.concat([...parts, body]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = ext.length ? ext[0]![0] : nh;
  h[7] = 64;
  Buffer.from(v6addr(src)).copy(h, 8);
  Buffer.from(v6addr(dst)).copy(h, 24);
  return Buffer.concat([h, payload]);
}

const MACS = Buffer.from('020000000002020000000001', 'hex');

function eth(type: number, ip: Buffer, tags: number[] = []): Buffer {
  const t: number[] = [];
  for (const tag of tags) t.push(tag >> 8, tag & 255, 0, 100);
  return Buffer.concat([MACS, Buffer.from([...t, type >> 8, type & 255]), ip]);
}

function parser(stats: PcapStats = newPcapStats(), limits = {}): FrameParser {
  return new FrameParser(stats, limits);
}

function parse(p: FrameParser, link: number, frame: Buffer, ts = 0): boolean {
  return p.parse(link, frame, 0, frame.length, ts);
}

const PAY = Buffer.from('hello flowbridge');
const v4udp = ipv4('192.0.2.1', '198.51.100.2', udp(40000, 2055, PAY));

t.test('Ethernet IPv4 UDP: addresses, ports, payload; padding after the IP packet ignored', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  t.ok(parse(p, 1, Buffer.concat([eth(0x0800, v4udp), Buffer.alloc(6)])));
  t.same([p.srcAddr, p.srcPort, p.dstAddr, p.dstPort], ['192.0.2.1', 40000, '198.51.100.2', 2055]);
  t.equal(p.payload.toString(), 'hello flowbridge');
  // IP options (IHL 6) are skipped.
  const withOpts = ipv4('10.0.0.1', '10.0.0.2', udp(1, 2, PAY), { ihl: 6 });
  t.ok(parse(p, 1, eth(0x0800, withOpts)));
  t.same([p.srcAddr, p.srcPort, p.dstPort, p.payload.toString()], ['10.0.0.1', 1, 2, 'hello flowbridge']);
  t.same(p.packet(12.5), { tsMs: 12.5, srcAddr: '10.0.0.1', srcPort: 1, dstAddr: '10.0.0.2', dstPort: 2, payload: p.payload });
  t.equal(s.udp, 2);
  t.end();
});

t.test('802.1Q, 802.1ad and 0x9100 tags, stacked', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  for (const tags of [[0x8100], [0x88a8, 0x8100], [0x9100, 0x8100], [0x8100, 0x8100, 0x8100, 0x8100]]) {
    t.ok(parse(p, 1, eth(0x0800, v4udp, tags)), `tags ${tags.map((x) => x.toString(16))}`);
    t.equal(p.payload.toString(), 'hello flowbridge');
  }
  t.notOk(parse(p, 1, eth(0x0800, v4udp, [0x8100, 0x8100, 0x8100, 0x8100, 0x8100])), 'tag depth is bounded');
  t.equal(s.nonUdp, 1);
  t.end();
});

t.test('Linux SLL and SLL2, raw IP in all its numbers, IPv4/IPv6 link types', (t) => {
  const p = parser();
  const v6udp = ipv6('2001:db8::1', '2001:db8::2', 17, udp(5000, 6343, PAY));
  const sll = (proto: number, ip: Buffer) => Buffer.concat([Buffer.from('0000000100060200000000010000', 'hex'), Buffer.from([proto >> 8, proto & 255]), ip]);
  const sll2 = (proto: number, ip: Buffer) => Buffer.concat([Buffer.from([proto >> 8, proto & 255]), Buffer.from('00000000000300010006020000000001000000', 'hex').subarray(0, 18), ip]);
  t.ok(parse(p, 113, sll(0x0800, v4udp)));
  t.equal(p.srcAddr, '192.0.2.1');
  t.ok(parse(p, 113, sll(0x86dd, v6udp)));
  t.equal(p.srcAddr, '2001:db8::1');
  t.ok(parse(p, 276, sll2(0x86dd, v6udp)));
  t.same([p.srcAddr, p.srcPort, p.dstAddr, p.dstPort, p.payload.toString()], ['2001:db8::1', 5000, '2001:db8::2', 6343, 'hello flowbridge']);
  t.ok(parse(p, 276, sll2(0x0800, v4udp)));
  t.equal(p.dstAddr, '198.51.100.2');
  for (const link of [101, 12, 14]) {
    t.ok(parse(p, link, v4udp), `raw ${link} v4`);
    t.equal(p.srcAddr, '192.0.2.1');
    t.ok(parse(p, link, v6udp), `raw ${link} v6`);
    t.equal(p.srcAddr, '2001:db8::1');
  }
  t.ok(parse(p, 228, v4udp));
  t.ok(parse(p, 229, v6udp));
  t.equal(p.dstPort, 6343);
  t.end();
});

t.test('BSD null and OpenBSD loop: address family in either byte order', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  const v6udp = ipv6('::1', '::1', 17, udp(1, 9996, PAY));
  const fam = (n: number, le: boolean) => { const b = Buffer.alloc(4); if (le) b.writeUInt32LE(n); else b.writeUInt32BE(n); return b; };
  for (const link of [0, 108]) {
    for (const le of [true, false]) {
      t.ok(parse(p, link, Buffer.concat([fam(2, le), v4udp])), `link ${link} AF_INET le=${le}`);
      t.equal(p.srcAddr, '192.0.2.1');
      for (const af of [24, 28, 30]) {
        t.ok(parse(p, link, Buffer.concat([fam(af, le), v6udp])), `link ${link} AF ${af} le=${le}`);
        t.same([p.srcAddr, p.dstPort], ['::1', 9996]);
      }
    }
  }
  t.notOk(parse(p, 0, Buffer.concat([fam(7, true), v4udp])), 'an unknown family is not IP');
  t.equal(s.nonUdp, 1);
  t.end();
});

t.test('non-UDP is counted and skipped; unsupported link types are errors', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  t.notOk(parse(p, 1, eth(0x0806, Buffer.alloc(28))), 'ARP');
  t.notOk(parse(p, 1, eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', Buffer.alloc(20), { proto: 6 }))), 'TCP');
  t.notOk(parse(p, 1, eth(0x86dd, ipv6('::1', '::2', 58, Buffer.alloc(8)))), 'ICMPv6');
  t.notOk(parse(p, 1, eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', Buffer.alloc(20), { proto: 6, mf: true }))), 'TCP fragment');
  t.equal(p.pendingCount(), 0, 'non-UDP fragments are not held');
  t.notOk(parse(p, 147, v4udp), 'user link type');
  t.same([s.nonUdp, s.errors, s.udp], [4, 1, 0]);
  t.end();
});

t.test('IPv6 extension headers are skipped, in a bounded chain; RFC 5952 text', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  const hop = Buffer.alloc(6), routing = Buffer.alloc(22), dest = Buffer.alloc(14);
  const body = udp(7, 8, PAY);
  t.ok(parse(p, 101, ipv6('2001:db8:0:0:1:0:0:1', 'fe80::a:0:0:0:b', 17, body, [[0, hop], [43, routing], [60, dest]])));
  t.same([p.srcAddr, p.dstAddr, p.payload.toString()], ['2001:db8::1:0:0:1', 'fe80:0:0:a::b', 'hello flowbridge']);
  const atomic = Buffer.from([0, 0, 0, 0, 0, 9]); // offset 0, M=0: not really fragmented
  t.ok(parse(p, 101, ipv6('::1', '::2', 17, body, [[44, atomic]])));
  t.equal(p.payload.toString(), 'hello flowbridge');
  t.equal(p.pendingCount(), 0);
  const chain: [number, Buffer][] = Array.from({ length: 9 }, () => [60, Buffer.alloc(6)]);
  t.notOk(parse(p, 101, ipv6('::1', '::2', 17, body, chain)), 'nine headers');
  t.equal(s.errors, 1);
  t.end();
});

t.test('address text is right when packets alternate between sources', (t) => {
  const p = parser();
  const a = ipv4('10.0.0.1', '10.0.0.9', udp(1, 2, PAY)), b = ipv4('10.0.0.2', '10.0.0.9', udp(1, 2, PAY));
  const c = ipv6('2001:db8::a', '2001:db8::9', 17, udp(1, 2, PAY)), d = ipv6('2001:db8::b', '2001:db8::9', 17, udp(1, 2, PAY));
  const seen: string[] = [];
  for (const f of [a, b, a, c, d, c, c, b]) { parse(p, 101, f); seen.push(p.srcAddr); }
  t.same(seen, ['10.0.0.1', '10.0.0.2', '10.0.0.1', '2001:db8::a', '2001:db8::b', '2001:db8::a', '2001:db8::a', '10.0.0.2']);
  t.end();
});

t.test('malformed headers are errors, not exceptions', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  const bad = [
    ipv4('10.0.0.1', '10.0.0.2', udp(1, 2, PAY), { ihl: 4 }),
    ipv4('10.0.0.1', '10.0.0.2', udp(1, 2, PAY), { total: 19 }),
    ipv4('10.0.0.1', '10.0.0.2', udp(1, 2, PAY), { version: 6 }),
    ipv4('10.0.0.1', '10.0.0.2', udp(1, 2, PAY, 7)),
    ipv4('10.0.0.1', '10.0.0.2', udp(1, 2, PAY, 8 + PAY.length + 1)), // UDP longer than the IP packet
    ipv4('10.0.0.1', '10.0.0.2', Buffer.alloc(4)), // IP says 4 bytes of UDP
  ];
  for (const f of bad) t.notOk(parse(p, 1, eth(0x0800, f)));
  t.notOk(parse(p, 1, eth(0x86dd, v4udp)), 'IPv4 under the IPv6 ethertype');
  t.same([s.errors, s.udp, s.truncated], [7, 0, 0]);
  t.end();
});

t.test('frames cut by the snap length', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  const f = eth(0x0800, v4udp);
  t.notOk(parse(p, 1, f.subarray(0, 10)), 'inside the Ethernet header');
  t.notOk(parse(p, 1, f.subarray(0, 30)), 'inside the IP header');
  t.notOk(parse(p, 1, f.subarray(0, 38)), 'inside the UDP header');
  t.equal(s.truncated, 3);
  t.ok(parse(p, 1, f.subarray(0, f.length - 6)), 'payload cut: what was captured is yielded');
  t.equal(p.payload.toString(), 'hello flow');
  t.equal(s.truncated, 4);
  const frag = eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', udp(1, 2, Buffer.alloc(16)), { mf: true }));
  t.notOk(parse(p, 1, frag.subarray(0, frag.length - 8)), 'a cut fragment cannot be reassembled');
  t.same([s.truncated, s.fragments, p.pendingCount()], [5, 0, 0]);
  t.end();
});

/** IPv4 fragments of one UDP datagram, 1480 bytes of IP payload each (as over Ethernet). */
function fragments(src: string, id: number, payload: Buffer, size = 1480): Buffer[] {
  const dgram = udp(4000, 6343, payload);
  const out: Buffer[] = [];
  for (let off = 0; off < dgram.length; off += size) {
    const part = dgram.subarray(off, off + size);
    out.push(eth(0x0800, ipv4(src, '192.0.2.200', part, { id, off, mf: off + size < dgram.length })));
  }
  return out;
}

const BIG = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7) & 255));

t.test('IPv4 fragments reassemble in order, out of order, with duplicates and overlaps', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  const fr = fragments('10.9.0.1', 1, BIG);
  t.equal(fr.length, 3);
  t.notOk(parse(p, 1, fr[0]!));
  t.notOk(parse(p, 1, fr[1]!));
  t.ok(parse(p, 1, fr[2]!));
  t.same([p.srcAddr, p.srcPort, p.dstAddr, p.dstPort], ['10.9.0.1', 4000, '192.0.2.200', 6343]);
  t.ok(p.payload.equals(BIG), 'payload bytes');
  for (const order of [[2, 1, 0], [1, 1, 2, 0], [2, 0, 0, 1]]) {
    let done = 0;
    for (const i of order) if (parse(p, 1, fr[i]!)) { done++; t.ok(p.payload.equals(BIG), `order ${order}`); }
    t.equal(done, 1, `order ${order} completes once`);
  }
  // Overlap: 8 bytes of fragment 1 repeated at the end of fragment 0's range.
  const d = udp(4000, 6343, BIG);
  const a = eth(0x0800, ipv4('10.9.0.2', '192.0.2.200', d.subarray(0, 1488), { id: 5, mf: true }));
  const b = eth(0x0800, ipv4('10.9.0.2', '192.0.2.200', d.subarray(1480), { id: 5, off: 1480 }));
  t.notOk(parse(p, 1, b));
  t.ok(parse(p, 1, a));
  t.ok(p.payload.equals(BIG));
  t.same([s.reassembled, s.udp, s.fragments, p.pendingCount()], [5, 5, 16, 0]);
  t.end();
});

t.test('interleaved datagrams are kept apart by source and id', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  const x = fragments('10.9.0.1', 9, BIG), y = fragments('10.9.0.2', 9, BIG.subarray(0, 2000)), z = fragments('10.9.0.1', 10, BIG.subarray(0, 3000));
  const got: [string, number][] = [];
  for (const f of [x[0], y[0], z[0], x[1], z[1], y[1], x[2], z[2]]) if (parse(p, 1, f!)) got.push([p.srcAddr, p.payload.length]);
  t.same(got, [['10.9.0.2', 2000], ['10.9.0.1', 4000], ['10.9.0.1', 3000]]);
  t.equal(s.reassembled, 3);
  t.end();
});

t.test('reassembly is bounded: timeout, capacity, size, inconsistency, end of capture', (t) => {
  const s = newPcapStats();
  const p = parser(s, { maxDatagrams: 4 });
  const fr = fragments('10.9.0.1', 1, BIG);
  parse(p, 1, fr[0]!, 1000);
  parse(p, 1, fragments('10.9.0.3', 2, BIG)[0]!, 31_001); // 30.001 s later: the first has expired
  t.equal(p.pendingCount(), 1);
  t.equal(s.fragmentsDropped, 1);
  t.notOk(parse(p, 1, fr[1]!, 31_002), 'a late fragment starts a new, incomplete datagram');
  for (let id = 100; id < 104; id++) parse(p, 1, fragments('10.9.0.4', id, BIG)[0]!, 31_003);
  t.equal(p.pendingCount(), 4, 'capacity holds');
  t.equal(s.fragmentsDropped, 3, 'the two oldest made room');
  // Past 65,535 bytes of payload.
  const huge = eth(0x0800, ipv4('10.9.0.5', '192.0.2.200', Buffer.alloc(16), { id: 7, off: 65528, mf: true }));
  t.notOk(parse(p, 1, huge, 31_004));
  t.equal(s.fragmentsDropped, 4, 'the oversized one, without evicting another for it');
  t.equal(p.pendingCount(), 4);
  // Two different last fragments.
  const last1 = eth(0x0800, ipv4('10.9.0.6', '192.0.2.200', Buffer.alloc(16), { id: 8, off: 1480 }));
  const last2 = eth(0x0800, ipv4('10.9.0.6', '192.0.2.200', Buffer.alloc(24), { id: 8, off: 1480 }));
  parse(p, 1, last1, 31_005);
  t.notOk(parse(p, 1, last2, 31_005));
  t.equal(s.fragmentsDropped, 6);
  t.equal(p.finish(), 3, 'end of capture gives up the rest');
  t.same([s.fragmentsDropped, s.reassembled, p.pendingCount()], [9, 0, 0]);
  t.end();
});

t.test('IPv6 fragments reassemble too', (t) => {
  const s = newPcapStats();
  const p = parser(s);
  const d = udp(4000, 6343, BIG);
  const frag = (off: number, more: boolean) => Buffer.from([(off >> 8) & 255, (off & 0xf8) | (more ? 1 : 0), 0, 0, 1, 2]);
  const mk = (off: number, end: number, more: boolean) => ipv6('2001:db8::5', '2001:db8::6', 17, d.subarray(off, end), [[44, frag(off, more)]]);
  t.notOk(parse(p, 229, mk(1448, d.length, false)));
  t.ok(parse(p, 229, mk(0, 1448, true)));
  t.same([p.srcAddr, p.dstAddr, p.dstPort], ['2001:db8::5', '2001:db8::6', 6343]);
  t.ok(p.payload.equals(BIG));
  t.same([s.fragments, s.reassembled], [2, 1]);
  t.end();
});

t.test('addRange merges overlapping and adjacent ranges', (t) => {
  const r: number[] = [];
  t.ok(addRange(r, 10, 20));
  t.ok(addRange(r, 30, 40));
  t.same(r, [10, 20, 30, 40]);
  t.ok(addRange(r, 0, 10));
  t.same(r, [0, 20, 30, 40], 'adjacent joins');
  t.ok(addRange(r, 15, 35));
  t.same(r, [0, 40]);
  const many: number[] = [];
  let ok = true;
  for (let i = 0; i < 300 && ok; i++) ok = addRange(many, i * 16, i * 16 + 8);
  t.notOk(ok, 'holes are capped');
  t.equal(many.length, 512);
  t.end();
});
