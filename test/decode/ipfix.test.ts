import t from 'tap';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import type { DecodeError } from '../../src/lib/errors.js';
import { IpVersion } from '../../src/flow/record.js';
import { Sink, be, cat, hex, ip4, ipfix, ipfixOptTpl, set, tpl, u16, u32, u64, u8, type Field } from './nf-build.js';

// Checked with tshark: export time 1793491210, sequence 42, domain 99. Template 300: enterprise field
// (PEN 9, 4 B), flowStart/EndMilliseconds, IPv6 src/dst, ports, protocol, octetDeltaCount in 4 bytes,
// packetDeltaCount in 2, interfaceName (variable), an enterprise variable-length field (PEN 29305).
// Record 1 uses the 1-byte length ("eth0") and the 255 + 2-byte form (300 bytes); record 2 short
// forms; then 3 bytes of padding.
const GOLDEN = hex(`
  000a020d6ae6810a0000002a00000063
  00020040012c000c80010004000000090098000800990008001b0010001c001000070002000b00020004000100010004000200020052ffff8005ffff00007279
  012c01bddeadbeef000001a19467e87b000001a19467edb020010db800010000000000000000001020010db800ff00000000000000000020a41001bb060001e240005a0465746830ff012c
  ${'78'.repeat(300)}
  00000000000001a19467efd0000001a19467f3b820010db800ff0000000000000000002020010db800010000000000000000001001bba4100600000007000100026162000000`);
const EXPORT_MS = 1793491210 * 1000;

function setup(now = { ms: 5_000 }) {
  const sink = new Sink();
  const templates = new TemplateCache({ now: () => now.ms, report: sink.report });
  const sampling = new SamplingTable();
  const dec = new IpfixDecoder({ templates, sampling, report: sink.report });
  return { sink, templates, sampling, dec, now };
}

const H = { exportTime: 1793491210, domain: 3 };
const V4: Field[] = [[8, 4], [12, 4], [4, 1], [11, 2]];
const v4row = (dst: string, proto = 17, dport = 53) => cat(ip4('10.0.0.1'), ip4(dst), u8(proto), u16(dport));

t.test('golden: enterprise and variable-length fields (both length forms), reduced sizes, padding', (t) => {
  const { sink, dec } = setup();
  t.equal(dec.decode(GOLDEN, '2001:db8::1', 0, sink.emit), 2);
  t.same(sink.errors, []);
  t.match(sink.records, [
    {
      exporter: '2001:db8::1', source: 10, domain: 99, ipVersion: IpVersion.V6, src: '2001:db8:1::10',
      dst: '2001:db8:ff::20', srcPort: 42000, dstPort: 443, protocol: 6, bytes: 123456, packets: 90,
      startMs: 1793491200123, endMs: 1793491201456,
    },
    { src: '2001:db8:ff::20', dst: '2001:db8:1::10', bytes: 7, packets: 1, startMs: 1793491202000, endMs: 1793491203000 },
  ]);
  t.end();
});

t.test('message length: shorter than the datagram trims it, longer is cut to it, below 16 is bad', (t) => {
  const { sink, dec } = setup();
  t.equal(dec.decode(cat(GOLDEN, Buffer.from('ffffffffffff', 'hex')), 'x', 0, sink.emit), 2, 'trailing junk ignored');
  const long = Buffer.from(GOLDEN);
  long.writeUInt16BE(GOLDEN.length + 100, 2);
  t.equal(dec.decode(long, 'x', 0, sink.emit), 2, 'the datagram bounds a message claiming more');
  const short = Buffer.from(GOLDEN);
  short.writeUInt16BE(12, 2);
  t.equal((t.throws(() => dec.decode(short, 'x', 0, sink.emit)) as unknown as DecodeError).kind, 'bad_length');
  const cut = Buffer.from(GOLDEN);
  cut.writeUInt16BE(200, 2); // the data set now runs past the message end
  t.equal((t.throws(() => dec.decode(cut, 'x', 0, sink.emit)) as unknown as DecodeError).kind, 'bad_length');
  const v9 = Buffer.from(GOLDEN);
  v9.writeUInt16BE(9, 0);
  t.equal((t.throws(() => dec.decode(v9, 'x', 0, sink.emit)) as unknown as DecodeError).kind, 'unknown_version');
  t.end();
});

t.test('template withdrawal: one id, all data templates, all options templates', (t) => {
  const { sink, dec, templates } = setup();
  const learn = cat(set(2, cat(tpl(256, V4), tpl(257, V4))), set(3, ipfixOptTpl(258, [[149, 4]], [[34, 4]])));
  dec.decode(ipfix(H, learn), 'w', 0, sink.emit);
  t.equal(templates.size, 3);
  dec.decode(ipfix(H, set(2, cat(u16(256), u16(0)))), 'w', 0, sink.emit);
  t.equal(templates.size, 2);
  t.equal(dec.decode(ipfix(H, set(256, v4row('1.1.1.1'))), 'w', 0, sink.emit), 0, 'withdrawn: held');
  t.equal(templates.pendingSets, 1);
  dec.decode(ipfix(H, set(2, cat(u16(2), u16(0)))), 'w', 0, sink.emit);
  t.equal(templates.size, 1, 'id 2 withdraws every data template, not the options one');
  dec.decode(ipfix(H, set(3, cat(u16(3), u16(0)))), 'w', 0, sink.emit);
  t.equal(templates.size, 0);
  t.equal(templates.stats.withdrawn, 3);
  dec.decode(ipfix(H, set(2, cat(u16(5), u16(0)))), 'w', 0, sink.emit);
  t.same(sink.kinds(), ['bad_template'], 'withdrawing a reserved id');
  // Re-learning decodes the set held since the withdrawal.
  t.equal(dec.decode(ipfix(H, set(2, tpl(256, V4))), 'w', 0, sink.emit), 1);
  t.end();
});

t.test('options data with packet interval/space sets the exporter rate for later records', (t) => {
  const { sink, dec, sampling } = setup();
  const opt = set(3, ipfixOptTpl(400, [[149, 4]], [[305, 4], [306, 4]]), 2);
  dec.decode(ipfix(H, opt, set(400, cat(u32(3), u32(1), u32(99)), 1), set(2, tpl(256, V4)), set(256, v4row('2.2.2.2'))), 'o', 0, sink.emit);
  t.equal(sampling.lookup('o', 10, 3), 100);
  t.equal(sink.records[0]!.samplingRate, 100);
  t.equal(sampling.lookup('o', 10, 4), 0, 'another domain knows nothing');
  t.same(sink.errors, []);
  t.end();
});

t.test('selectorId-scoped sampling and a samplingInterval option', (t) => {
  const { sink, dec, sampling } = setup();
  const opt = set(3, cat(ipfixOptTpl(401, [[302, 8]], [[305, 4], [306, 4]]), ipfixOptTpl(402, [[149, 4]], [[34, 4]])));
  const data = set(2, tpl(257, [...V4, [302, 8]]));
  dec.decode(ipfix(H, opt, set(401, cat(u64(5), u32(1), u32(9))), set(402, cat(u32(3), u32(1000))), data), 's', 0, sink.emit);
  t.equal(sampling.lookup('s', 10, 3, 5), 10);
  t.equal(sampling.lookup('s', 10, 3), 1000);
  dec.decode(ipfix(H, set(257, cat(v4row('3.3.3.3'), u64(5), v4row('3.3.3.4'), u64(6)))), 's', 0, sink.emit);
  t.same(sink.records.map((r) => r.samplingRate), [10, 1000]);
  t.end();
});

t.test('options data held before its options template is applied when the template arrives', (t) => {
  const { sink, dec, sampling } = setup();
  dec.decode(ipfix(H, set(403, cat(u32(3), u32(50)))), 'h', 0, sink.emit);
  t.equal(sampling.lookup('h', 10, 3), 0);
  dec.decode(ipfix(H, set(3, ipfixOptTpl(403, [[149, 4]], [[34, 4]]))), 'h', 0, sink.emit);
  t.equal(sampling.lookup('h', 10, 3), 50);
  t.end();
});

const ntp = (ms: number) => cat(u32(Math.floor(ms / 1000) + 2208988800), u32(Math.round(((ms % 1000) / 1000) * 2 ** 32)));

t.test('every time encoding becomes absolute epoch ms', (t) => {
  const { sink, dec } = setup();
  const S = 1793491200000;
  const cases: Array<[Field[], Buffer, number, number]> = [
    [[[150, 4], [151, 4]], cat(u32(S / 1000), u32(S / 1000 + 5)), S, S + 5000],
    [[[152, 8], [153, 8]], cat(u64(S + 1), u64(S + 2)), S + 1, S + 2],
    [[[154, 8], [155, 8]], cat(ntp(S + 250), ntp(S + 750)), S + 250, S + 750],
    [[[156, 8], [157, 8]], cat(ntp(S + 10), ntp(S + 20)), S + 10, S + 20],
    [[[158, 4], [159, 4]], cat(u32(3_000_000), u32(1_000_500)), EXPORT_MS - 3000, EXPORT_MS - 1000],
    [[[160, 8], [22, 4], [21, 4]], cat(u64(S - 100_000), u32(100_000), u32(101_000)), S, S + 1000],
    [[[22, 4], [21, 4]], cat(u32(1), u32(2)), EXPORT_MS, EXPORT_MS], // uptime base unknown
    [[[4, 1]], u8(6), EXPORT_MS, EXPORT_MS], // no times at all
    [[[152, 8]], u64(S), S, S], // only a start
    [[[152, 8], [153, 8]], cat(u64(S + 9), u64(S)), S + 9, S], // inverted: as sent, for normalization to count (flow/normalize.ts)
    [[[152, 8], [153, 8]], cat(u64(0), u64(0)), EXPORT_MS, EXPORT_MS], // zero: unknown, not 1970
  ];
  cases.forEach(([f, row], i) => dec.decode(ipfix(H, set(2, tpl(600 + i, f)), set(600 + i, row)), 't', 0, sink.emit));
  t.same(sink.records.map((r) => [r.startMs, r.endMs]), cases.map((c) => [c[2], c[3]]));
  t.end();
});

t.test('systemInitTimeMilliseconds from options data anchors flow*SysUpTime', (t) => {
  const { sink, dec } = setup();
  const S = 1793491200000;
  const opt = set(3, ipfixOptTpl(410, [[149, 4]], [[160, 8]]));
  dec.decode(ipfix(H, opt, set(410, cat(u32(3), u64(S - 60_000))), set(2, tpl(411, [[22, 4], [21, 4]])),
    set(411, cat(u32(60_000), u32(61_500)))), 'u', 0, sink.emit);
  t.same([sink.records[0]!.startMs, sink.records[0]!.endMs], [S, S + 1500]);
  t.end();
});

t.test('ICMP type/code from 32, 139, 176-179, or the destination port', (t) => {
  const { sink, dec } = setup();
  const rows: Array<[Field[], Buffer]> = [
    [[[4, 1], [32, 2]], cat(u8(1), u16(0x0b00))],
    [[[4, 1], [139, 2]], cat(u8(58), u16(0x8000))],
    [[[4, 1], [176, 1], [177, 1]], cat(u8(1), u8(3), u8(13))],
    [[[4, 1], [178, 1], [179, 1]], cat(u8(58), u8(1), u8(4))],
    [[[4, 1], [11, 2]], cat(u8(58), u16(0x8100))],
    [[[4, 1], [11, 2]], cat(u8(17), u16(0x8100))],
  ];
  rows.forEach(([f, row], i) => dec.decode(ipfix(H, set(2, tpl(700 + i, f)), set(700 + i, row)), 'i', 0, sink.emit));
  t.same(sink.records.map((r) => [r.icmpType, r.icmpCode]), [[11, 0], [128, 0], [3, 13], [1, 4], [129, 0], [-1, -1]]);
  t.end();
});

t.test('bad templates and sets: reported or thrown, never looping', (t) => {
  const { sink, dec } = setup();
  const zero = set(2, tpl(800, [[8, 0]]));
  const noScope = set(3, cat(u16(801), u16(1), u16(0), u16(34), u16(4)));
  const cutField = set(2, cat(u16(802), u16(3), u16(8), u16(4)));
  const n = dec.decode(ipfix(H, zero, noScope, cutField, set(2, tpl(256, V4)), set(256, v4row('4.4.4.4'))), 'b', 0, sink.emit);
  t.equal(n, 1);
  t.same(sink.kinds(), ['bad_template', 'bad_template', 'truncated']);
  for (const len of [0, 1, 3]) {
    const err = t.throws(() => dec.decode(ipfix(H, cat(u16(256), u16(len), u32(0))), 'b', 0, sink.emit)) as unknown as DecodeError;
    t.equal(err.kind, 'bad_length');
    t.equal(err.domain, 3);
  }
  t.end();
});

t.test('a variable-length field running past its set is a truncated record', (t) => {
  const { sink, dec } = setup();
  const f: Field[] = [[8, 4], [82, 65535]];
  const rows = cat(ip4('5.5.5.5'), u8(2), Buffer.from('ab'), ip4('5.5.5.6'), u8(255), u16(40), Buffer.from('short'));
  t.equal(dec.decode(ipfix(H, set(2, tpl(900, f)), set(900, rows)), 'v', 0, sink.emit), 1);
  t.same(sink.kinds(), ['truncated']);
  t.end();
});

t.test('a reduced-size octetDeltaCount of 3, 5 and 7 bytes', (t) => {
  const { sink, dec } = setup();
  [3, 5, 7].forEach((len, i) => dec.decode(ipfix(H, set(2, tpl(950 + i, [[1, len], [2, 1]])), set(950 + i, cat(be(len, 70000 + i), u8(1)))), 'r', 0, sink.emit));
  t.same(sink.records.map((r) => r.bytes), [70000, 70001, 70002]);
  t.end();
});

t.test('vlan, interfaces, flags and ip version without addresses', (t) => {
  const { sink, dec } = setup();
  const f: Field[] = [[243, 2], [10, 4], [14, 4], [6, 2], [60, 1], [61, 1], [5, 1], [136, 1]];
  dec.decode(ipfix(H, set(2, tpl(960, f)), set(960, cat(u16(0x1064), u32(7), u32(8), u16(0x0112), u8(6), u8(1), u8(0), u8(3)))), 'm', 0, sink.emit);
  t.match(sink.records[0], { vlan: 100, inIf: 7, outIf: 8, tcpFlags: 0x12, ipVersion: IpVersion.V6 });
  t.end();
});
