import t from 'tap';
import { Bad, RecordNormalizer } from '../../src/flow/normalize.js';
import { Netflow5Decoder } from '../../src/decode/netflow5.js';
import { DecodeError, TruncatedError } from '../../src/lib/errors.js';
import { IpVersion } from '../../src/flow/record.js';
import { Sink, cat, hex, ip4, u16, u32, u8 } from './nf-build.js';

// Header: count 2, sysUptime 1,000,000 ms, unix 1793491260.5 s, engine 1/2, sampling mode 1 interval 100.
// Record 1: 10.1.0.5:443 -> 198.51.100.1:51000 TCP, if 3->4, 10 pkts, 1500 B, first 940000, last 999000.
// Record 2: 203.0.113.66 -> 10.1.1.1 ICMP, dst port 0x0303 (type 3 code 3), 1 pkt, 56 B.
const GOLDEN = hex(`
  00050002000f42406ae6813c1dcd65000000000101024064
  0a010005c633640100000000000300040000000a000005dc000e57e0000f3e5801bbc738001b06000000000000000000
  cb0071420a01010100000000000100020000000100000038000f404c000f404c00000303000001000000000000000000`);
const EXPORT_MS = 1793491260500;

function header(count: number, sysUptime: number, secs: number, sampling = 0): Buffer {
  return cat(u16(5), u16(count), u32(sysUptime), u32(secs), u32(0), u32(7), u8(0), u8(0), u16(sampling));
}

function record(first: number, last: number, proto = 17, dport = 53): Buffer {
  return cat(ip4('10.0.0.1'), ip4('10.0.0.2'), u32(0), u16(1), u16(2), u32(3), u32(300), u32(first), u32(last),
    u16(1234), u16(dport), u8(0), u8(0), u8(proto), u8(0), u16(0), u16(0), u8(0), u8(0), u16(0));
}

t.test('golden datagram: every field, times and the sampling interval', (t) => {
  const sink = new Sink();
  const n = new Netflow5Decoder({ report: sink.report }).decode(GOLDEN, '192.0.2.1', 0, sink.emit);
  t.equal(n, 2);
  t.equal(sink.records.length, 2);
  const [a, b] = sink.records;
  t.match(a, {
    exporter: '192.0.2.1', source: 5, domain: 0x0102, ipVersion: IpVersion.V4, src: '10.1.0.5', dst: '198.51.100.1',
    srcPort: 443, dstPort: 51000, protocol: 6, tcpFlags: 0x1b, inIf: 3, outIf: 4, packets: 10, bytes: 1500,
    startMs: EXPORT_MS - 60_000, endMs: EXPORT_MS - 1000, samplingRate: 100, icmpType: -1, icmpCode: -1,
  });
  t.match(b, {
    src: '203.0.113.66', dst: '10.1.1.1', protocol: 1, icmpType: 3, icmpCode: 3, bytes: 56, packets: 1,
    startMs: EXPORT_MS - 500, endMs: EXPORT_MS - 500, inIf: 1, outIf: 2,
  });
  t.same(sink.errors, []);
  t.end();
});

t.test('sampling field: interval 0 means unknown, random mode keeps its interval', (t) => {
  const dec = new Netflow5Decoder({ report: () => {} });
  const rates: number[] = [];
  for (const s of [0, 0x8000 | 1000, 0x4000, 0x3fff]) {
    dec.decode(cat(header(1, 10_000, 1793491200, s), record(5000, 6000)), 'x', 0, (r) => void rates.push(r.samplingRate));
  }
  t.same(rates, [0, 1000, 0, 16383]);
  t.end();
});

t.test('sysUptime wrap and a last-switched slightly after the header uptime', (t) => {
  const sink = new Sink();
  // Uptime wrapped to 5000 ms; the flow started 4096 ms before the wrap and ended 100 ms "after" uptime.
  new Netflow5Decoder({ report: sink.report }).decode(cat(header(1, 5000, 1793491200), record(0xfffff000, 5100)), 'x', 0, sink.emit);
  const base = 1793491200 * 1000;
  t.equal(sink.records[0]!.startMs, base - 9096);
  t.equal(sink.records[0]!.endMs, base + 100);
  t.end();
});

t.test('first after last is passed on as sent; normalization counts it as bad_time and keeps the end', (t) => {
  const sink = new Sink();
  const end = 1793491200 * 1000 - 2000;
  new Netflow5Decoder({ report: sink.report }).decode(cat(header(1, 10_000, 1793491200), record(9000, 8000)), 'x', 0, (r) => {
    t.same([r.startMs, r.endMs], [end + 1000, end]);
    t.equal(new RecordNormalizer().normalize(r, end), Bad.Time);
    sink.emit(r);
  });
  t.same([sink.records[0]!.startMs, sink.records[0]!.endMs], [end, end]);
  t.end();
});

t.test('count larger than the datagram, or than 30, is bad_count and emits nothing', (t) => {
  const dec = new Netflow5Decoder({ report: () => {} });
  let emitted = 0;
  const emit = () => void emitted++;
  const err = t.throws(() => dec.decode(cat(header(3, 1, 1), record(0, 0), record(0, 0)), '10.9.9.9', 0, emit)) as unknown as DecodeError;
  t.ok(err instanceof DecodeError);
  t.equal(err.kind, 'bad_count');
  t.equal(err.exporter, '10.9.9.9');
  t.equal(err.version, 5);
  const many = cat(header(31, 1, 1), ...Array.from({ length: 31 }, () => record(0, 0)));
  t.equal((t.throws(() => dec.decode(many, 'x', 0, emit)) as unknown as DecodeError).kind, 'bad_count');
  t.equal(emitted, 0);
  // Extra bytes after `count` records are ignored; count 0 is an empty, valid datagram.
  t.equal(dec.decode(cat(header(1, 1, 1), record(0, 0), Buffer.alloc(7)), 'x', 0, emit), 1);
  t.equal(dec.decode(header(0, 1, 1), 'x', 0, emit), 0);
  t.end();
});

t.test('wrong version and a short header are DecodeErrors', (t) => {
  const dec = new Netflow5Decoder({ report: () => {} });
  const bad = Buffer.from(GOLDEN);
  bad[1] = 9;
  t.equal((t.throws(() => dec.decode(bad, 'x', 0, () => {})) as unknown as DecodeError).kind, 'unknown_version');
  t.throws(() => dec.decode(GOLDEN.subarray(0, 10), 'x', 0, () => {}), TruncatedError);
  t.end();
});

t.test('a zero unix time falls back to the receive time', (t) => {
  const sink = new Sink();
  new Netflow5Decoder({ report: sink.report }).decode(cat(header(1, 10_000, 0), record(10_000, 10_000)), 'x', 1_700_000_000_000, sink.emit);
  t.equal(sink.records[0]!.endMs, 1_700_000_000_000);
  t.end();
});
