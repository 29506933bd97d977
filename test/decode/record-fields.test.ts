// The routing and QoS fields every decoder fills where its format carries them: ToS / traffic class,
// source and destination AS, next hop (IPv4 or IPv6). Crafted datagrams for each field and format
// (2- and 4-byte AS, IP vs BGP next hop, the three fixed-layout readers, biflows, cuts at every offset),
// then tshark's decoding of the same bytes: the exporters' captures in test/fixtures, and crafted
// datagrams carrying every field, since those captures carry only zeros.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { have } from '../helpers/process.js';
import { pcapBytes } from '../helpers/pcap-write.js';
import { readUdpPackets } from '../../src/ingest/pcap.js';
import { Netflow5Decoder } from '../../src/decode/netflow5.js';
import { Netflow9Decoder } from '../../src/decode/netflow9.js';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { SflowDecoder } from '../../src/decode/sflow.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { COMPILE_AFTER } from '../../src/decode/fixed.js';
import { DecodeError } from '../../src/lib/errors.js';
import type { DatagramDecoder } from '../../src/decode/types.js';
import type { FlowRecord } from '../../src/flow/record.js';
import { Sink, cat, hex, ip4, ipfix, nextHopText, set, tpl, u16, u32, u64, u8, v9, type Field } from './nf-build.js';

const R = 29305; // RFC 5103 reverse PEN
const EXPORT_S = 1700000010;
const V9H = { sysUptime: 2_000_000, unixSecs: EXPORT_S, sourceId: 1 };
const IPFIXH = { exportTime: EXPORT_S, domain: 1 };
const ip6 = (s: string) => hex(s);
const A6 = '20010db8000100000000000000000010', B6 = '20010db800ff00000000000000000020';
const NH6 = '20010db8000000000000000000000001', BGP6 = '20010db80000000000000000000000fe';
const ZERO6 = '00'.repeat(16);

/** The four fields under test, as text. */
interface Routing { tos: number; srcAs: number; dstAs: number; nextHop: string }
const routing = (r: Routing): Routing => ({ tos: r.tos, srcAs: r.srcAs, dstAs: r.dstAs, nextHop: r.nextHop });
const fieldsOf = (r: FlowRecord): Routing => ({ tos: r.tos, srcAs: r.srcAs, dstAs: r.dstAs, nextHop: nextHopText(r) });

function templated(kind: 'v9' | 'ipfix') {
  const sink = new Sink();
  const deps = { templates: new TemplateCache({ now: () => 0, report: sink.report }), sampling: new SamplingTable(), report: sink.report };
  const dec = kind === 'v9' ? new Netflow9Decoder(deps) : new IpfixDecoder(deps);
  const wrap = (...sets: Buffer[]) => (kind === 'v9' ? v9(V9H, ...sets) : ipfix(IPFIXH, ...sets));
  return { sink, dec, wrap, tplSet: kind === 'v9' ? 0 : 2 };
}

/** Decodes `full` cut at every offset: DecodeErrors thrown, and records emitted, over all the cuts. */
function cutEverywhere(dec: DatagramDecoder, full: Buffer): { thrown: number; emitted: number } {
  let thrown = 0, emitted = 0;
  for (let cut = 0; cut < full.length; cut++) {
    try {
      dec.decode(full.subarray(0, cut), 'x', 0, () => void emitted++);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      thrown++;
    }
  }
  return { thrown, emitted };
}

// ---- NetFlow v5 ---------------------------------------------------------------------------------

function v5(records: Buffer[]): Buffer {
  return cat(u16(5), u16(records.length), u32(1_000_000), u32(EXPORT_S), u32(0), u32(1), u8(0), u8(0), u16(0), ...records);
}
function v5rec(nextHop: string, tos: number, srcAs: number, dstAs: number): Buffer {
  return cat(ip4('10.0.0.1'), ip4('192.0.2.9'), ip4(nextHop), u16(3), u16(4), u32(2), u32(120), u32(999_000), u32(999_500),
    u16(40000), u16(443), u8(0), u8(0x18), u8(6), u8(tos), u16(srcAs), u16(dstAs), u8(24), u8(16), u16(0));
}

t.test('NetFlow v5: next hop (8), tos (39), src_as (40), dst_as (42); 0.0.0.0 is no next hop', (t) => {
  const sink = new Sink();
  const dec = new Netflow5Decoder({ report: sink.report });
  const full = v5([v5rec('192.0.2.254', 0xb8, 64512, 65001), v5rec('0.0.0.0', 0x02, 0, 65535)]);
  t.equal(dec.decode(full, 'x', 0, sink.emit), 2);
  t.same(sink.records.map(routing), [
    { tos: 0xb8, srcAs: 64512, dstAs: 65001, nextHop: '192.0.2.254' },
    { tos: 0x02, srcAs: 0, dstAs: 65535, nextHop: '' },
  ]);
  t.match(sink.records[0], { protocol: 6, tcpFlags: 0x18, inIf: 3, outIf: 4 }, 'the fields around them are unchanged');
  // cut anywhere: a DecodeError and nothing emitted, never a record read past the end
  const cuts = cutEverywhere(dec, full);
  t.equal(cuts.thrown, full.length, 'every cut is a DecodeError');
  t.equal(cuts.emitted, 0, 'nothing emitted from a cut datagram');
  t.end();
});

// ---- NetFlow v9 / IPFIX -------------------------------------------------------------------------

// A: 2-byte AS, IP and BGP next hop (the IP one wins, even when it is 0.0.0.0), postVlanId before vlanId
const TPL_A: Field[] = [[8, 4], [12, 4], [1, 4], [2, 4], [5, 1], [16, 2], [17, 2], [15, 4], [18, 4], [59, 2], [58, 2]];
const rowA = (tos: number, srcAs: number, dstAs: number, nh: string, bgp: string, post: number, vlan: number) =>
  cat(ip4('10.0.0.1'), ip4('192.0.2.9'), u32(1500), u32(3), u8(tos), u16(srcAs), u16(dstAs), ip4(nh), ip4(bgp), u16(post), u16(vlan));
// B: IPv6, 4-byte AS, IPv6 next hop
const TPL_B: Field[] = [[27, 16], [28, 16], [1, 4], [2, 4], [5, 1], [16, 4], [17, 4], [62, 16]];
const rowB = (tos: number, srcAs: number, dstAs: number, nh: string) =>
  cat(ip6(A6), ip6(B6), u32(900), u32(2), u8(tos), u32(srcAs), u32(dstAs), ip6(nh));
// C: only BGP next hops, v4 and v6 (a zero address is none), dot1qVlanId
const TPL_C: Field[] = [[8, 4], [12, 4], [1, 4], [2, 4], [18, 4], [63, 16], [243, 2]];
const rowC = (bgp: string, bgp6: string, vlan: number) =>
  cat(ip4('10.0.0.2'), ip4('192.0.2.10'), u32(700), u32(1), ip4(bgp), ip6(bgp6), u16(vlan));

interface Layout { name: string; fields: Field[]; rows: Buffer[]; want: Array<Routing & { vlan: number }> }
const LAYOUTS: Layout[] = [
  { name: 'A (2-byte AS, IP next hop over BGP, postVlanId)', fields: TPL_A,
    rows: [rowA(0xb8, 64512, 65001, '192.0.2.254', '203.0.113.1', 200, 100), rowA(0x28, 0, 1, '0.0.0.0', '203.0.113.1', 200, 0)],
    want: [{ tos: 0xb8, srcAs: 64512, dstAs: 65001, nextHop: '192.0.2.254', vlan: 100 },
      { tos: 0x28, srcAs: 0, dstAs: 1, nextHop: '', vlan: 200 }] },
  { name: 'B (IPv6, 4-byte AS, IPv6 next hop)', fields: TPL_B,
    rows: [rowB(0x2e, 4200000001, 131072, NH6), rowB(0, 65536, 0, ZERO6)],
    want: [{ tos: 0x2e, srcAs: 4200000001, dstAs: 131072, nextHop: '2001:db8::1', vlan: 0 },
      { tos: 0, srcAs: 65536, dstAs: 0, nextHop: '', vlan: 0 }] },
  { name: 'C (BGP next hops only, dot1qVlanId)', fields: TPL_C,
    rows: [rowC('203.0.113.1', ZERO6, 7), rowC('0.0.0.0', BGP6, 0)],
    want: [{ tos: 0, srcAs: 0, dstAs: 0, nextHop: '203.0.113.1', vlan: 7 },
      { tos: 0, srcAs: 0, dstAs: 0, nextHop: '2001:db8::fe', vlan: 0 }] },
];
const withVlan = (r: Routing & { vlan: number }) => ({ ...routing(r), vlan: r.vlan });

for (const kind of ['v9', 'ipfix'] as const) {
  t.test(`${kind}: ToS, AS, next hop and VLAN through the interpreted, compiled and checked readers`, (t) => {
    for (const l of LAYOUTS) {
      const { sink, dec, wrap, tplSet } = templated(kind);
      // enough records for the layout to be compiled: the first pair interpreted, the last compiled
      const rows: Buffer[] = [];
      for (let i = 0; i <= COMPILE_AFTER; i += 2) rows.push(...l.rows);
      dec.decode(wrap(set(tplSet, tpl(300, l.fields)), set(300, cat(...rows))), 'x', 0, sink.emit);
      t.same(sink.errors, [], l.name);
      t.same(sink.records.slice(0, 2).map(withVlan), l.want, `${l.name}: interpreted`);
      t.same(sink.records.slice(-2).map(withVlan), l.want, `${l.name}: compiled`);
      if (kind === 'ipfix') {
        // a variable-length field (IE 82 interfaceName) makes the layout take the checked reader
        const s2 = templated(kind);
        const name = cat(u8(3), Buffer.from('et0'));
        s2.dec.decode(s2.wrap(set(2, tpl(301, [...l.fields, [82, 65535]])), set(301, cat(...l.rows.map((r) => cat(r, name))))), 'x', 0, s2.sink.emit);
        t.same(s2.sink.errors, []);
        t.same(s2.sink.records.map(withVlan), l.want, `${l.name}: checked`);
      }
    }
    t.end();
  });
}

t.test('a v9 record cut inside the new fields is reported as truncated; the records before it are kept', (t) => {
  const { sink, dec, wrap } = templated('v9');
  dec.decode(wrap(set(0, tpl(300, TPL_A))), 'x', 0, sink.emit);
  const data = set(300, cat(...LAYOUTS[0]!.rows));
  const full = wrap(data);
  const rowLen = LAYOUTS[0]!.rows[0]!.length;
  for (let cut = 20; cut < full.length; cut++) {
    const before = sink.records.length;
    // the set length still claims the whole set: a cut is a set running past the datagram
    try {
      dec.decode(full.subarray(0, cut), 'x', 0, sink.emit);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
    t.equal(sink.records.length, before, `cut ${cut}: nothing from a set cut short`);
  }
  // the set itself shortened inside the second record's AS numbers
  const short = cat(u16(300), u16(4 + rowLen + 12), LAYOUTS[0]!.rows[0]!, LAYOUTS[0]!.rows[1]!.subarray(0, 12));
  sink.errors.length = 0;
  t.equal(dec.decode(wrap(short), 'x', 0, sink.emit), 1);
  t.same(sink.kinds(), ['truncated']);
  t.same(routing(sink.records.at(-1)!), LAYOUTS[0]!.want.map(routing)[0]);
  t.end();
});

t.test('IPFIX biflow: the reverse half swaps the AS numbers, takes its own ToS and has no next hop', (t) => {
  const { sink, dec } = templated('ipfix');
  const BI: Field[] = [[8, 4], [12, 4], [1, 8], [2, 4], [5, 1], [16, 4], [17, 4], [15, 4], [1, 8, R], [2, 4, R], [5, 1, R]];
  const row = (rtos: number) => cat(ip4('10.0.0.1'), ip4('192.0.2.9'), u64(1200), u32(10), u8(0x28), u32(64500), u32(4200000000),
    ip4('192.0.2.254'), u64(9000), u32(7), u8(rtos));
  const noRevTos = BI.slice(0, -1);
  dec.decode(ipfix(IPFIXH, set(2, tpl(300, BI)), set(2, tpl(301, noRevTos)), set(300, row(0x48)),
    set(301, row(0).subarray(0, -1))), 'x', 0, sink.emit);
  t.same(sink.errors, []);
  t.same(sink.records.map((r) => ({ ...routing(r), src: r.src })), [
    { tos: 0x28, srcAs: 64500, dstAs: 4200000000, nextHop: '192.0.2.254', src: '10.0.0.1' },
    { tos: 0x48, srcAs: 4200000000, dstAs: 64500, nextHop: '', src: '192.0.2.9' },
    { tos: 0x28, srcAs: 64500, dstAs: 4200000000, nextHop: '192.0.2.254', src: '10.0.0.1' },
    { tos: 0x28, srcAs: 4200000000, dstAs: 64500, nextHop: '', src: '192.0.2.9' },
  ], 'without a reverse ipClassOfService the reverse half keeps the forward ToS');
  t.end();
});

// ---- sFlow v5 -----------------------------------------------------------------------------------

const hx = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
const clean = (s: string) => s.replace(/\s+/g, '');
const entry = (format: number, body: string) => hx(format) + hx(clean(body).length / 2) + clean(body);
const pad4 = (h: string) => h + '00'.repeat((4 - ((h.length / 2) % 4)) % 4);
const rawHeader = (frame: number, header: string) =>
  entry(1, hx(1) + hx(frame) + hx(4) + hx(clean(header).length / 2) + pad4(clean(header)));
const flowSample = (...records: string[]) =>
  entry(1, hx(7) + hx(3) + hx(64) + hx(100) + hx(0) + hx(1) + hx(2) + hx(records.length) + records.join(''));
const sflowDatagram = (samples: string[]) =>
  Buffer.from(clean(hx(5) + '00000001 7f000001' + hx(1) + hx(42) + hx(1000) + hx(samples.length) + samples.join('')), 'hex');
const addr4 = (a: string) => hx(1) + ip4(a).toString('hex');
const addr6 = (a: string) => hx(2) + a;
const router = (addr: string) => entry(1002, addr + hx(24) + hx(16));
/** extended_gateway: next hop, as, src_as, src_peer_as, path segments [type, ASes], communities, localpref. */
const gateway = (addr: string, own: number, src: number, path: Array<[number, number[]]>, communities: number[] = []) =>
  entry(1003, addr + hx(own) + hx(src) + hx(src + 1) + hx(path.length) +
    path.map(([type, ases]) => hx(type) + hx(ases.length) + ases.map(hx).join('')).join('') +
    hx(communities.length) + communities.map(hx).join('') + hx(100));
const ETH = '020000000002 020000000001';
const TCP = 'a0b8 01bb 00000001 00000000 5018 ffff 0000 0000';
const ip4hdr = (tos: string) => `45${tos} 0034 1234 4000 4006 0000 0a010030 c6336435 ${TCP}`;
const frame4 = (tos = '00') => rawHeader(70, `${ETH} 0800 ${ip4hdr(tos)}`);
const frame6 = (tclass: number) => rawHeader(90, `${ETH} 86dd ${hx(0x60000000 | (tclass << 20))} 0014 06 40 ${A6} ${B6} ${TCP}`);

function sflowRun(buf: Buffer, sink = new Sink()) {
  const dec = new SflowDecoder({ report: sink.report });
  dec.decode(buf, 'x', 0, sink.emit);
  return sink;
}

t.test('sFlow: ToS of the sampled IPv4 header, traffic class of the IPv6 one, tos of the sampled-IP records', (t) => {
  const s4 = (tos: string) => entry(3, hx(1500) + hx(6) + '0a010030 c6336435' + hx(41144) + hx(443) + hx(0x18) + tos);
  const s6 = entry(4, hx(1280) + hx(17) + A6 + B6 + hx(5353) + hx(53) + hx(0) + hx(0xb8));
  const sink = sflowRun(sflowDatagram([flowSample(frame4('b8')), flowSample(frame6(0x2e)), flowSample(s4(hx(0x20))),
    flowSample(s6), flowSample(s4(''))]));
  t.same(sink.errors, []);
  t.same(sink.records.map((r) => [r.ipVersion, r.tos]), [[4, 0xb8], [6, 0x2e], [4, 0x20], [6, 0xb8], [4, 0]],
    'a sampled IPv4 record without its tos word is still a record');
  t.end();
});

t.test('sFlow: extended router and gateway records give the next hop and the AS numbers', (t) => {
  const seq = 2, asSet = 1;
  const cases: Array<[string, string[], Routing]> = [
    ['router, IPv4 next hop', [router(addr4('192.0.2.254')), frame4()], { tos: 0, srcAs: 0, dstAs: 0, nextHop: '192.0.2.254' }],
    ['router, IPv6 next hop', [frame4(), router(addr6(NH6))], { tos: 0, srcAs: 0, dstAs: 0, nextHop: '2001:db8::1' }],
    ['router, unknown address type: no next hop', [router(hx(0)), frame4()], { tos: 0, srcAs: 0, dstAs: 0, nextHop: '' }],
    ['gateway: destination AS the path\'s last', [gateway(addr4('203.0.113.1'), 64496, 64497, [[seq, [64510, 64511]], [asSet, [64520]]]), frame4()],
      { tos: 0, srcAs: 64497, dstAs: 64520, nextHop: '203.0.113.1' }],
    ['gateway: an empty path is the router\'s own AS', [frame4(), gateway(addr6(BGP6), 4200000001, 0, [], [1, 2])],
      { tos: 0, srcAs: 0, dstAs: 4200000001, nextHop: '2001:db8::fe' }],
    ['gateway: empty segments are skipped', [gateway(addr4('203.0.113.1'), 1, 2, [[seq, [3, 4]], [seq, []]])],
      { tos: 0, srcAs: 2, dstAs: 4, nextHop: '203.0.113.1' }],
    ['router and gateway: the router\'s next hop', [gateway(addr4('203.0.113.1'), 1, 2, [[seq, [3]]]), router(addr4('192.0.2.254')), frame4('10')],
      { tos: 0x10, srcAs: 2, dstAs: 3, nextHop: '192.0.2.254' }],
    ['router with 0.0.0.0: the gateway\'s next hop', [router(addr4('0.0.0.0')), gateway(addr4('203.0.113.1'), 1, 2, [[seq, [3]]])],
      { tos: 0, srcAs: 2, dstAs: 3, nextHop: '203.0.113.1' }],
  ];
  for (const [name, records, want] of cases) {
    const sink = sflowRun(sflowDatagram([flowSample(...records)]));
    t.same(sink.errors, [], name);
    t.same(sink.records.map(routing), [want], name);
  }
  // nothing carries over to the next sample
  const sink = sflowRun(sflowDatagram([flowSample(router(addr4('192.0.2.254')), gateway(addr4('203.0.113.1'), 1, 2, [[seq, [3]]])), flowSample(frame4())]));
  t.same(sink.records.map(routing), [{ tos: 0, srcAs: 2, dstAs: 3, nextHop: '192.0.2.254' }, { tos: 0, srcAs: 0, dstAs: 0, nextHop: '' }]);
  t.end();
});

t.test('sFlow: a lying AS path or an unknown address type drops that sample only', (t) => {
  const good = flowSample(frame4());
  const lying = [
    entry(1003, addr4('203.0.113.1') + hx(1) + hx(2) + hx(3) + hx(1000)), // 1000 segments in 4 bytes
    entry(1003, addr4('203.0.113.1') + hx(1) + hx(2) + hx(3) + hx(1) + hx(2) + hx(1000) + hx(5)), // 1000 ASes
    entry(1002, hx(7) + hx(0) + hx(0)), // address type 7
    entry(1003, addr4('203.0.113.1') + hx(1)), // cut after `as`
    entry(1002, hx(2) + '20010db8'), // cut inside an IPv6 address
  ];
  for (const rec of lying) {
    const sink = sflowRun(sflowDatagram([flowSample(rec, frame4()), good]));
    t.equal(sink.records.length, 1, `the next sample still decodes ${sink.errors.map((e) => e.message).join(' / ')}`);
    t.equal(sink.errors.length, 1);
    t.ok(['bad_count', 'unsupported_format', 'truncated'].includes(sink.errors[0]!.kind), sink.errors[0]!.message);
  }
  // cut at every offset: only DecodeErrors (reported or thrown), never a partial sample
  const full = sflowDatagram([flowSample(router(addr6(NH6)), gateway(addr4('203.0.113.1'), 1, 2, [[2, [3, 4]]]), frame4('b8'))]);
  t.equal(cutEverywhere(new SflowDecoder({ report: () => {} }), full).emitted, 0, 'nothing emitted from a cut datagram');
  const sink = sflowRun(full);
  t.same(sink.records.map(routing), [{ tos: 0xb8, srcAs: 2, dstAs: 4, nextHop: '2001:db8::1' }]);
  t.end();
});

// ---- tshark -------------------------------------------------------------------------------------

const haveTshark = have('tshark');
const noTshark = haveTshark ? false : 'tshark is not installed (Debian package tshark)';
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** tshark's PDML of a capture, the datagrams to `port` decoded as `proto`: one string per frame. */
function pdmlFrames(file: string, port: number, proto: string): string[] {
  const xml = execFileSync('tshark', ['-n', '-r', file, '-d', `udp.port==${port},${proto}`, '-Y', `udp.dstport==${port}`, '-T', 'pdml'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 << 20 });
  return xml.split('<packet>').slice(1);
}

/** Every `show` value of the named field in a piece of PDML, in order. */
function shows(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<field name="${name.replace(/\./g, '\\.')}"[^>]* show="([^"]*)"`, 'g'))].map((m) => m[1]!);
}

/** Each datagram's records' fields, as the decoder emits them. */
function decodeAll(datagrams: Buffer[], dec: DatagramDecoder): Routing[][] {
  return datagrams.map((d) => {
    const out: Routing[] = [];
    dec.decode(d, '192.0.2.1', EXPORT_S * 1000, (r) => void out.push(fieldsOf(r)));
    return out;
  });
}

function makeDecoder(kind: 'v5' | 'v9' | 'ipfix' | 'sflow'): DatagramDecoder {
  const report = () => {};
  const deps = { templates: new TemplateCache({ now: () => 0, report }), sampling: new SamplingTable(), report };
  if (kind === 'v5') return new Netflow5Decoder({ report });
  if (kind === 'v9') return new Netflow9Decoder(deps);
  if (kind === 'ipfix') return new IpfixDecoder(deps);
  return new SflowDecoder({ report });
}

const key = (r: Routing) => `${r.tos}|${r.srcAs}|${r.dstAs}|${r.nextHop}`;
const hexNum = (v: string | undefined) => (v === undefined ? 0 : Number(v));
/** tshark's next hop: the IP one when set, else the BGP one; 0.0.0.0 and :: are none. */
function tsNextHop(...candidates: Array<string | undefined>): string {
  for (const c of candidates) if (c !== undefined && c !== '0.0.0.0' && c !== '::') return c;
  return '';
}

/**
 * Compares per datagram: every record tshark decodes must be one flowbridge emitted from the same
 * datagram with the same fields. Returns the figures; records flowbridge decodes beyond tshark's are
 * counted (softflowd's first v9 datagram has a data set after the header's record count, where tshark stops).
 */
function compare(t: Test, name: string, mine: Routing[][], theirs: Routing[][]) {
  t.equal(theirs.length, mine.length, `${name}: tshark reads every datagram`);
  let matched = 0, extra = 0, missing = 0;
  const hist = new Map<string, number>();
  for (let i = 0; i < mine.length; i++) {
    const left = new Map<string, number>();
    for (const r of mine[i]!) left.set(key(r), (left.get(key(r)) ?? 0) + 1);
    for (const r of theirs[i] ?? []) {
      const k = key(r), n = left.get(k) ?? 0;
      if (n === 0) { missing++; continue; }
      left.set(k, n - 1);
      matched++;
      hist.set(k, (hist.get(k) ?? 0) + 1);
    }
    for (const n of left.values()) extra += n;
  }
  t.equal(missing, 0, `${name}: every record tshark decodes is flowbridge's, fields equal`);
  const sum = (f: (r: Routing) => number) => theirs.flat().reduce((a, r) => a + f(r), 0);
  return { matched, extra, tosSum: sum((r) => r.tos), srcAsSum: sum((r) => r.srcAs), dstAsSum: sum((r) => r.dstAs),
    nextHops: theirs.flat().filter((r) => r.nextHop !== '').length, distinct: [...hist.keys()].length };
}

/** tshark's cflow flow records per frame (options records, without octets, left out). */
function cflowFrames(file: string, port: number): Routing[][] {
  return pdmlFrames(file, port, 'cflow').map((frame) => frame.split(/<field name="" show="(?:Flow \d+|pdu \d+)/).slice(1)
    .filter((rec) => shows(rec, 'cflow.octets').length > 0)
    .map((rec) => {
      // the BGP next hop counts only in a record without an IP next hop field (flowbridge: per template)
      const ip = [...shows(rec, 'cflow.nexthop'), ...shows(rec, 'cflow.nexthopv6')];
      const nextHop = ip.length > 0 ? tsNextHop(...ip) : tsNextHop(...shows(rec, 'cflow.bgpnexthop'), ...shows(rec, 'cflow.bgpnexthopv6'));
      return { tos: hexNum(shows(rec, 'cflow.tos')[0]), srcAs: hexNum(shows(rec, 'cflow.srcas')[0]),
        dstAs: hexNum(shows(rec, 'cflow.dstas')[0]), nextHop };
    }));
}

/**
 * tshark's sFlow flow samples per frame: the sampled header's ToS / traffic class (its first IP
 * header: an ICMP error's quoted one comes after), the extended router's next hop, else the
 * gateway's; the gateway's src_as, and its destination path's last AS, else its `as`.
 */
function sflowFrames(file: string, port: number): Routing[][] {
  return pdmlFrames(file, port, 'sflow').map((frame) => frame.split(/<field name="" show="Flow sample/).slice(1).map((sample) => {
    const parts = sample.split(/<field name="" show="(?=Extended|Raw packet)/);
    const part = (head: string) => parts.find((p) => p.startsWith(head)) ?? '';
    const router = part('Extended router'), gw = part('Extended gateway'), raw = part('Raw packet');
    const tos = [...shows(raw, 'ip.dsfield'), ...shows(raw, 'ipv6.tclass')];
    const ip4At = raw.indexOf('name="ip.dsfield"'), ip6At = raw.indexOf('name="ipv6.tclass"');
    const first = ip6At >= 0 && (ip4At < 0 || ip6At < ip4At) ? shows(raw, 'ipv6.tclass')[0] : tos[0];
    const path = shows(gw, 'sflow_245.dstAS');
    return {
      tos: hexNum(first), srcAs: hexNum(shows(gw, 'sflow_245.srcAS')[0]),
      dstAs: path.length > 0 ? Number(path.at(-1)) : hexNum(shows(gw, 'sflow_245.as')[0]),
      nextHop: tsNextHop(...shows(router, 'sflow_245.nexthop'), ...shows(router, 'sflow_245.nexthop.v6'),
        ...shows(gw, 'sflow_245.nexthop'), ...shows(gw, 'sflow_245.nexthop.v6')),
    };
  }));
}

// softflowd's first v9 datagram has a data set after the header's record count, where tshark stops
const CAPTURES = [
  ['softflowd-v5.pcap', 29905, 'v5', 0], ['softflowd-v9.pcap', 29909, 'v9', 4], ['pmacctd-v9.pcap', 9921, 'v9', 0],
  ['pmacctd-ipfix.pcap', 9920, 'ipfix', 0],
] as const;

t.test('the exporters\' captures: ToS, AS and next hop as tshark decodes them', { skip: noTshark }, (t) => {
  for (const [file, port, kind, extraWant] of CAPTURES) {
    const datagrams: Buffer[] = [];
    // copied as they are read: the reader reuses its chunks
    for (const p of readUdpPackets(fixture(file))) if (p.dstPort === port) datagrams.push(Buffer.from(p.payload));
    const mine = decodeAll(datagrams, makeDecoder(kind));
    const theirs = cflowFrames(fixture(file), port);
    const f = compare(t, file, mine, theirs);
    t.equal(f.extra, extraWant, `${file}: records flowbridge decodes beyond tshark's`);
    t.comment(`${file}: ${f.matched} records equal to tshark's (+${f.extra} it skips); ToS sum ${f.tosSum}, AS sums ${f.srcAsSum}/${f.dstAsSum}, next hops ${f.nextHops}`);
  }
  // sFlow (too large for PDML): the sampled headers' ToS values after each frame's outer IPv4 header;
  // an ICMP error's quoted header would count in tshark's too, so non-zero values and sums are compared
  const file = fixture('pmacctd-sflow.pcap');
  const datagrams: Buffer[] = [];
  for (const p of readUdpPackets(file)) if (p.dstPort === 9922) datagrams.push(Buffer.from(p.payload));
  const mine = decodeAll(datagrams, makeDecoder('sflow')).flat();
  const out = execFileSync('tshark', ['-n', '-r', file, '-d', 'udp.port==9922,sflow', '-Y', 'udp.dstport==9922', '-T', 'fields',
    '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=;', '-e', 'ip.dsfield', '-e', 'ipv6.tclass', '-e', 'sflow_245.nexthop',
    '-e', 'sflow_245.srcAS', '-e', 'sflow_245.as'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  const rows = out.split('\n').filter((l) => l !== '').map((l) => l.split('\t').map((v) => (v === '' ? [] : v.split(';'))));
  t.equal(rows.length, datagrams.length, 'tshark reads every sFlow datagram');
  const theirTos = rows.flatMap((c) => [...c[0]!.slice(1), ...(c[1] ?? [])].map(hexNum));
  const mineTos = mine.map((r) => r.tos);
  const nonZero = (a: number[]) => a.filter((v) => v !== 0).sort((x, y) => x - y);
  t.same(nonZero(mineTos), nonZero(theirTos), 'the non-zero ToS values are tshark\'s');
  t.ok(theirTos.length >= mineTos.length, `tshark's sampled IP headers (${theirTos.length}) cover the samples (${mineTos.length})`);
  t.same(rows.filter((c) => c.slice(2).some((v) => v.length > 0)), [], 'tshark: no router or gateway records');
  t.same(mine.filter((r) => r.srcAs !== 0 || r.dstAs !== 0 || r.nextHop !== ''), [], 'flowbridge: no AS or next hop');
  t.comment(`pmacctd-sflow.pcap: ${mineTos.length} samples, tshark ${theirTos.length} sampled IP headers; ToS sums ${mineTos.reduce((a, b) => a + b, 0)} / ${theirTos.reduce((a, b) => a + b, 0)}`);
  t.end();
});

t.test('crafted datagrams carrying every field: flowbridge decodes what tshark does', { skip: noTshark }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-fields-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = (name: string, kind: 'v5' | 'v9' | 'ipfix' | 'sflow', datagrams: Buffer[], theirs: (file: string) => Routing[][]) => {
    const file = join(dir, `${name}.pcap`);
    writeFileSync(file, pcapBytes(datagrams.map((payload) => ({ tsMs: EXPORT_S * 1000, payload }))));
    const mine = decodeAll(datagrams, makeDecoder(kind));
    const f = compare(t, name, mine, theirs(file));
    t.equal(f.extra, 0, `${name}: tshark decodes every record`);
    t.ok(f.distinct > 1, `${name}: ${f.distinct} distinct field combinations`);
    t.comment(`${name}: ${f.matched} records equal to tshark's; ToS sum ${f.tosSum}, AS sums ${f.srcAsSum}/${f.dstAsSum}, next hops ${f.nextHops}`);
  };
  const cflow = (file: string) => cflowFrames(file, 2055);
  // v5: a spread of values
  const v5recs = Array.from({ length: 24 }, (_, i) => v5rec(i % 3 === 0 ? '0.0.0.0' : `192.0.2.${i}`, (i * 37) & 255, i * 2731, 65535 - i));
  run('v5', 'v5', [v5(v5recs.slice(0, 12)), v5(v5recs.slice(12))], cflow);
  // v9 and IPFIX: templates A, B (IPv6, 4-byte AS) and C (BGP next hops only), many records each
  for (const kind of ['v9', 'ipfix'] as const) {
    const { wrap, tplSet } = templated(kind);
    const datagrams = [wrap(set(tplSet, cat(tpl(300, TPL_A), tpl(301, TPL_B), tpl(302, TPL_C))))];
    for (let d = 0; d < 4; d++) {
      const a: Buffer[] = [], b: Buffer[] = [], c: Buffer[] = [];
      for (let i = 0; i < 10; i++) {
        const k = d * 10 + i;
        a.push(rowA((k * 4) & 255, 64512 + k, k % 5 === 0 ? 0 : 100 + k, k % 4 === 0 ? '0.0.0.0' : `192.0.2.${k}`, '203.0.113.1', 0, 0));
        b.push(rowB((k * 8) & 255, 4200000000 + k, 131072 + k, k % 3 === 0 ? ZERO6 : NH6));
        c.push(rowC(k % 2 === 0 ? `203.0.113.${k}` : '0.0.0.0', k % 2 === 0 ? ZERO6 : BGP6, 0));
      }
      datagrams.push(wrap(set(300, cat(...a)), set(301, cat(...b)), set(302, cat(...c))));
    }
    run(kind, kind, datagrams, cflow);
  }
  // sFlow: headers with ToS / traffic class, router and gateway records
  const samples: string[] = [];
  for (let k = 0; k < 30; k++) {
    const recs = [k % 2 === 0 ? frame4(((k * 4) & 255).toString(16).padStart(2, '0')) : frame6((k * 8) & 255)];
    if (k % 3 !== 2) recs.push(router(k % 3 === 0 ? addr4(`192.0.2.${k + 1}`) : addr6(NH6)));
    if (k % 5 !== 4) recs.push(gateway(addr4('203.0.113.1'), 64496, 64500 + k, k % 4 === 0 ? [] : [[2, [64600 + k, 64700 + k]], [1, [64800 + k]]]));
    samples.push(flowSample(...recs));
  }
  run('sflow', 'sflow', [sflowDatagram(samples.slice(0, 10)), sflowDatagram(samples.slice(10, 20)), sflowDatagram(samples.slice(20))],
    (file) => sflowFrames(file, 2055));
  t.end();
});
