import t from 'tap';
import { Key, KEY_NAMES, keyIndex, keyValue, numericKey, tupleText } from '../../src/flow/keys.js';
import { FlowRecord, IpVersion } from '../../src/flow/record.js';

const IN = 0, OUT = 1, INTERNAL = 2, EXTERNAL = 3;
const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const GROUPS = ['home', 'lab'];

function rec(o: Partial<FlowRecord> = {}): FlowRecord {
  const r = new FlowRecord();
  r.clear();
  r.exporter = '192.0.2.1';
  r.ipVersion = IpVersion.V4;
  r.src4 = ip(8, 8, 8, 8);
  r.dst4 = ip(10, 0, 0, 1);
  r.protocol = 6;
  r.srcPort = 443;
  r.dstPort = 50000;
  r.tcpFlags = 0x12;
  r.inIf = 3;
  r.outIf = 7;
  r.srcAs = 15169;
  r.dstAs = 4_200_000_001;
  r.tos = 0xb8;
  r.vlan = 100;
  Object.assign(r, o);
  return r;
}

t.test('every key of an inbound TCP record', (t) => {
  const r = rec();
  const v = (name: string, d = IN) => keyValue(keyIndex(name), r, d, -1, 0, GROUPS);
  const expected: Record<string, string | number> = {
    ipsource: '8.8.8.8', ipdestination: '10.0.0.1', sourceport: 443, destinationport: 50000, protocol: 6, direction: 'in',
    group: 'home', sourcegroup: '-1', destinationgroup: 'home', exporter: '192.0.2.1', icmptype: -1, icmpcode: -1,
    icmpunreachableport: -1, vlan: 100, tcpflags: 0x12, inputifindex: 3, outputifindex: 7, interface: 0,
    localhost: '10.0.0.1', remotehost: '8.8.8.8', serviceport: 443, srcas: 15169, dstas: 4_200_000_001, remoteas: 15169, dscp: 46,
  };
  t.same(Object.keys(expected), [...KEY_NAMES], 'every key is tested');
  for (const [k, want] of Object.entries(expected)) t.equal(v(k), want, k);
  t.end();
});

t.test('the home end and the remote end follow the direction', (t) => {
  const r = rec();
  t.equal(keyValue(Key.LocalHost, r, OUT, 0, -1, GROUPS), '8.8.8.8', 'out: the source is the home end');
  t.equal(keyValue(Key.RemoteHost, r, OUT, 0, -1, GROUPS), '10.0.0.1');
  t.equal(numericKey(Key.RemoteAs, r, OUT, 0, -1), 4_200_000_001, 'out: the destination AS');
  for (const d of [INTERNAL, EXTERNAL]) {
    t.equal(numericKey(Key.LocalHost, r, d, 0, 0), -1, 'no single home end');
    t.equal(numericKey(Key.RemoteHost, r, d, 0, 0), -1);
    t.equal(numericKey(Key.RemoteAs, r, d, 0, 0), -1);
  }
  t.not(tupleText(Uint8Array.of(Key.LocalHost), r, IN, -1, 0), tupleText(Uint8Array.of(Key.RemoteHost), r, IN, -1, 0));
  t.end();
});

t.test('a key the record lacks has no value (-1)', (t) => {
  const r = rec({ inIf: 0, outIf: 0, srcAs: 0, dstAs: 0, protocol: 1, icmpType: 8, icmpCode: 0 });
  for (const k of [Key.InputIfIndex, Key.OutputIfIndex, Key.Interface, Key.SrcAs, Key.DstAs, Key.RemoteAs, Key.ServicePort,
    Key.SourcePort, Key.TcpFlags]) {
    t.equal(numericKey(k, r, IN, -1, 0), -1, KEY_NAMES[k]);
  }
  t.equal(numericKey(Key.IcmpType, r, IN, -1, 0), 8);
  const none = rec({ ipVersion: IpVersion.None });
  for (const k of [Key.IpSource, Key.LocalHost, Key.RemoteHost, Key.Protocol, Key.Dscp]) t.equal(numericKey(k, none, IN, -1, 0), -1, KEY_NAMES[k]);
  t.equal(numericKey(Key.Dscp, rec({ tos: 0 }), IN, -1, 0), 0, 'ToS 0 is DSCP 0');
  t.end();
});

t.test('IPv6 addresses as text', (t) => {
  const r = rec({ ipVersion: IpVersion.V6 });
  r.src6.set(Buffer.from('20010db8000000000000000000000001', 'hex'));
  r.dst6.set(Buffer.from('20010db8000100000000000000000002', 'hex'));
  t.equal(keyValue(Key.RemoteHost, r, IN, -1, 0, GROUPS), '2001:db8::1');
  t.equal(keyValue(Key.LocalHost, r, IN, -1, 0, GROUPS), '2001:db8:1::2');
  t.end();
});
