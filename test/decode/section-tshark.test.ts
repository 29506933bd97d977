// Packet-section IPFIX (IE 315 dataLinkFrameSection, IE 313 ipHeaderPacketSection) checked against
// tshark on the same bytes: every record's section goes into a capture (Ethernet for frame sections,
// raw IP for IP sections), and what tshark decodes from it (addresses, protocol, ports, the IP length
// the header states even when the section is cut) is what flowbridge must count, times the record's
// sampling rate. The IPFIX datagrams themselves go into a third capture, whose records and sampling
// fields tshark's cflow dissector must see as flowbridge does.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { have } from '../helpers/process.js';
import { pcapOf } from '../helpers/pcap-write.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dispatcher } from '../../src/decode/dispatch.js';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { RecordNormalizer } from '../../src/flow/normalize.js';
import { Metrics } from '../../src/lib/counters.js';
import { Format, IpVersion, srcAddress, dstAddress, type FlowRecord } from '../../src/flow/record.js';
import type { DecodeError } from '../../src/lib/errors.js';
import { cat, hex, ip4, ipfix, ipfixOptTpl, set, tpl, u16, u32, u8, type Field } from './nf-build.js';

const EXPORT_S = 1700000010;
const H = { exportTime: EXPORT_S, domain: 3 };
const EXPORTER = '127.0.0.1';

// ---- frames -------------------------------------------------------------------------------------

const MAC = hex('020000000002 020000000001');

/** IPv4 header (checksum filled in) and payload; `total` is the IP total length the header states. */
function ipv4(src: string, dst: string, proto: number, total: number, l4: Buffer, options = Buffer.alloc(0), fragWord = 0x4000): Buffer {
  const ihl = 20 + options.length;
  const h = cat(u8(0x40 | (ihl / 4)), u8(0), u16(total), u16(0x1234), u16(fragWord), u8(64), u8(proto), u16(0), ip4(src), ip4(dst), options);
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  h.writeUInt16BE(~sum & 0xffff, 10);
  return pad(cat(h, l4), total);
}

const v6 = (s: string) => hex(s);
/** IPv6 header and payload; `plen` is the payload length the header states. */
function ipv6(src: Buffer, dst: Buffer, next: number, plen: number, l4: Buffer): Buffer {
  return pad(cat(hex('60000000'), u16(plen), u8(next), u8(64), src, dst, l4), 40 + plen);
}

const tcp = (sport: number, dport: number, flags: number) => cat(u16(sport), u16(dport), u32(1), u32(0), u8(0x50), u8(flags), u16(0xffff), u32(0));
const udp = (sport: number, dport: number, len: number) => cat(u16(sport), u16(dport), u16(len), u16(0));
const icmp = (type: number, code: number) => cat(u8(type), u8(code), u16(0), u32(0x00010001));
const vlanTag = (tpid: number, tci: number) => cat(u16(tpid), u16(tci));
const mplsEntry = (label: number, bottom: boolean) => u32((label << 12) | (bottom ? 0x100 : 0) | 64);

/** `b` zero-filled to `len` bytes (a frame's payload beyond the headers). */
function pad(b: Buffer, len: number): Buffer {
  return b.length >= len ? b : cat(b, Buffer.alloc(len - b.length));
}

// ---- cases --------------------------------------------------------------------------------------

interface Case {
  name: string;
  /** the whole packet as it was on the wire: an Ethernet frame, or an IP packet for ipSection */
  packet: Buffer;
  /** bytes of it the exporter sent (sectionExportedOctets) */
  exported: number;
  ipSection?: boolean;
  /** the sampling rate: samplingPacketInterval 1 / samplingPacketSpace rate-1 in the record, or its selector's */
  rate: number;
  selector?: number;
  /** the section in a fixed 128-byte field padded with zeros, sectionExportedOctets saying how much is packet */
  fixed128?: boolean;
  /** no IP header flowbridge can find: the bytes it counts (the frame less its link header) */
  nonIpBytes?: number;
  /** the outer VLAN and the MPLS labels tshark must see (checks the frame as built) */
  vlan?: number;
  mpls?: number[];
  /** a known difference from tshark: its assertions are marked todo with this reason, and it stays out of the totals */
  todo?: string;
}

const A4 = '10.1.0.48', B4 = '198.51.100.53';
const A6 = v6('20010db8000100000000000000000010'), B6 = v6('20010db800ff00000000000000000020');
const ETH4 = cat(MAC, u16(0x0800)), ETH6 = cat(MAC, u16(0x86dd));

const CASES: Case[] = [
  { name: 'Ethernet IPv4 TCP, whole frame (354 bytes: a 3-byte varlen)', rate: 1000, exported: 354,
    packet: cat(ETH4, ipv4(A4, B4, 6, 340, tcp(41144, 443, 0x18))) },
  { name: '802.1Q VLAN 100 IPv4 UDP, 128 of 1518 bytes', rate: 64, exported: 128, vlan: 100,
    packet: cat(MAC, vlanTag(0x8100, 100), u16(0x0800), ipv4('10.2.0.1', '192.0.2.53', 17, 1500, udp(5353, 53, 1480))) },
  { name: 'QinQ 88a8 200 / 8100 300, IPv4 TCP, 96 of 1522 bytes', rate: 512, exported: 96, vlan: 200,
    packet: cat(MAC, vlanTag(0x88a8, 200), vlanTag(0x8100, 300), u16(0x0800), ipv4('10.3.0.7', '203.0.113.80', 6, 1500, tcp(50000, 80, 0x10))) },
  { name: 'MPLS one label, IPv4 UDP, 128 of 590 bytes', rate: 1000, exported: 128, mpls: [16001],
    packet: cat(MAC, u16(0x8847), mplsEntry(16001, true), ipv4('172.16.5.5', '172.16.9.9', 17, 572, udp(4789, 4789, 552))) },
  { name: 'MPLS two labels, IPv4 TCP, 64 of 1522 bytes', rate: 2000, exported: 64, mpls: [24000, 17],
    packet: cat(MAC, u16(0x8847), mplsEntry(24000, false), mplsEntry(17, true), ipv4('10.9.8.7', '10.7.8.9', 6, 1500, tcp(179, 33000, 0x18))) },
  { name: 'Ethernet IPv6 TCP, 128 of 1494 bytes', rate: 100, exported: 128,
    packet: cat(ETH6, ipv6(A6, B6, 6, 1440, tcp(51000, 443, 0x18))) },
  { name: 'Ethernet IPv4 ICMP echo, whole frame', rate: 1000, exported: 98,
    packet: cat(ETH4, ipv4('10.4.0.1', '10.4.0.2', 1, 84, icmp(8, 0))) },
  { name: 'truncated: 64 of a 1500-byte frame, IPv4 TCP', rate: 1000, exported: 64,
    packet: cat(ETH4, ipv4('10.5.0.1', '198.18.0.1', 6, 1486, tcp(40001, 8443, 0x02))) },
  { name: 'truncated: 64 exported in a fixed 128-byte field, of a 1500-byte frame, IPv4 UDP', rate: 1000, exported: 64, fixed128: true,
    packet: cat(ETH4, ipv4('10.5.0.2', '198.18.0.2', 17, 1486, udp(123, 123, 1466))) },
  { name: '802.3 LLC/SNAP IPv4 UDP, 96 of 1014 bytes', rate: 64, exported: 96,
    packet: cat(MAC, u16(1000), hex('aaaa03 000000'), u16(0x0800), ipv4('10.6.0.1', '10.6.0.2', 17, 992, udp(514, 514, 972))) },
  { name: '802.1Q ARP (no IP): the frame less its 18-byte link header', rate: 64, exported: 64, vlan: 10, nonIpBytes: 46,
    packet: pad(cat(MAC, vlanTag(0x8100, 10), u16(0x0806), hex('0001 0800 06 04 0001 020000000001 0a060001 000000000000 0a060002')), 64) },
  { name: 'IPv4 later fragment (offset 1480): no ports, 64 of 534 bytes', rate: 1000, exported: 64,
    packet: cat(ETH4, ipv4('10.8.0.1', '10.8.0.2', 17, 520, Buffer.alloc(0), undefined, 185)) },
  { name: 'ICMP port unreachable quoting UDP to 33434, whole frame', rate: 64, exported: 70,
    packet: cat(ETH4, ipv4('192.0.2.1', '10.8.1.1', 1, 56, cat(u8(3), u8(3), u16(0), u32(0),
      ipv4('10.8.1.1', '198.51.100.1', 17, 60, udp(44000, 33434, 40)).subarray(0, 28)))) },
  { name: 'Ethernet IPv6 hop-by-hop then UDP, 128 of 1014 bytes', rate: 100, exported: 128,
    packet: cat(ETH6, ipv6(A6, B6, 0, 960, cat(hex('11 00 0502 0000 0100'), udp(546, 547, 952)))) },
  { name: 'PPPoE session IPv4 TCP, 128 of 1522 bytes', rate: 1000, exported: 128,
    packet: cat(MAC, u16(0x8864), hex('11 00 0001'), u16(1502), u16(0x0021), ipv4('100.64.1.2', '203.0.113.9', 6, 1500, tcp(40100, 443, 0x10))) },
  { name: 'ipHeaderPacketSection IPv4 UDP, 64 of 1200 bytes (selector 7)', rate: 100, selector: 7, exported: 64, ipSection: true,
    packet: ipv4('10.7.0.1', '10.7.0.2', 17, 1200, udp(33434, 53, 1180)) },
  { name: 'ipHeaderPacketSection IPv4 with options, TCP, 64 of 1400 bytes (selector 8)', rate: 4096, selector: 8, exported: 64, ipSection: true,
    packet: ipv4('10.7.1.1', '10.7.1.2', 6, 1400, tcp(2049, 700, 0x18), hex('94040000')) },
  { name: 'ipHeaderPacketSection IPv6 TCP, 80 of 1040 bytes (selector 7)', rate: 100, selector: 7, exported: 80, ipSection: true,
    packet: ipv6(A6, B6, 6, 1000, tcp(443, 51001, 0x11)) },
  { name: 'ipHeaderPacketSection IPv6 UDP, whole packet of 120 bytes (selector 8)', rate: 4096, selector: 8, exported: 120, ipSection: true,
    packet: ipv6(B6, A6, 17, 80, udp(53, 5353, 80)) },
  { name: 'ipHeaderPacketSection IPv6 ICMPv6 echo, 64 of 104 bytes (selector 7)', rate: 100, selector: 7, exported: 64, ipSection: true,
    packet: ipv6(A6, B6, 58, 64, icmp(128, 0)) },
];

// ---- IPFIX --------------------------------------------------------------------------------------

/** A variable-length field: 1-byte length, or 255 and a 2-byte length (RFC 7011 §7). */
const varlen = (b: Buffer) => (b.length < 255 ? cat(u8(b.length), b) : cat(u8(255), u16(b.length), b));

// frame sections with their own rate; the same in a fixed 128-byte field; IP sections with a selector
const T_FRAME = 400, T_FIXED = 401, T_IP = 402, T_OPTS = 403;
const F_FRAME: Field[] = [[305, 4], [306, 4], [312, 2], [410, 2], [315, 65535]];
const F_FIXED: Field[] = [[305, 4], [306, 4], [312, 2], [410, 2], [315, 128]];
const F_IP: Field[] = [[302, 4], [410, 2], [313, 65535]];
const SELECTORS: [number, number][] = [[7, 100], [8, 4096]];

function record(c: Case): { tpl: number; row: Buffer } {
  const section = c.packet.subarray(0, c.exported);
  if (c.ipSection) return { tpl: T_IP, row: cat(u32(c.selector!), u16(c.exported), varlen(section)) };
  const head = cat(u32(1), u32(c.rate - 1), u16(c.packet.length), u16(c.exported));
  return c.fixed128 ? { tpl: T_FIXED, row: cat(head, pad(section, 128)) } : { tpl: T_FRAME, row: cat(head, varlen(section)) };
}

/** The datagrams: templates, the selectors' rates, then data sets of up to 4 records, in case order. */
function datagrams(): Buffer[] {
  const out: Buffer[] = [
    ipfix({ ...H, seq: 0 }, set(2, cat(tpl(T_FRAME, F_FRAME), tpl(T_FIXED, F_FIXED), tpl(T_IP, F_IP))),
      set(3, ipfixOptTpl(T_OPTS, [[302, 4]], [[305, 4], [306, 4]]))),
    ipfix({ ...H, seq: 0 }, set(T_OPTS, cat(...SELECTORS.map(([id, rate]) => cat(u32(id), u32(1), u32(rate - 1)))))),
  ];
  let seq = SELECTORS.length; // the options records are data records too (RFC 7011 §3.1)
  for (let i = 0; i < CASES.length; i += 4) {
    const sets: Buffer[] = [];
    // consecutive records of one template share a set
    let cur = -1, rows: Buffer[] = [];
    for (const c of CASES.slice(i, i + 4)) {
      const r = record(c);
      if (r.tpl !== cur && rows.length > 0) {
        sets.push(set(cur, cat(...rows)));
        rows = [];
      }
      cur = r.tpl;
      rows.push(r.row);
    }
    sets.push(set(cur, cat(...rows)));
    out.push(ipfix({ ...H, seq }, ...sets));
    seq += Math.min(4, CASES.length - i);
  }
  return out;
}

// ---- captures -----------------------------------------------------------------------------------

/** A classic pcap of link type `link`: each packet [captured bytes, original length], a millisecond apart. */
function pcap(link: number, packets: [Buffer, number][]): Buffer {
  return pcapOf(link, packets.map(([data, origLen], i) => ({ tsMs: EXPORT_S * 1000 + i, data, origLen })));
}

/** The IPFIX datagrams as raw IPv4 UDP 127.0.0.1:40000 -> 127.0.0.1:4739 (IPFIX's port). */
function udpTo4739(p: Buffer): Buffer {
  return cat(ipv4('127.0.0.1', '127.0.0.1', 17, 28 + p.length, cat(udp(40000, 4739, 8 + p.length), p)));
}

const FIELDS = ['frame.len', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'ip.len', 'ipv6.plen', 'ip.proto', 'ipv6.nxt',
  'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'tcp.flags',
  // beyond the ports: the upper layer behind IPv6 extension headers, tags and labels, ICMP
  'ipv6.hopopts.nxt', 'ipv6.routing.nxt', 'ipv6.fraghdr.nxt', 'ipv6.dstopts.nxt', 'ieee8021ad.id', 'vlan.id', 'mpls.label',
  'icmp.type', 'icmp.code', 'icmpv6.type', 'icmpv6.code'] as const;
type Row = Record<(typeof FIELDS)[number], string[]>;

function tshark(args: string[]): string {
  return execFileSync('tshark', ['-n', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
}

/** One row per packet: each field's values, every occurrence (an ICMP error's quoted header comes second). */
function tsharkFields(file: string, fields: readonly string[], extra: string[] = []): Record<string, string[]>[] {
  const out = tshark(['-r', file, ...extra, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,',
    ...fields.flatMap((f) => ['-e', f])]);
  return out.split('\n').filter((l) => l !== '').map((line) => {
    const cols = line.split('\t');
    return Object.fromEntries(fields.map((f, i) => [f, cols[i] ? cols[i]!.split(',') : []]));
  });
}

const num = (v: string[] | undefined, i = 0) => (v !== undefined && v.length > i ? Number(v[i]) : -1);
const has = (v: string[] | undefined) => v !== undefined && v.length > 0;

/** What flowbridge must make of the packet tshark decoded (the outermost IP header). */
function expected(row: Row, c: Case) {
  const v4 = has(row['ip.src']), v6h = !v4 && has(row['ipv6.src']);
  let protocol = v4 ? num(row['ip.proto']) : v6h ? num(row['ipv6.nxt']) : 0;
  if (v6h) {
    // the upper layer: follow the extension headers' next-header fields, in order
    const seen: Record<number, [string[], number]> = { 0: [row['ipv6.hopopts.nxt'], 0], 43: [row['ipv6.routing.nxt'], 0],
      44: [row['ipv6.fraghdr.nxt'], 0], 60: [row['ipv6.dstopts.nxt'], 0] };
    for (let i = 0; i < 8 && seen[protocol] !== undefined; i++) {
      const e = seen[protocol]!;
      protocol = num(e[0], e[1]++);
    }
  }
  const l4 = protocol === 6 ? 'tcp' : protocol === 17 ? 'udp' : '';
  const icmp = protocol === 1 ? 'icmp' : protocol === 58 ? 'icmpv6' : '';
  const unreach = (protocol === 1 && num(row['icmp.type']) === 3) || (protocol === 58 && num(row['icmpv6.type']) === 1);
  return {
    ipVersion: v4 ? IpVersion.V4 : v6h ? IpVersion.V6 : IpVersion.None,
    src: v4 ? row['ip.src'][0] : v6h ? row['ipv6.src'][0] : '-',
    dst: v4 ? row['ip.dst'][0] : v6h ? row['ipv6.dst'][0] : '-',
    protocol,
    // a TCP/UDP header tshark decoded (none in a later fragment); an ICMP error's quoted ports are not the packet's
    srcPort: l4 !== '' ? Math.max(0, num(row[`${l4}.srcport`])) : 0,
    dstPort: l4 !== '' ? Math.max(0, num(row[`${l4}.dstport`])) : 0,
    // the 8 classic flag bits (tshark's field has 12)
    tcpFlags: l4 === 'tcp' && has(row['tcp.flags']) ? num(row['tcp.flags']) & 0xff : 0,
    icmpType: icmp !== '' ? num(row[`${icmp}.type`]) : -1,
    icmpCode: icmp !== '' ? num(row[`${icmp}.code`]) : -1,
    // the quoted packet of an unreachable: its protocol (the second IP header) and destination port
    unreachProto: unreach ? num(v4 ? row['ip.proto'] : row['ipv6.nxt'], 1) : -1,
    unreachPort: unreach ? num(row['udp.dstport']) >= 0 ? num(row['udp.dstport']) : num(row['tcp.dstport']) : -1,
    // the IP length the header states (tshark reads it from a cut header too), else the frame less its link header
    bytes: v4 ? num(row['ip.len']) : v6h ? num(row['ipv6.plen']) + 40 : c.nonIpBytes ?? -1,
    vlan: has(row['ieee8021ad.id']) ? num(row['ieee8021ad.id']) : Math.max(0, num(row['vlan.id'])),
  };
}

const haveTshark = have('tshark');

t.test('packet sections count what tshark decodes from the same bytes, times the sampling rate',
  { skip: haveTshark ? false : 'tshark is not installed (Debian package tshark)' }, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'flowbridge-section-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));

    // flowbridge: the datagrams through the dispatcher, each record normalized as the pipeline's handler does
    const metrics = new Metrics();
    const errors: DecodeError[] = [];
    const dec = new IpfixDecoder({
      templates: new TemplateCache({ now: () => 0, report: (e) => errors.push(e) }), sampling: new SamplingTable(),
      report: (e) => { errors.push(e); d.reportError(e, e.exporter, Format.Ipfix); },
    });
    const d = new Dispatcher({ decoders: { [Format.Ipfix]: dec }, metrics });
    const norm = new RecordNormalizer({ defaultRate: 1, overrides: {} });
    const got: Array<Record<string, number | string>> = [];
    d.setHandler((r: FlowRecord) => {
      norm.normalize(r, EXPORT_S * 1000);
      got.push({ src: srcAddress(r), dst: dstAddress(r), ipVersion: r.ipVersion, protocol: r.protocol, srcPort: r.srcPort, dstPort: r.dstPort,
        tcpFlags: r.tcpFlags, icmpType: r.icmpType, icmpCode: r.icmpCode, unreachProto: r.unreachProto, unreachPort: r.unreachPort, vlan: r.vlan,
        bytes: r.bytes, packets: r.packets, frameBytes: r.frameBytes, samplingRate: r.samplingRate, scaledBytes: r.scaledBytes, scaledPackets: r.scaledPackets });
    });
    const dgrams = datagrams();
    let n = 0;
    for (const g of dgrams) n += d.handle(g, EXPORTER, EXPORT_S * 1000);
    t.same(errors, [], 'no decode errors');
    t.equal(n, CASES.length, `${CASES.length} records decoded`);
    t.equal(got.length, CASES.length);
    t.equal(metrics.total('records_total', { exporter: EXPORTER, format: 'ipfix' }), CASES.length);

    // tshark: the sections, frames in an Ethernet capture and IP headers in a raw IP one, each packet's
    // captured bytes the section and its original length the packet's
    const frames = CASES.filter((c) => !c.ipSection), ips = CASES.filter((c) => c.ipSection);
    const fFile = join(dir, 'frames.pcap'), iFile = join(dir, 'ip.pcap');
    writeFileSync(fFile, pcap(1, frames.map((c) => [c.packet.subarray(0, c.exported), c.packet.length])));
    writeFileSync(iFile, pcap(101, ips.map((c) => [c.packet.subarray(0, c.exported), c.packet.length])));
    const fRows = tsharkFields(fFile, FIELDS) as Row[], iRows = tsharkFields(iFile, FIELDS) as Row[];
    t.equal(fRows.length, frames.length, 'tshark reads every frame section');
    t.equal(iRows.length, ips.length, 'tshark reads every IP section');
    const rowOf = new Map<Case, Row>();
    frames.forEach((c, i) => rowOf.set(c, fRows[i]!));
    ips.forEach((c, i) => rowOf.set(c, iRows[i]!));

    let fbBytes = 0, fbPackets = 0, tsBytes = 0, tsPackets = 0;
    const figures: string[] = [];
    CASES.forEach((c, i) => {
      const row = rowOf.get(c), r = got[i];
      if (row === undefined || r === undefined) return;
      // the capture is what the case says it is
      t.equal(num(row['frame.len']), c.packet.length, `${c.name}: tshark's packet length`);
      if (c.mpls !== undefined) t.same(row['mpls.label'].map(Number), c.mpls, `${c.name}: tshark's label stack`);
      if (c.vlan !== undefined) t.equal(expected(row, c).vlan, c.vlan, `${c.name}: tshark's outer VLAN`);
      const want = expected(row, c);
      t.not(want.bytes, -1, `${c.name}: a length to count`);
      const mine: Record<string, number | string> = {};
      for (const k of Object.keys(want)) mine[k] = r[k]!;
      if (want.ipVersion === IpVersion.None) mine.src = mine.dst = '-';
      const todo = c.todo === undefined ? {} : { todo: c.todo };
      t.same(mine, want, `${c.name}: flowbridge's record is tshark's packet`, todo);
      t.match(r, { packets: 1, samplingRate: c.rate, scaledBytes: want.bytes * c.rate, scaledPackets: c.rate,
        frameBytes: c.ipSection ? 0 : c.packet.length }, `${c.name}: one packet of ${want.bytes} bytes, times ${c.rate}`, todo);
      figures.push(`${c.name}: flowbridge ${r.bytes} B x ${r.samplingRate} = ${r.scaledBytes}; tshark ${want.bytes} B x ${c.rate}${c.todo ? ' (todo)' : ''}`);
      if (c.todo !== undefined) return;
      fbBytes += r.scaledBytes as number;
      fbPackets += r.scaledPackets as number;
      tsBytes += want.bytes * c.rate;
      tsPackets += c.rate;
    });
    t.equal(fbBytes, tsBytes, `total bytes (the cases without a todo) ${fbBytes} as tshark's ${tsBytes}`);
    t.equal(fbPackets, tsPackets, `total packets ${fbPackets} as tshark's ${tsPackets}`);
    if (process.env.SECTION_TSHARK_VERBOSE) t.comment(figures.join('\n'));

    // tshark's cflow dissector on the IPFIX datagrams themselves (UDP to 4739): the same records with
    // the same sampling fields. tshark 4.0 dissects a dataLinkFrameSection as Ethernet and, after it,
    // finds no template for the later sets of that datagram ("no template found": its template key
    // holds the packet's addresses, which the embedded packet seems to overwrite); Ethernet is not
    // needed to read the raw IP capture, so it is disabled.
    const xFile = join(dir, 'ipfix.pcap');
    writeFileSync(xFile, pcap(101, dgrams.map((g) => { const p = udpTo4739(g); return [p, p.length]; })));
    const CF = ['cflow.selector_id', 'cflow.sampling_packet_interval', 'cflow.sampling_packet_space', 'cflow.data_link_frame_size',
      'cflow.section_exported_octets', 'cflow.data_link_frame_section', 'cflow.section_header'];
    let xRows: Record<string, string[]>[];
    try {
      xRows = tsharkFields(xFile, CF, ['--disable-protocol', 'eth']);
    } catch {
      t.end(); // a tshark whose cflow dissector lacks these fields: nothing more to compare
      return;
    }
    const all = (f: string, from = 0) => xRows.slice(from).flatMap((r) => r[f]!).map(Number);
    const records = all('cflow.section_exported_octets', 2);
    if (xRows.length !== dgrams.length || records.length === 0) {
      t.end();
      return;
    }
    // the options datagram: each selector's interval and space
    const opt = xRows[1]!, selRate = new Map<number, number>();
    opt['cflow.selector_id']!.forEach((id, k) => selRate.set(Number(id),
      (num(opt['cflow.sampling_packet_interval'], k) + num(opt['cflow.sampling_packet_space'], k)) / num(opt['cflow.sampling_packet_interval'], k)));
    t.same([...selRate], SELECTORS, 'tshark: the selectors\' rates as sent');
    t.equal(records.length, CASES.length, `tshark: ${records.length} records, as flowbridge's ${n}`);
    t.same(records, CASES.map((c) => c.exported), 'tshark: each record\'s sectionExportedOctets');
    t.equal(all('cflow.data_link_frame_section', 2).length, frames.length, 'tshark: the frame sections');
    t.equal(all('cflow.section_header', 2).length, ips.length, 'tshark: the IP sections (ipHeaderPacketSection)');
    t.same(all('cflow.data_link_frame_size', 2), frames.map((c) => c.packet.length), 'tshark: the frames\' sizes');
    // the rates tshark's fields give each record, in record order, as flowbridge resolved them
    const iv = all('cflow.sampling_packet_interval', 2), sp = all('cflow.sampling_packet_space', 2), sel = all('cflow.selector_id', 2);
    const rates = [...frames.map((_, k) => (iv[k]! + sp[k]!) / iv[k]!), ...sel.map((id) => selRate.get(id) ?? 0)];
    const order = [...frames, ...ips].map((c) => CASES.indexOf(c));
    t.same(rates, order.map((k) => got[k]!.samplingRate), 'tshark: the sampling rates flowbridge applied');
    t.end();
  });
