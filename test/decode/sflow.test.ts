// Golden sFlow v5 datagrams: one taken verbatim from the pmacctd fixture, the rest assembled from
// hex fields (headers cross-checked with tshark -d udp.port==N,sflow).
import t from 'tap';
import { SflowDecoder } from '../../src/decode/sflow.js';
import { SflowCounterStore } from '../../src/decode/counters-sflow.js';
import { FlowRecord, srcAddress, dstAddress } from '../../src/flow/record.js';
import { DecodeError } from '../../src/lib/errors.js';

const clean = (s: string) => s.replace(/\s+/g, '');
const u32 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
const pad4 = (hex: string) => hex + '00'.repeat((4 - ((hex.length / 2) % 4)) % 4);
/** format + length + body: the framing shared by samples and records. */
const entry = (format: number, body: string) => u32(format) + u32(clean(body).length / 2) + clean(body);
const rawHeader = (proto: number, frame: number, stripped: number, header: string) =>
  entry(1, u32(proto) + u32(frame) + u32(stripped) + u32(clean(header).length / 2) + pad4(clean(header)));
const extSwitch = (srcVlan: number, dstVlan = 0) => entry(1001, u32(srcVlan) + u32(0) + u32(dstVlan) + u32(0));
/** Flow sample 0:1: seq, source id, rate, pool, drops, compact input/output, records. */
const flowSample = (rate: number, input: number, output: number, ...records: string[]) =>
  entry(1, u32(7) + u32(3) + u32(rate) + u32(100) + u32(0) + u32(input) + u32(output) + u32(records.length) + records.join(''));
const datagram = (samples: string[], agent = `00000001 7f000001`, version = 5) =>
  Buffer.from(clean(u32(version) + agent + u32(1) + u32(42) + u32(1000) + u32(samples.length) + samples.join('')), 'hex');

const ETH = '020000000002 020000000001';
const A6 = '20010db8000100000000000000000010';
const B6 = '20010db800ff00000000000000000020';
const TCP = 'a0b8 01bb 00000001 00000000 5018 ffff 0000 0000'; // 41144 -> 443, PSH|ACK
const IP4_TCP = `4500 0034 1234 4000 4006 0000 0a010030 c6336435 ${TCP}`;

/** Decodes, copying what the tests look at out of the reused record. */
function run(buf: Buffer, dec = new SflowDecoder({ report: () => {} }), exporter = '192.0.2.9') {
  const out: Array<Record<string, unknown>> = [];
  const n = dec.decode(buf, exporter, 1_700_000_000_123, (r: FlowRecord) => {
    out.push({
      exporter: r.exporter, domain: r.domain, source: r.source, ipVersion: r.ipVersion,
      src: r.ipVersion ? srcAddress(r) : '', dst: r.ipVersion ? dstAddress(r) : '', protocol: r.protocol,
      srcPort: r.srcPort, dstPort: r.dstPort, tcpFlags: r.tcpFlags, icmpType: r.icmpType, icmpCode: r.icmpCode,
      unreachProto: r.unreachProto, unreachPort: r.unreachPort, bytes: r.bytes, packets: r.packets,
      frameBytes: r.frameBytes, samplingRate: r.samplingRate, inIf: r.inIf, outIf: r.outIf, vlan: r.vlan,
      startMs: r.startMs, endMs: r.endMs,
    });
  });
  t.equal(n, out.length, 'decode() returns the number emitted');
  return out;
}

t.test('a pmacctd datagram, verbatim: Ethernet + IPv4 + UDP with an extended switch record', (t) => {
  const buf = Buffer.from(clean(`00000005 00000001 7f000001 00000001 00000001 00000000 00000001
    00000001 00000098 00000001 00000001 00000001 00000001 00000000 3fffffff 3fffffff 00000002
    000003e9 00000010 00000000 00000000 00000000 00000000
    00000001 00000058 00000001 0000004c 00000004 00000048
    020000000002020000000001 0800 4500003a00010000401146190a010030c6336435 8d98003500262e2c
    787878787878787878787878787878787878787878787878787878787878`), 'hex');
  const [r] = run(buf);
  t.match(r, {
    exporter: '127.0.0.1', domain: 1, source: 5000, ipVersion: 4, src: '10.1.0.48', dst: '198.51.100.53',
    protocol: 17, srcPort: 36248, dstPort: 53, bytes: 58, packets: 1, frameBytes: 76, samplingRate: 1,
    inIf: 0, outIf: 0, // 0x3FFFFFFF on the wire: unknown input, internal output (no interface)
    vlan: 0, startMs: 1_700_000_000_123, endMs: 1_700_000_000_123,
    icmpType: -1, unreachPort: -1,
  });
  t.end();
});

t.test('flow sample: Ethernet + IPv4 + TCP, rate and interfaces', (t) => {
  const out = run(datagram([flowSample(512, 3, 7, rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`))]));
  t.equal(out.length, 1);
  t.match(out[0], {
    ipVersion: 4, src: '10.1.0.48', dst: '198.51.100.53', protocol: 6, srcPort: 41144, dstPort: 443,
    tcpFlags: 0x18, bytes: 52, frameBytes: 70, packets: 1, samplingRate: 512, inIf: 3, outIf: 7,
  });
  t.end();
});

t.test('interface formats: discarded (1) and multiple (2) are not an ifIndex', (t) => {
  const [r] = run(datagram([flowSample(1, (1 << 30) | 258, (2 << 30) | 4, rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`))]));
  t.equal(r!.inIf, 0);
  t.equal(r!.outIf, 0);
  t.end();
});

t.test('VLAN: a tag in the header wins over the extended switch record, which fills in otherwise', (t) => {
  let [r] = run(datagram([flowSample(1, 1, 2, extSwitch(55), rawHeader(1, 74, 4, `${ETH} 8100 0064 0800 ${IP4_TCP}`))]));
  t.equal(r!.vlan, 100);
  [r] = run(datagram([flowSample(1, 1, 2, rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`), extSwitch(55, 66))]));
  t.equal(r!.vlan, 55, 'source VLAN of the switch record');
  [r] = run(datagram([flowSample(1, 1, 2, extSwitch(5000), rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`))]));
  t.equal(r!.vlan, 0, 'an out-of-range VLAN id is ignored');
  [r] = run(datagram([flowSample(1, 1, 2, rawHeader(1, 78, 4, `${ETH} 88a8 00c8 8100 012c 0800 ${IP4_TCP}`))]));
  t.equal(r!.vlan, 200, 'QinQ: outer tag');
  t.equal(r!.dstPort, 443);
  t.end();
});

t.test('IPv6 with hop-by-hop and fragment headers, then UDP', (t) => {
  const [r] = run(datagram([flowSample(10, 1, 2, rawHeader(1, 90, 4, `${ETH} 86dd 6000 0000 0020 0040 ${A6} ${B6}
    2c00 0104 00000000 1100 0001 12345678 a410 0035 0010 0000`))]));
  t.match(r, { ipVersion: 6, src: '2001:db8:1::10', dst: '2001:db8:ff::20', protocol: 17, srcPort: 42000, dstPort: 53, bytes: 72, frameBytes: 90 });
  t.end();
});

t.test('ICMP and ICMPv6 unreachable: quoted protocol and destination port', (t) => {
  const v4 = rawHeader(1, 74, 4, `${ETH} 0800 4500 0038 0001 0000 4001 0000 0a010101 cb007142 0303 0000 00000000
    4500 0024 0001 0000 4011 0000 cb007142 0a010101 8235 04d2 0010 0000`);
  const v6 = rawHeader(1, 114, 4, `${ETH} 86dd 6000 0000 0038 3a40 ${A6} ${B6} 0104 0000 00000000
    6000 0000 0010 1140 ${B6} ${A6} a410 04d2 0010 0000`);
  const out = run(datagram([flowSample(1, 1, 2, v4), flowSample(1, 1, 2, v6)]));
  t.match(out, [
    { src: '10.1.1.1', dst: '203.0.113.66', protocol: 1, icmpType: 3, icmpCode: 3, unreachProto: 17, unreachPort: 1234, bytes: 56 },
    { src: '2001:db8:1::10', protocol: 58, icmpType: 1, icmpCode: 4, unreachProto: 17, unreachPort: 1234, bytes: 96 },
  ]);
  t.end();
});

t.test('IPv4 non-first fragment: no ports', (t) => {
  const [r] = run(datagram([flowSample(1, 1, 2, rawHeader(1, 1518, 4, `${ETH} 0800 4500 05dc 1234 00b9 4006 0000 0a010030 c6336435 0050 1f90 00000000`))]));
  t.match(r, { protocol: 6, srcPort: 0, dstPort: 0, bytes: 1500, frameBytes: 1518 });
  t.end();
});

t.test('expanded flow sample (0:3): expanded source id and interfaces', (t) => {
  const body = u32(9) + u32(0) + u32(77) + u32(1000) + u32(5000) + u32(0) + u32(0) + u32(10) + u32(2) + u32(3) +
    u32(1) + rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`);
  const [r] = run(datagram([entry(3, body)]));
  t.match(r, { samplingRate: 1000, inIf: 10, outIf: 0, dstPort: 443, bytes: 52 });
  t.end();
});

t.test('sampled IPv4/IPv6 records are used when no raw header is present', (t) => {
  const s4 = entry(3, u32(1500) + u32(6) + '0a010030 c6336435' + u32(41144) + u32(443) + u32(0x18) + u32(0));
  const s6 = entry(4, u32(1280) + u32(17) + A6 + B6 + u32(5353) + u32(53) + u32(0) + u32(0));
  const out = run(datagram([flowSample(256, 1, 2, s4), flowSample(256, 1, 2, s6)]));
  t.match(out, [
    { ipVersion: 4, src: '10.1.0.48', dst: '198.51.100.53', protocol: 6, srcPort: 41144, dstPort: 443, tcpFlags: 0x18, bytes: 1500, frameBytes: 0, samplingRate: 256 },
    { ipVersion: 6, src: '2001:db8:1::10', protocol: 17, srcPort: 5353, dstPort: 53, bytes: 1280 },
  ]);
  // A raw header, before or after, wins over the sampled record.
  const hdr = rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`);
  for (const recs of [[s6, hdr], [hdr, s6]]) {
    const [r] = run(datagram([flowSample(1, 1, 2, ...recs)]));
    t.match(r, { ipVersion: 4, bytes: 52, frameBytes: 70, protocol: 6 });
  }
  t.end();
});

t.test('non-IP frame: emitted with ipVersion 0, bytes = frame - stripped - L2 header', (t) => {
  const dec = new SflowDecoder({ report: () => {} });
  const [r] = run(datagram([flowSample(1, 1, 2, rawHeader(1, 64, 4, `${ETH} 0806 0001 0800 0604 0001`))]), dec);
  t.match(r, { ipVersion: 0, bytes: 64 - 4 - 14, frameBytes: 64, packets: 1 });
  t.equal(dec.stats.nonIp, 1);
  const [u] = run(datagram([flowSample(1, 1, 2, rawHeader(7, 100, 0, '0102030405060708'))]), dec);
  t.match(u, { ipVersion: 0, bytes: 100, frameBytes: 100 }, 'unknown header protocol: the whole frame');
  const [e] = run(datagram([flowSample(1, 1, 2, extSwitch(9))]), dec);
  t.match(e, { ipVersion: 0, bytes: 0, vlan: 9, packets: 1 }, 'no packet record at all still counts the sample');
  t.end();
});

t.test('unknown sample formats and flow records are skipped by length', (t) => {
  const dec = new SflowDecoder({ report: () => {} });
  const out = run(datagram([
    entry((4413 << 12) | 5, 'deadbeef'),
    flowSample(1, 1, 2, entry(1002, '00000001 00000002'), rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`)),
  ]), dec);
  t.equal(out.length, 1);
  t.equal(out[0]!.dstPort, 443);
  t.equal(dec.stats.unknownSamples, 1);
  t.end();
});

/** Generic interface counters record (0:1), 88 bytes. */
const ifCounters = (ifIndex: number, inOctets: number) => entry(1, u32(ifIndex) + u32(6) + u32(0) + u32(1e9) + u32(1) + u32(3) +
  u32(0) + u32(inOctets) + u32(10) + u32(11) + u32(12) + u32(13) + u32(14) + u32(15) +
  u32(1) + u32(0) + u32(20) + u32(21) + u32(22) + u32(23) + u32(24) + u32(0));

t.test('counter samples (0:2 and expanded 0:4) fill the store and emit nothing', (t) => {
  const store = new SflowCounterStore();
  const dec = new SflowDecoder({ report: () => {}, counters: store });
  const compact = entry(2, u32(1) + u32(5) + u32(2) + entry(2, '00'.repeat(52)) + ifCounters(5, 1234));
  const expanded = entry(4, u32(1) + u32(0) + u32(6) + u32(1) + ifCounters(6, 99));
  t.equal(run(datagram([compact, expanded]), dec).length, 0);
  t.equal(store.size, 2);
  t.equal(dec.stats.counterSamples, 2);
  const c = store.get('127.0.0.1', 1, 5)!;
  t.match(c, {
    agent: '127.0.0.1', subAgent: 1, ifIndex: 5, ifType: 6, ifSpeed: 1e9, ifDirection: 1, ifStatus: 3,
    inOctets: 1234, inUcastPkts: 10, inMulticastPkts: 11, inBroadcastPkts: 12, inDiscards: 13, inErrors: 14,
    inUnknownProtos: 15, outOctets: 2 ** 32, outUcastPkts: 20, outMulticastPkts: 21, outBroadcastPkts: 22,
    outDiscards: 23, outErrors: 24, promiscuousMode: 0, receivedMs: 1_700_000_000_123,
  });
  t.same([...store.entries()].map(([k]) => k), ['127.0.0.1|1|5', '127.0.0.1|1|6']);
  // A newer sample replaces the older in place; a full store refuses new keys and counts them.
  const small = new SflowCounterStore(1);
  const d2 = new SflowDecoder({ report: () => {}, counters: small });
  run(datagram([entry(2, u32(1) + u32(5) + u32(1) + ifCounters(5, 1))]), d2);
  run(datagram([entry(2, u32(2) + u32(5) + u32(1) + ifCounters(5, 2))]), d2);
  run(datagram([entry(2, u32(1) + u32(7) + u32(1) + ifCounters(7, 3))]), d2);
  t.equal(small.size, 1);
  t.equal(small.get('127.0.0.1', 1, 5)!.inOctets, 2);
  t.equal(small.overflow, 1);
  t.equal(small.expire(1_700_000_000_123), 0);
  t.equal(small.expire(1_700_000_000_124), 1);
  t.equal(small.size, 0);
  t.end();
});

t.test('a short counters record is reported and leaves the store untouched', (t) => {
  const store = new SflowCounterStore();
  const errors: DecodeError[] = [];
  const dec = new SflowDecoder({ report: (e) => errors.push(e), counters: store });
  run(datagram([entry(2, u32(1) + u32(5) + u32(1) + entry(1, u32(5) + u32(6)))]), dec);
  t.equal(store.size, 0);
  t.equal(errors.length, 1);
  t.equal(errors[0]!.kind, 'truncated');
  t.end();
});

t.test('IPv6 agent address is the exporter; the agent text follows the agent', (t) => {
  const dec = new SflowDecoder({ report: () => {} });
  const s = flowSample(1, 1, 2, rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`));
  t.equal(run(datagram([s], `00000002 20010db8000000000000000000000001`), dec)[0]!.exporter, '2001:db8::1');
  t.equal(run(datagram([s], `00000002 20010db8000000000000000000000002`), dec)[0]!.exporter, '2001:db8::2');
  t.equal(run(datagram([s], `00000001 c0000201`), dec)[0]!.exporter, '192.0.2.1');
  t.equal(run(datagram([s], `00000002 20010db8000000000000000000000002`), dec)[0]!.exporter, '2001:db8::2');
  t.end();
});

t.test('a sample whose records overrun it is reported; the next sample still decodes', (t) => {
  const errors: DecodeError[] = [];
  const dec = new SflowDecoder({ report: (e) => errors.push(e) });
  const good = flowSample(1, 1, 2, rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`));
  // A flow sample that declares one record of 200 bytes inside a 48-byte sample.
  const bad = entry(1, u32(1) + u32(1) + u32(1) + u32(1) + u32(0) + u32(1) + u32(2) + u32(1) + u32(1) + u32(200) + u32(1));
  const tooMany = entry(1, u32(1) + u32(1) + u32(1) + u32(1) + u32(0) + u32(1) + u32(2) + u32(5000));
  const out = run(datagram([bad, tooMany, good]), dec, '198.51.100.9');
  t.equal(out.length, 1);
  t.equal(out[0]!.dstPort, 443);
  t.same(errors.map((e) => e.kind), ['truncated', 'bad_count']);
  t.match(errors[0], { exporter: '198.51.100.9', version: 5, domain: 1 }, 'errors name the UDP source');
  t.equal(dec.stats.badSamples, 2);
  t.end();
});

t.test('sample length 0 is a bad sample, not a loop; a length past the end drops the rest', (t) => {
  const errors: DecodeError[] = [];
  const dec = new SflowDecoder({ report: (e) => errors.push(e) });
  const good = flowSample(1, 1, 2, rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`));
  t.equal(run(datagram([u32(1) + u32(0), good]), dec).length, 1);
  t.equal(errors.length, 1);
  t.equal(errors[0]!.kind, 'truncated');
  const emitted: number[] = [];
  const buf = datagram([good, u32(1) + u32(0xfffffff0) + '00000000', good]);
  const err = t.throws(() => dec.decode(buf, '198.51.100.9', 0, (r) => emitted.push(r.dstPort))) as unknown as DecodeError;
  t.ok(err instanceof DecodeError);
  t.equal(err.kind, 'bad_length');
  t.equal(err.exporter, '198.51.100.9');
  t.same(emitted, [443], 'samples before the bad length were emitted');
  t.end();
});

t.test('datagram header errors: version, agent address type, sample count', (t) => {
  const dec = new SflowDecoder({ report: () => {} });
  const s = flowSample(1, 1, 2, rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`));
  const kind = (buf: Buffer) => {
    try {
      dec.decode(buf, '192.0.2.9', 0, () => {});
    } catch (e) {
      t.ok(e instanceof DecodeError);
      return (e as DecodeError).kind;
    }
    return 'none';
  };
  t.equal(kind(datagram([s], undefined, 4)), 'unknown_version');
  t.equal(kind(Buffer.from('000000', 'hex')), 'truncated');
  t.equal(kind(datagram([s]).subarray(0, 20)), 'truncated', 'cut inside the header');
  t.equal(kind(datagram([s], '00000003 7f000001')), 'unsupported_format');
  const many = datagram([s]);
  many.writeUInt32BE(5000, 24);
  t.equal(kind(many), 'bad_count');
  many.writeUInt32BE((many.length - 28) / 8 + 1, 24);
  t.equal(kind(many), 'bad_count', 'more samples than 8-byte headers fit');
  t.equal(kind(datagram([])), 'none', 'an empty datagram is fine');
  t.end();
});

t.test('a datagram cut at every offset throws only DecodeError and never emits a partial sample', (t) => {
  const dec = new SflowDecoder({ report: () => {} });
  const full = datagram([
    flowSample(1, 1, 2, extSwitch(3), rawHeader(1, 74, 4, `${ETH} 8100 0064 0800 ${IP4_TCP}`)),
    entry(2, u32(1) + u32(5) + u32(1) + ifCounters(5, 1)),
    flowSample(1, 1, 2, rawHeader(1, 70, 4, `${ETH} 0800 ${IP4_TCP}`)),
  ]);
  let thrown = 0;
  for (let cut = 0; cut < full.length; cut++) {
    let n = 0;
    try {
      n = dec.decode(full.subarray(0, cut), 'x', 0, () => {});
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      thrown++;
    }
    t.ok(n <= 1, `cut ${cut}`);
  }
  t.equal(thrown, full.length, 'every cut datagram loses a sample length, so each one errors');
  t.equal(dec.decode(full, 'x', 0, () => {}), 2);
  t.end();
});
