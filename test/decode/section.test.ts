// Packet-section IPFIX (PSAMP): a record carrying the first bytes of a sampled packet is that packet,
// parsed as sFlow raw headers are, counting its length times the sampling rate (not a 0-byte flow).
import t from 'tap';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { RecordNormalizer } from '../../src/flow/normalize.js';
import type { FlowRecord } from '../../src/flow/record.js';
import { Sink, cat, hex, ipfix, ipfixOptTpl, set, tpl, u16, u32, u8, type Field } from './nf-build.js';

const H = { exportTime: 1700000010, domain: 1 };
const ETH = '020000000002 020000000001';
const TCP = 'a0b8 01bb 00000001 00000000 5012 ffff 0000 0000';
// IPv4 total length 1500, TCP 10.1.0.48:41144 -> 198.51.100.53:443, SYN|ACK
const IP4 = `4500 05dc 1234 4000 4006 0000 0a010030 c6336435 ${TCP}`;
// IPv6 payload 1240 (UDP 5353 -> 53), 2001:db8:1::10 -> 2001:db8:ff::20
const IP6 = '6000 0000 04d8 1140 20010db8000100000000000000000010 20010db800ff00000000000000000020 14e9 0035 04d8 0000';

function setup() {
  const sink = new Sink();
  const dec = new IpfixDecoder({ templates: new TemplateCache({ now: () => 0, report: sink.report }), sampling: new SamplingTable(), report: sink.report });
  return { sink, dec };
}

/** A variable-length field's bytes with their 1-byte length. */
const varlen = (b: Buffer) => cat(u8(b.length), b);

t.test('dataLinkFrameSection (variable length) with a 1-in-1000 packet sampling: the frame is the packet', (t) => {
  const { sink, dec } = setup();
  const F: Field[] = [[305, 4], [306, 4], [312, 2], [409, 2], [410, 2], [315, 65535]];
  const vlanFrame = hex(`${ETH} 8100 a064 0800 ${IP4}`);
  const arp = hex(`ffffffffffff 020000000001 0806 0001 0800 0604 0001`);
  const n = dec.decode(ipfix(H, set(2, tpl(500, F)), set(500, cat(
    u32(1), u32(999), u16(1518), u16(0), u16(vlanFrame.length), varlen(vlanFrame),
    u32(1), u32(999), u16(60), u16(0), u16(arp.length), varlen(arp),
  ))), 'x', 0, sink.emit);
  t.same(sink.errors, []);
  t.equal(n, 2);
  t.match(sink.records, [
    { ipVersion: 4, src: '10.1.0.48', dst: '198.51.100.53', protocol: 6, srcPort: 41144, dstPort: 443, tcpFlags: 0x12,
      vlan: 100, bytes: 1500, frameBytes: 1518, packets: 1, samplingRate: 1000 },
    { ipVersion: 0, bytes: 46, frameBytes: 60, packets: 1, samplingRate: 1000 },
  ]);
  // the rate scales it as any sampled record: 1500 bytes x 1000
  const norm = new RecordNormalizer({ defaultRate: 1, overrides: {} });
  const scaled: number[] = [];
  const { sink: s2, dec: d2 } = setup();
  d2.decode(ipfix(H, set(2, tpl(500, F)), set(500, cat(u32(1), u32(999), u16(1518), u16(0), u16(vlanFrame.length), varlen(vlanFrame)))),
    'x', 0, (r: FlowRecord) => { norm.normalize(r, 1700000010000); scaled.push(r.scaledBytes, r.scaledPackets); s2.emit(r); });
  t.same(scaled, [1_500_000, 1000]);
  t.end();
});

t.test('ipHeaderPacketSection (fixed length, IPv6) with the selector\'s rate from options data', (t) => {
  const { sink, dec } = setup();
  const opts = set(3, ipfixOptTpl(510, [[302, 4]], [[305, 4], [306, 4]]));
  const rates = set(510, cat(u32(7), u32(1), u32(99)));
  const F: Field[] = [[302, 4], [312, 2], [313, 48]];
  const n = dec.decode(ipfix(H, opts, rates, set(2, tpl(511, F)), set(511, cat(u32(7), u16(1294), hex(IP6)))), 'x', 0, sink.emit);
  t.same(sink.errors, []);
  t.equal(n, 1);
  t.match(sink.records, [{ ipVersion: 6, src: '2001:db8:1::10', dst: '2001:db8:ff::20', protocol: 17, srcPort: 5353, dstPort: 53,
    bytes: 1280, frameBytes: 1294, packets: 1, samplingRate: 100 }]);
  t.end();
});

t.test('a section not from the first byte is not parsed; counters the record carries win; framing fields alone change nothing', (t) => {
  const { sink, dec } = setup();
  const F: Field[] = [[312, 2], [409, 2], [224, 2], [315, 65535]];
  const frame = hex(`${ETH} 0800 ${IP4}`);
  dec.decode(ipfix(H, set(2, tpl(520, F)), set(520, cat(u16(1514), u16(14), u16(1500), varlen(frame.subarray(14))))), 'x', 0, sink.emit);
  t.match(sink.records[0], { ipVersion: 0, bytes: 1500, frameBytes: 1514, packets: 1 }, 'ipTotalLength, not the unparsed bytes');
  const G: Field[] = [[1, 4], [2, 4], [315, 65535]];
  dec.decode(ipfix(H, set(2, tpl(521, G)), set(521, cat(u32(9000), u32(6), varlen(frame)))), 'x', 0, sink.emit);
  t.match(sink.records[1], { src: '10.1.0.48', bytes: 9000, packets: 6 });
  // dataLinkFrameSize without a section: read as before (skipped)
  const K: Field[] = [[8, 4], [12, 4], [312, 2], [1, 4]];
  dec.decode(ipfix(H, set(2, tpl(522, K)), set(522, cat(hex('0a000001 0a000002'), u16(1514), u32(700)))), 'x', 0, sink.emit);
  t.match(sink.records[2], { src: '10.0.0.1', bytes: 700, packets: 0, frameBytes: 0 });
  t.end();
});

t.test('a frame section that cannot be parsed counts the frame less an Ethernet header, never the header itself', (t) => {
  const { sink, dec } = setup();
  // sectionOffset 14 and no ipTotalLength; then an empty section
  const F: Field[] = [[312, 2], [409, 2], [315, 65535]];
  const frame = hex(`${ETH} 0800 ${IP4}`);
  dec.decode(ipfix(H, set(2, tpl(530, F)), set(530, cat(u16(1514), u16(14), varlen(frame.subarray(14)), u16(1514), u16(0), varlen(Buffer.alloc(0))))),
    'x', 0, sink.emit);
  t.match(sink.records, [{ ipVersion: 0, bytes: 1500, frameBytes: 1514, packets: 1 }, { ipVersion: 0, bytes: 1500, frameBytes: 1514, packets: 1 }]);
  t.end();
});
