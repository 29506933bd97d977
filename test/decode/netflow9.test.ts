import t from 'tap';
import { Netflow9Decoder } from '../../src/decode/netflow9.js';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { DecodeError, TemplateMissingError } from '../../src/lib/errors.js';
import { IpVersion } from '../../src/flow/record.js';
import { Sink, cat, hex, ip4, ipfix, set, tpl, u16, u32, u8, v9, v9OptTpl, type Field } from './nf-build.js';

// Checked with tshark: template 256 (src/dst v4, ports, proto, flags, bytes/pkts 4 B, first/last
// switched, in/out if, src vlan), then 2 records and 4 bytes of padding. sysUptime 2,000,000 ms,
// unix 1793491300, source id 7.
const GOLDEN = hex(`
  00090003001e84806ae681640000000500000007
  0000003c0100000d00080004000c000400070002000b0002000400010006000100010004000200040016000400150004000a0002000e0002003a0002
  010000500a010005c6336401c73801bb061200000fa000000005001cfde0001e80980001000200640a010007c63364010000080001000000005400000001001e828c001e828c00010002000000000000`);
const TEMPLATE_SET = GOLDEN.subarray(20, 80);
const DATA_SET = GOLDEN.subarray(80);
const EXPORT_MS = 1793491300 * 1000;

function setup(now = { ms: 1_000_000 }) {
  const sink = new Sink();
  const templates = new TemplateCache({ now: () => now.ms, report: sink.report });
  const sampling = new SamplingTable();
  const dec = new Netflow9Decoder({ templates, sampling, report: sink.report });
  return { sink, templates, sampling, dec, now };
}

const hdr = { sysUptime: 2_000_000, unixSecs: 1793491300, sourceId: 7 };

t.test('golden: template then data in one datagram, padding after the records', (t) => {
  const { sink, dec } = setup();
  t.equal(dec.decode(GOLDEN, '192.0.2.9', 0, sink.emit), 2);
  t.same(sink.errors, []);
  t.match(sink.records[0], {
    exporter: '192.0.2.9', source: 9, domain: 7, ipVersion: IpVersion.V4, src: '10.1.0.5', dst: '198.51.100.1',
    srcPort: 51000, dstPort: 443, protocol: 6, tcpFlags: 0x12, bytes: 4000, packets: 5, inIf: 1, outIf: 2,
    vlan: 100, startMs: EXPORT_MS - 100_000, endMs: EXPORT_MS - 1000, samplingRate: 0, icmpType: -1,
  });
  t.match(sink.records[1], { protocol: 1, icmpType: 8, icmpCode: 0, bytes: 84, startMs: EXPORT_MS - 500, vlan: 0 });
  t.end();
});

t.test('data before template: held, decoded when the template arrives', (t) => {
  const { sink, dec, templates } = setup();
  // The data comes 10 s earlier (its own header time) than the template.
  t.equal(dec.decode(v9({ ...hdr, unixSecs: 1793491290 }, DATA_SET), 'e1', 0, sink.emit), 0);
  t.equal(templates.pendingSets, 1);
  t.equal(templates.stats.pendingHeld, 1);
  t.equal(dec.decode(v9(hdr, TEMPLATE_SET), 'e1', 0, sink.emit), 2, 'records come out with the template');
  t.equal(sink.records[0]!.endMs, EXPORT_MS - 10_000 - 1000, 'decoded against the held datagram header');
  t.equal(templates.pendingSets, 0);
  t.equal(templates.stats.pendingDecoded, 1);
  t.same(sink.errors, []);
  t.end();
});

t.test('a held set that never sees its template expires as a counted miss', (t) => {
  const { sink, dec, templates, now } = setup();
  dec.decode(v9(hdr, DATA_SET), 'e1', 0, sink.emit);
  now.ms += 30_000;
  templates.sweep();
  t.equal(sink.errors.length, 0, 'not yet expired');
  now.ms += 31_000;
  templates.sweep();
  t.equal(sink.errors.length, 1);
  const e = sink.errors[0]!;
  t.ok(e instanceof TemplateMissingError);
  t.match(e, { kind: 'template_missing', exporter: 'e1', version: 9, domain: 7, templateId: 256 });
  t.equal(templates.stats.pendingExpired, 1);
  t.equal(templates.pendingSets, 0);
  // The template arriving afterwards finds nothing to replay.
  t.equal(dec.decode(v9(hdr, TEMPLATE_SET), 'e1', 0, sink.emit), 0);
  t.end();
});

t.test('two exporters with the same template id and different layouts never mix', (t) => {
  const { sink, dec } = setup();
  const a = set(0, tpl(300, [[8, 4], [12, 4], [1, 4]]));
  const b = set(0, tpl(300, [[1, 4], [8, 4], [12, 4]]));
  dec.decode(v9(hdr, a), 'A', 0, sink.emit);
  dec.decode(v9(hdr, b), 'B', 0, sink.emit);
  dec.decode(v9(hdr, set(300, cat(ip4('1.1.1.1'), ip4('2.2.2.2'), u32(111)))), 'A', 0, sink.emit);
  dec.decode(v9(hdr, set(300, cat(u32(222), ip4('3.3.3.3'), ip4('4.4.4.4')))), 'B', 0, sink.emit);
  t.match(sink.records, [{ exporter: 'A', src: '1.1.1.1', bytes: 111 }, { exporter: 'B', src: '3.3.3.3', bytes: 222 }]);
  // Same exporter, another source id: a third layout space.
  dec.decode(v9({ ...hdr, sourceId: 8 }, set(300, cat(u32(1), ip4('5.5.5.5'), ip4('6.6.6.6')))), 'A', 0, sink.emit);
  t.equal(sink.records.length, 2, 'held, not decoded with A/7 template');
  t.end();
});

t.test('v9 and IPFIX from one exporter with the same template id keep separate layouts', (t) => {
  const sink = new Sink();
  const templates = new TemplateCache({ now: () => 0, report: sink.report });
  const sampling = new SamplingTable();
  const d9 = new Netflow9Decoder({ templates, sampling, report: sink.report });
  const d10 = new IpfixDecoder({ templates, sampling, report: sink.report });
  d9.decode(v9(hdr, set(0, tpl(400, [[8, 4], [2, 4]]))), 'X', 0, sink.emit);
  d10.decode(ipfix({ exportTime: 1793491300, domain: 7 }, set(2, tpl(400, [[2, 4], [8, 4]]))), 'X', 0, sink.emit);
  d9.decode(v9(hdr, set(400, cat(ip4('9.9.9.9'), u32(5)))), 'X', 0, sink.emit);
  d10.decode(ipfix({ exportTime: 1793491300, domain: 7 }, set(400, cat(u32(6), ip4('8.8.8.8')))), 'X', 0, sink.emit);
  t.match(sink.records, [{ source: 9, src: '9.9.9.9', packets: 5 }, { source: 10, src: '8.8.8.8', packets: 6 }]);
  t.equal(templates.size, 2);
  t.end();
});

t.test('options template with the sampling interval (softflowd style) applies to later records', (t) => {
  const { sink, dec, sampling } = setup();
  // Scope: interface (type 2 — must not be read as packetDeltaCount); options: 34 interval, 35 algorithm.
  const opt = set(1, v9OptTpl(257, [[2, 4]], [[34, 4], [35, 1]]), 3);
  const optData = set(257, cat(u32(0), u32(64), u8(2)), 3);
  dec.decode(v9(hdr, opt, optData, TEMPLATE_SET, DATA_SET), 'sf', 0, sink.emit);
  t.equal(sampling.lookup('sf', 9, 7), 64);
  t.same(sink.records.map((r) => r.samplingRate), [64, 64]);
  t.same(sink.errors, []);
  t.end();
});

t.test('sampler options (id, mode, random interval) and per-record sampler ids', (t) => {
  const { sink, dec, sampling } = setup();
  const opt = set(1, v9OptTpl(258, [[1, 4]], [[48, 1], [49, 1], [50, 4]]));
  const rows = cat(u32(0), u8(1), u8(2), u32(100), u32(0), u8(2), u8(2), u32(1000));
  const data = tpl(259, [[8, 4], [48, 1], [1, 4]]);
  dec.decode(v9(hdr, opt, set(258, rows), set(0, data)), 'p', 0, sink.emit);
  t.equal(sampling.lookup('p', 9, 7, 1), 100);
  t.equal(sampling.lookup('p', 9, 7, 2), 1000);
  const recs = cat(ip4('1.0.0.1'), u8(1), u32(10), ip4('1.0.0.2'), u8(2), u32(10), ip4('1.0.0.3'), u8(9), u32(10));
  dec.decode(v9(hdr, set(259, recs)), 'p', 0, sink.emit);
  t.same(sink.records.map((r) => r.samplingRate), [100, 1000, 0], 'unknown sampler id: unknown rate');
  // An in-record sampling interval wins over the table.
  dec.decode(v9(hdr, set(0, tpl(260, [[48, 1], [34, 4]])), set(260, cat(u8(1), u32(7)))), 'p', 0, sink.emit);
  t.equal(sink.records[3]!.samplingRate, 7);
  t.end();
});

t.test('set length 0, below 4, or past the datagram drops the rest: bad_length, no loop', (t) => {
  const { sink, dec } = setup();
  for (const bad of [cat(u16(256), u16(0)), cat(u16(256), u16(3), u8(0)), cat(u16(0), u16(200), u32(0))]) {
    const err = t.throws(() => dec.decode(v9(hdr, TEMPLATE_SET, bad, DATA_SET), 'z', 0, sink.emit)) as unknown as DecodeError;
    t.equal(err.kind, 'bad_length');
    t.equal(err.exporter, 'z');
    t.equal(err.version, 9);
  }
  t.equal(sink.records.length, 0, 'the data set after the bad one was never reached');
  t.end();
});

t.test('bad templates are reported per set and never loop', (t) => {
  const { sink, dec, templates } = setup();
  const zeroLen = set(0, tpl(300, [[8, 0]]));
  const noFields = set(0, cat(u16(301), u16(0), u32(0)));
  const reserved = set(0, tpl(200, [[8, 4]]));
  const tooMany = set(0, cat(u16(302), u16(600)));
  const optOdd = set(1, cat(u16(303), u16(3), u16(4), u32(0), u32(0)));
  const n = dec.decode(v9(hdr, zeroLen, noFields, reserved, tooMany, optOdd, TEMPLATE_SET, DATA_SET), 'z', 0, sink.emit);
  t.equal(n, 2, 'good sets after the bad ones still decode');
  t.same(sink.kinds(), ['bad_template', 'bad_template', 'bad_template', 'bad_template', 'bad_template']);
  t.equal(templates.size, 1);
  t.end();
});

t.test('a truncated record is reported; records before it are kept', (t) => {
  const { sink, dec } = setup();
  const part = DATA_SET.subarray(4, 4 + 36 + 20); // one whole record and 20 bytes of the next
  t.equal(dec.decode(v9(hdr, TEMPLATE_SET, set(256, part)), 'z', 0, sink.emit), 1);
  t.same(sink.kinds(), ['truncated']);
  t.equal(sink.errors[0]!.templateId, 256);
  t.end();
});

t.test('wrong version and short header', (t) => {
  const { sink, dec } = setup();
  const b = Buffer.from(GOLDEN);
  b[1] = 10;
  t.equal((t.throws(() => dec.decode(b, 'z', 0, sink.emit)) as unknown as DecodeError).kind, 'unknown_version');
  t.equal((t.throws(() => dec.decode(GOLDEN.subarray(0, 12), 'z', 0, sink.emit)) as unknown as DecodeError).kind, 'truncated');
  // Up to 3 stray bytes after the last set are ignored.
  t.equal(dec.decode(cat(GOLDEN, Buffer.from([0, 0, 0])), 'z', 0, sink.emit), 2);
  t.end();
});

t.test('reduced-size and total counters, out counters only as a last resort', (t) => {
  const { sink, dec } = setup();
  const fields: Field[][] = [
    [[1, 2], [2, 1], [85, 4], [23, 4]], // delta wins
    [[85, 8], [86, 3], [23, 4], [24, 4]], // totals when no delta
    [[23, 4], [24, 4]], // post counters alone
  ];
  const rows = [cat(u16(1500), u8(3), u32(9), u32(9)), cat(u32(0), u32(4000), cat(u8(0), u16(40)), u32(9), u32(9)), cat(u32(77), u32(7))];
  fields.forEach((f, i) => dec.decode(v9(hdr, set(0, tpl(500 + i, f)), set(500 + i, rows[i]!)), 'c', 0, sink.emit));
  t.same(sink.records.map((r) => [r.bytes, r.packets]), [[1500, 3], [4000, 40], [77, 7]]);
  t.end();
});
