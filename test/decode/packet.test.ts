// Golden sampled headers (hand-built, each cross-checked with tshark) through parsePacketHeader.
import t from 'tap';
import { parsePacketHeader } from '../../src/decode/packet.js';
import { FlowRecord, srcAddress, dstAddress } from '../../src/flow/record.js';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ETH = '020000000002 020000000001'; // dst, src MAC
const A6 = '20010db8000100000000000000000010'; // 2001:db8:1::10
const B6 = '20010db800ff00000000000000000020'; // 2001:db8:ff::20
// TCP 41144 -> 443, seq 1, data offset 5, flags SYN|ACK (0x12)
const TCP = 'a0b8 01bb 00000001 00000000 5012 ffff 0000 0000';
// IPv4 total length 52, DF, TTL 64, TCP, 10.1.0.48 -> 198.51.100.53
const IP4_TCP = `4500 0034 1234 4000 4006 0000 0a010030 c6336435 ${TCP}`;

function parse(hex: string, proto = 1): { rec: FlowRecord; l2: number } {
  const buf = h(hex);
  const rec = new FlowRecord();
  rec.clear();
  const l2 = parsePacketHeader(buf, 0, buf.length, proto, rec);
  return { rec, l2 };
}

t.test('Ethernet + IPv4 + TCP', (t) => {
  const { rec, l2 } = parse(`${ETH} 0800 ${IP4_TCP}`);
  t.equal(l2, 14);
  t.equal(rec.ipVersion, 4);
  t.equal(srcAddress(rec), '10.1.0.48');
  t.equal(dstAddress(rec), '198.51.100.53');
  t.equal(rec.src4, 0x0a010030);
  t.equal(rec.dst4, 0xc6336435, 'unsigned 32-bit');
  t.equal(rec.protocol, 6);
  t.equal(rec.srcPort, 41144);
  t.equal(rec.dstPort, 443);
  t.equal(rec.tcpFlags, 0x12);
  t.equal(rec.bytes, 52, 'IPv4 total length');
  t.equal(rec.vlan, 0);
  t.equal(rec.icmpType, -1);
  t.equal(rec.unreachPort, -1);
  t.end();
});

t.test('802.1Q tag: VLAN id without the priority bits', (t) => {
  const { rec, l2 } = parse(`${ETH} 8100 a064 0800 ${IP4_TCP}`);
  t.equal(l2, 18);
  t.equal(rec.vlan, 100);
  t.equal(rec.dstPort, 443);
  t.end();
});

t.test('PPPoE session: the PPP protocol says IPv4 or IPv6; the link header is 22 bytes', (t) => {
  const { rec, l2 } = parse(`${ETH} 8864 1100 0001 0036 0021 ${IP4_TCP}`);
  t.equal(l2, 22);
  t.equal(rec.ipVersion, 4);
  t.equal(srcAddress(rec), '10.1.0.48');
  t.equal(rec.dstPort, 443);
  t.equal(rec.bytes, 52);
  const lcp = parse(`${ETH} 8864 1100 0001 0010 c021 0101000e`);
  t.equal(lcp.rec.ipVersion, 0, 'LCP is no IP');
  t.equal(lcp.l2, 22);
  t.end();
});

t.test('a header cut inside a tag, a label or a PPPoE header still counts it in the link header', (t) => {
  t.equal(parse(`${ETH} 8100 a0`).l2, 18, 'cut inside the 802.1Q tag');
  t.equal(parse(`${ETH} 8100 a064 8100`).l2, 22, 'cut inside the second tag');
  t.equal(parse(`${ETH} 8847 0001`).l2, 18, 'cut inside the first MPLS label');
  t.equal(parse(`${ETH} 8864 1100`).l2, 22, 'cut inside the PPPoE header');
  t.equal(parse(`${ETH} 08`).l2, 14, 'cut inside the EtherType');
  t.end();
});

t.test('QinQ (0x88a8 and 0x9100 outer): the outer tag is the VLAN', (t) => {
  for (const outer of ['88a8', '9100']) {
    const { rec, l2 } = parse(`${ETH} ${outer} 00c8 8100 012c 0800 ${IP4_TCP}`);
    t.equal(l2, 22, outer);
    t.equal(rec.vlan, 200, outer);
    t.equal(rec.srcPort, 41144, outer);
    t.equal(rec.tcpFlags, 0x12, outer);
  }
  t.end();
});

t.test('more tags than the bound stop parsing without an IP header', (t) => {
  const { rec } = parse(`${ETH} 8100 0001 8100 0002 8100 0003 8100 0004 8100 0005 0800 ${IP4_TCP}`);
  t.equal(rec.vlan, 1);
  t.equal(rec.ipVersion, 0);
  t.end();
});

t.test('IPv6 with hop-by-hop and first-fragment headers, then UDP', (t) => {
  const { rec, l2 } = parse(`${ETH} 86dd 6000 0000 0020 0040 ${A6} ${B6}
    2c00 0104 00000000   1100 0001 12345678   a410 0035 0010 0000 7878787878787878`);
  t.equal(l2, 14);
  t.equal(rec.ipVersion, 6);
  t.equal(srcAddress(rec), '2001:db8:1::10');
  t.equal(dstAddress(rec), '2001:db8:ff::20');
  t.equal(rec.protocol, 17);
  t.equal(rec.srcPort, 42000);
  t.equal(rec.dstPort, 53);
  t.equal(rec.bytes, 72, 'payload length + 40');
  t.end();
});

t.test('IPv6 later fragment: protocol from the fragment header, no ports', (t) => {
  const { rec } = parse(`${ETH} 86dd 6000 0000 0020 2c40 ${A6} ${B6} 1100 00b8 12345678 a410 0035 0010 0000`);
  t.equal(rec.protocol, 17);
  t.equal(rec.srcPort, 0);
  t.equal(rec.dstPort, 0);
  t.end();
});

t.test('IPv6 destination options and AH before TCP', (t) => {
  const { rec } = parse(`${ETH} 86dd 6000 0000 0040 3c40 ${A6} ${B6}
    3300 0104 00000000   0604 0000 00000001 00000002 000000000000000000000000   ${TCP}`);
  t.equal(rec.protocol, 6);
  t.equal(rec.srcPort, 41144);
  t.equal(rec.dstPort, 443);
  t.equal(rec.tcpFlags, 0x12);
  t.equal(rec.bytes, 104);
  t.end();
});

t.test('ICMP port unreachable quoting a UDP probe to port 1234', (t) => {
  const { rec } = parse(`${ETH} 0800 4500 0038 0001 0000 4001 0000 0a010101 cb007142
    0303 0000 00000000
    4500 0024 0001 0000 4011 0000 cb007142 0a010101   8235 04d2 0010 0000`);
  t.equal(srcAddress(rec), '10.1.1.1');
  t.equal(dstAddress(rec), '203.0.113.66');
  t.equal(rec.protocol, 1);
  t.equal(rec.icmpType, 3);
  t.equal(rec.icmpCode, 3);
  t.equal(rec.unreachProto, 17);
  t.equal(rec.unreachPort, 1234, 'the quoted destination port');
  t.equal(rec.srcPort, 0);
  t.equal(rec.bytes, 56);
  t.end();
});

t.test('ICMPv6 destination unreachable quoting an IPv6 UDP packet to port 1234', (t) => {
  const { rec } = parse(`${ETH} 86dd 6000 0000 0038 3a40 ${A6} ${B6}
    0104 0000 00000000
    6000 0000 0010 1140 ${B6} ${A6}   a410 04d2 0010 0000`);
  t.equal(rec.protocol, 58);
  t.equal(rec.icmpType, 1);
  t.equal(rec.icmpCode, 4);
  t.equal(rec.unreachProto, 17);
  t.equal(rec.unreachPort, 1234);
  t.equal(rec.bytes, 96);
  t.end();
});

t.test('quoted packet cut before its ports keeps the protocol only', (t) => {
  const { rec } = parse(`${ETH} 0800 4500 0038 0001 0000 4001 0000 0a010101 cb007142
    0303 0000 00000000 4500 0024 0001 0000 4011 0000 cb007142 0a010101 8235`);
  t.equal(rec.unreachProto, 17);
  t.equal(rec.unreachPort, -1);
  t.end();
});

t.test('ICMP echo: type and code, nothing quoted', (t) => {
  const { rec } = parse(`${ETH} 0800 4500 0054 0001 0000 4001 0000 0a010007 c6336401 0800 f7ff 0001 0001`);
  t.equal(rec.icmpType, 8);
  t.equal(rec.icmpCode, 0);
  t.equal(rec.unreachProto, -1);
  t.equal(rec.bytes, 84);
  t.end();
});

t.test('IPv4 non-first fragment has no ports', (t) => {
  const { rec } = parse(`${ETH} 0800 4500 05dc 1234 00b9 4006 0000 0a010030 c6336435 0050 1f90 00000000`);
  t.equal(rec.ipVersion, 4);
  t.equal(rec.protocol, 6);
  t.equal(rec.srcPort, 0);
  t.equal(rec.dstPort, 0);
  t.equal(rec.tcpFlags, 0);
  t.equal(rec.bytes, 1500);
  t.end();
});

t.test('IPv4 options are skipped by IHL', (t) => {
  const { rec } = parse(`${ETH} 0800 4600 0030 0001 0000 4011 0000 0a010030 c6336435 01010101 1f90 0035 001c 0000`);
  t.equal(rec.srcPort, 8080);
  t.equal(rec.dstPort, 53);
  t.equal(rec.bytes, 48);
  t.end();
});

t.test('802.3 LLC/SNAP frame carrying IPv4', (t) => {
  const { rec, l2 } = parse(`${ETH} 0030 aaaa03 000000 0800 4500 0028 0001 0000 4011 0000 0a010030 c6336435 1f90 0035 0014 0000`);
  t.equal(l2, 22);
  t.equal(rec.ipVersion, 4);
  t.equal(rec.dstPort, 53);
  t.end();
});

t.test('non-IP frames (ARP, 802.3 without SNAP) set no IP fields', (t) => {
  let { rec, l2 } = parse(`${ETH} 0806 0001 0800 0604 0001 020000000001 0a010030 000000000000 0a010001`);
  t.equal(l2, 14);
  t.equal(rec.ipVersion, 0);
  t.equal(rec.bytes, 0);
  ({ rec, l2 } = parse(`${ETH} 0030 4242 0300 0000 0000 0000 0000`));
  t.equal(rec.ipVersion, 0);
  t.end();
});

t.test('IPv4 and IPv6 header protocols start at the network layer', (t) => {
  let { rec, l2 } = parse(IP4_TCP, 11);
  t.equal(l2, 0);
  t.equal(rec.ipVersion, 4);
  t.equal(rec.dstPort, 443);
  ({ rec, l2 } = parse(`6000 0000 0018 0640 ${A6} ${B6} ${TCP}`, 12));
  t.equal(l2, 0);
  t.equal(rec.ipVersion, 6);
  t.equal(rec.srcPort, 41144);
  t.equal(rec.bytes, 64);
  ({ rec } = parse(IP4_TCP, 12));
  t.equal(rec.ipVersion, 0, 'an IPv4 header where IPv6 was declared is not parsed');
  ({ rec, l2 } = parse(`${ETH} 0800 ${IP4_TCP}`, 2));
  t.equal(l2, 0, 'unknown header protocol');
  t.equal(rec.ipVersion, 0);
  t.end();
});

t.test('corrupt lengths: IHL below 5 and total length below the header leave bytes to the caller', (t) => {
  let { rec } = parse(`${ETH} 0800 4400 0034 1234 4000 4006 0000 0a010030 c6336435`);
  t.equal(rec.ipVersion, 0);
  ({ rec } = parse(`${ETH} 0800 4500 0010 1234 4000 4006 0000 0a010030 c6336435 ${TCP}`));
  t.equal(rec.ipVersion, 4);
  t.equal(rec.bytes, 0);
  t.equal(rec.dstPort, 443);
  ({ rec } = parse(`${ETH} 86dd 6000 0000 0000 0640 ${A6} ${B6} ${TCP}`));
  t.equal(rec.ipVersion, 6);
  t.equal(rec.bytes, 0, 'payload length 0 (jumbogram)');
  t.end();
});

t.test('a header cut at every offset sets what it could and never throws', (t) => {
  const headers = [
    `${ETH} 88a8 00c8 8100 012c 0800 ${IP4_TCP}`,
    `${ETH} 86dd 6000 0000 0020 0040 ${A6} ${B6} 2c00 0104 00000000 1100 0001 12345678 a410 0035 0010 0000`,
    `${ETH} 0800 4500 0038 0001 0000 4001 0000 0a010101 cb007142 0303 0000 00000000 4500 0024 0001 0000 4011 0000 cb007142 0a010101 8235 04d2 0010 0000`,
    `${ETH} 86dd 6000 0000 0038 3a40 ${A6} ${B6} 0104 0000 00000000 6000 0000 0010 1140 ${B6} ${A6} a410 04d2 0010 0000`,
  ];
  for (const hex of headers) {
    const full = h(hex);
    const rec = new FlowRecord();
    for (let cut = 0; cut <= full.length; cut++) {
      rec.clear();
      parsePacketHeader(full, 0, cut, 1, rec);
      if (cut < 34) t.equal(rec.ipVersion, 0, `cut ${cut}: no IP header yet`);
      if (cut === full.length) t.not(rec.ipVersion, 0);
    }
    // An end past the buffer is clamped, a start past the end parses nothing.
    rec.clear();
    t.equal(parsePacketHeader(full, 0, full.length + 100, 1, rec) > 0, true);
    rec.clear();
    t.equal(parsePacketHeader(full, 10, 5, 1, rec), 0);
    t.equal(rec.ipVersion, 0);
  }
  // Cut inside TCP: addresses and protocol known, ports not.
  const rec = new FlowRecord();
  rec.clear();
  const b = h(`${ETH} 0800 ${IP4_TCP}`);
  parsePacketHeader(b, 0, 14 + 20 + 2, 1, rec);
  t.equal(rec.ipVersion, 4);
  t.equal(rec.protocol, 6);
  t.equal(rec.srcPort, 0);
  t.end();
});

t.test('MPLS label stack (two labels, then IPv4; one label, then IPv6): popped, the payload told by its version', (t) => {
  const two = parse(`${ETH} 8847 000640ff 000651ff ${IP4_TCP}`);
  t.equal(two.l2, 22);
  t.equal(two.rec.ipVersion, 4);
  t.equal(two.rec.dstPort, 443);
  t.equal(two.rec.bytes, 52);
  const v6 = parse(`${ETH} 8847 000651ff 6000 0000 0014 0640 ${A6} ${B6} ${TCP}`);
  t.equal(v6.l2, 18);
  t.equal(v6.rec.ipVersion, 6);
  t.equal(v6.rec.srcPort, 41144);
  const other = parse(`${ETH} 8847 000651ff 0000 0000`);
  t.equal(other.rec.ipVersion, 0, 'neither IPv4 nor IPv6 under the stack: no IP');
  t.end();
});
