// Interface names end to end: NetFlow v9 and IPFIX options data carrying interfaceName (IE 82) and
// interfaceDescription (IE 83), fixed and variable length, then flow records with those ifIndexes,
// through the live pipeline with an interfaces view: the names on the view rows and the sFlow interface
// rows, the configured names winning (and reloaded), hostile options data bounded and counted, and
// the tag the sinks write.
import t from 'tap';
import { loadConfig } from '../src/config/load.js';
import { Pipeline } from '../src/pipeline.js';
import { LiveCollector } from '../src/live.js';
import type { IntervalSummary, ViewRow } from '../src/aggregate/summary.js';
import { IfCounterDelta } from '../src/decode/counters-sflow.js';
import { InfluxSink } from '../src/export/influx.js';
import { GraphiteSink } from '../src/export/graphite.js';
import { Metrics } from '../src/lib/counters.js';
import { cat, ip4, ipfix, ipfixOptTpl, set, tpl, u16, u32, u64, u8, v9, v9OptTpl } from './decode/nf-build.js';

const T = 1_793_491_205_000; // 5 s into an interval
const SECS = Math.floor(T / 1000);
const V9_EXPORTER = '192.0.2.1';
const IPFIX_EXPORTER = '192.0.2.2';

/** A text in a fixed-length field, NUL-padded. */
const fixed = (text: string, len: number) => {
  const b = Buffer.alloc(len);
  Buffer.from(text, 'utf8').copy(b);
  return b;
};
/** An IPFIX variable-length field: one length byte, or 255 and two (RFC 7011 §7). */
const varlen = (b: Buffer) => (b.length < 255 ? cat(u8(b.length), b) : cat(u8(255), u16(b.length), b));

// v9: options template 400, scope "Interface" (type 2, RFC 3954 §6.1), IF_NAME 32 B, IF_DESC 64 B
function v9Names(...rows: [number, string, string][]): Buffer {
  return v9({ sysUptime: 100_000, unixSecs: SECS, sourceId: 7 },
    set(1, v9OptTpl(400, [[2, 4]], [[82, 32], [83, 64]]), 2),
    set(400, cat(...rows.map(([ifIndex, name, desc]) => cat(u32(ifIndex), fixed(name, 32), fixed(desc, 64))))));
}
// v9 data template 256: addresses, counters, protocol, ports, input/output SNMP, first/last switched
function v9Flow(inIf: number, outIf: number, bytes: number): Buffer {
  return v9({ sysUptime: 100_000, unixSecs: SECS, sourceId: 7 },
    set(0, tpl(256, [[8, 4], [12, 4], [1, 4], [2, 4], [4, 1], [7, 2], [11, 2], [10, 2], [14, 2], [22, 4], [21, 4]])),
    set(256, cat(ip4('10.1.0.5'), ip4('198.51.100.7'), u32(bytes), u32(1), u8(6), u16(50000), u16(443), u16(inIf), u16(outIf),
      u32(98_000), u32(99_000)), 1));
}
// IPFIX: options template 300, scope ingressInterface, interfaceName and interfaceDescription variable length
function ipfixNames(rows: [number, Buffer, Buffer][], domain = 0): Buffer {
  return ipfix({ exportTime: SECS, domain },
    set(3, ipfixOptTpl(300, [[10, 4]], [[82, 0xffff], [83, 0xffff]]), 2),
    set(300, cat(...rows.map(([ifIndex, name, desc]) => cat(u32(ifIndex), varlen(name), varlen(desc))))));
}
function ipfixFlow(inIf: number, outIf: number, bytes: number): Buffer {
  return ipfix({ exportTime: SECS },
    set(2, tpl(256, [[8, 4], [12, 4], [1, 8], [2, 8], [4, 1], [7, 2], [11, 2], [10, 4], [14, 4], [152, 8], [153, 8]])),
    set(256, cat(ip4('10.1.0.5'), ip4('198.51.100.7'), u64(bytes), u64(1), u8(6), u16(50000), u16(443), u32(inIf), u32(outIf),
      u64(T - 2000), u64(T - 1000))));
}

function live(overrides: object = {}) {
  const cfg = loadConfig({ argv: [], env: {}, overrides: {
    networks: { home: ['10.0.0.0/8'] }, state: { file: '' }, views: [{ name: 'ifs', keys: ['exporter', 'interface'] }], ...overrides,
  } });
  const out: IntervalSummary[] = [];
  const p = new Pipeline(cfg, { time: 'arrival', onSummary: (s) => out.push(s) });
  p.aggregator.start(T);
  const close = () => {
    p.aggregator.flush(true);
    return out.filter((s) => (s.views?.ifs?.length ?? 0) > 0 || s.interfaces !== undefined);
  };
  return { p, close, total: (name: string, labels = {}) => p.metrics.total(name, labels) };
}

/** "exporter ifIndex direction → ifName" of every interfaces view row */
const rows = (s: IntervalSummary) => (s.views!.ifs as ViewRow[]).map((r) => `${r.key.exporter} ${r.key.interface} ${r.direction} ${r.ifName ?? '-'}`).sort();

t.test('v9 (fixed length, scope Interface) and IPFIX (variable length, scope ingressInterface): names on the view rows', async (t) => {
  const { p, close, total } = live();
  p.onDatagram(v9Names([3, 'xe-0/0/1', 'uplink to core'], [7, '', 'transit: AS64500']), V9_EXPORTER, T);
  p.onDatagram(ipfixNames([[10, Buffer.from('ge-1/0/0'), Buffer.alloc(0)], [11, Buffer.alloc(0), Buffer.from('mgmt\0\0')]]), IPFIX_EXPORTER, T);
  p.onDatagram(v9Flow(3, 7, 1500), V9_EXPORTER, T);
  p.onDatagram(ipfixFlow(10, 11, 700), IPFIX_EXPORTER, T);
  p.onDatagram(ipfixFlow(10, 12, 300), IPFIX_EXPORTER, T); // ifIndex 12 has no name
  const [s] = close();
  t.same(rows(s!), [
    '192.0.2.1 3 in xe-0/0/1',
    '192.0.2.1 7 out transit: AS64500',
    '192.0.2.2 10 in ge-1/0/0',
    '192.0.2.2 11 out mgmt',
    '192.0.2.2 12 out -',
  ], 'the name, else the description; none for an ifIndex never named');
  const r3 = s!.views!.ifs!.find((r) => r.key.interface === 3)!;
  t.same(r3, { key: { exporter: V9_EXPORTER, interface: 3 }, direction: 'in', bytes: 1500, packets: 1, flows: 1, ifName: 'xe-0/0/1' });
  t.notOk('ifName' in s!.views!.ifs!.find((r) => r.key.interface === 12)!, 'absent, not empty, when unknown');
  t.equal(total('interface_names_learned_total'), 4);
  t.equal(total('interface_names_held'), 4);
  t.equal(total('records_total'), 3, 'options records are no flows');
  t.equal(total('decode_errors_total'), 0);
  // the same rows as series: the tag where the name is known, paths unchanged
  const lines = new InfluxSink({ api: 'v1' }, { metrics: new Metrics() }).format(s!).filter((l) => l.startsWith('view_ifs'));
  t.ok(lines.includes(`view_ifs,direction=in,exporter=192.0.2.1,ifname=xe-0/0/1,interface=3 bps=1200,bytes=1500i,flows=1i,packets=1i,pps=0.1 ${s!.start}`));
  t.ok(lines.includes(`view_ifs,direction=out,exporter=192.0.2.1,ifname=transit:\\ AS64500,interface=7 bps=1200,bytes=1500i,flows=1i,packets=1i,pps=0.1 ${s!.start}`), 'space escaped');
  t.ok(lines.includes(`view_ifs,direction=out,exporter=192.0.2.2,interface=12 bps=240,bytes=300i,flows=1i,packets=1i,pps=0.1 ${s!.start}`), 'no tag when unknown');
  const tagged = new GraphiteSink({ tagged: true }, { metrics: new Metrics() }).format(s!).flatMap((c) => c.text.split('\n'));
  t.ok(tagged.includes(`flowbridge.views.ifs.bytes;direction=in;exporter=192.0.2.2;ifname=ge-1/0/0;interface=10 1000 ${s!.start}`));
  const plain = new GraphiteSink({}, { metrics: new Metrics() }).format(s!).flatMap((c) => c.text.split('\n'));
  t.ok(plain.includes(`flowbridge.views.ifs.192_0_2_2.10.in.bytes 1000 ${s!.start}`), 'plain path as before');
  t.notOk(plain.some((l) => l.includes('ge-1')), 'no name in plain paths');
});

t.test('configured names win over learned ones; a reload applies a changed map; sFlow interface rows get them too', async (t) => {
  const { p, close } = live({ interfaces: { [V9_EXPORTER]: { 3: 'core-1' } } });
  p.onDatagram(v9Names([3, 'xe-0/0/1', ''], [7, 'xe-0/0/7', '']), V9_EXPORTER, T);
  p.onDatagram(v9Flow(3, 7, 1000), V9_EXPORTER, T);
  const d = Object.assign(new IfCounterDelta(), { agent: V9_EXPORTER, ifIndex: 7, ifSpeed: 1e9, receivedMs: T, inOctets: 125, outOctets: 250 });
  p.interfaces.add(d, T);
  let out = close();
  t.same(rows(out[0]!), ['192.0.2.1 3 in core-1', '192.0.2.1 7 out xe-0/0/7']);
  t.same(out[0]!.interfaces!.map((r) => [r.exporter, r.ifIndex, r.ifName, r.in.octets]), [[V9_EXPORTER, 7, 'xe-0/0/7', 125]], 'the learned name on the counters row');
  const influx = new InfluxSink({ api: 'v1' }, { metrics: new Metrics() }).format(out[0]!).filter((l) => l.startsWith('interface_counters'));
  t.equal(influx.length, 2);
  t.ok(influx.every((l) => /^interface_counters,direction=(in|out),exporter=192\.0\.2\.1,ifIndex=7,ifname=xe-0\/0\/7 /.test(l)), 'tag ifname on interface_counters');
  // SIGHUP: 3 is no longer configured, 7 is
  p.reload(loadConfig({ argv: [], env: {}, overrides: {
    networks: { home: ['10.0.0.0/8'] }, state: { file: '' }, views: [{ name: 'ifs', keys: ['exporter', 'interface'] }],
    interfaces: { '192.0.2.1': { 7: 'to-isp' } },
  } }));
  const T2 = T + 20_000;
  p.aggregator.setClock(T2);
  p.onDatagram(v9({ sysUptime: 120_000, unixSecs: SECS + 20, sourceId: 7 },
    set(256, cat(ip4('10.1.0.5'), ip4('198.51.100.7'), u32(10), u32(1), u8(6), u16(50000), u16(443), u16(3), u16(7), u32(118_000), u32(119_000)), 1)),
  V9_EXPORTER, T2);
  p.interfaces.add(Object.assign(new IfCounterDelta(), { ...d, receivedMs: T2 }), T2);
  out = close();
  const last = out.at(-1)!;
  t.equal(last.start * 1000, Math.floor(T2 / 10_000) * 10_000);
  t.same(rows(last), ['192.0.2.1 3 in xe-0/0/1', '192.0.2.1 7 out to-isp'], 'the learned name back for 3, the new configured one for 7');
  t.equal(last.interfaces![0]!.ifName, 'to-isp');
});

t.test('hostile options data: 100,000 ifIndexes from one source and huge garbage names stay bounded and counted', async (t) => {
  const { p, close, total } = live();
  p.onDatagram(ipfixNames([[3, Buffer.from('et-0/0/3'), Buffer.alloc(0)]]), IPFIX_EXPORTER, T);
  const SPOOF = '198.51.100.66';
  // 5,000 records of 13 bytes a datagram (under 65,535 B), 20 datagrams
  for (let k = 0; k < 20; k++) {
    const recs: [number, Buffer, Buffer][] = [];
    for (let i = 1; i <= 5000; i++) recs.push([k * 5000 + i, Buffer.from(`x${(k * 5000 + i).toString(36)}`.padEnd(7, '_')), Buffer.alloc(0)]);
    p.onDatagram(ipfixNames(recs), SPOOF, T);
  }
  t.equal(total('interface_names_held'), 1 + 16_384, 'the source got its share of 16,384, no more');
  t.equal(total('interface_names_dropped_total', { reason: 'exporter' }), 100_000 - 16_384, 'the rest refused, counted');
  t.equal(p.interfaceNames.name(IPFIX_EXPORTER, 3), 'et-0/0/3', 'another exporter\'s name untouched');
  t.equal(p.interfaceNames.name(SPOOF, 16_385), undefined);
  // a 65,000-byte name of controls and text, and a name whose length runs past its set
  const huge = Buffer.concat([Buffer.from('\x1b[2J'), Buffer.alloc(64_000, 0x41), Buffer.from([0x07, 0x00, 0x42])]);
  p.onDatagram(ipfixNames([[4, huge, Buffer.from('ignored')]]), IPFIX_EXPORTER, T);
  t.equal(p.interfaceNames.name(IPFIX_EXPORTER, 4), `_[2J${'A'.repeat(60)}`, 'controls replaced, cut to 64 characters');
  const cut = ipfixNames([[5, Buffer.from('evil'), Buffer.alloc(0)]]);
  cut[cut.length - 6] = 200; // interfaceName claims 200 bytes, 6 are left
  p.onDatagram(cut, IPFIX_EXPORTER, T);
  t.equal(p.interfaceNames.name(IPFIX_EXPORTER, 5), undefined, 'a name past its set is not read');
  t.equal(total('decode_errors_total', { kind: 'truncated' }), 1, 'and counted as truncated');
  // flows still count as before, with the name where there is one
  p.onDatagram(ipfixFlow(3, 4, 100), IPFIX_EXPORTER, T);
  const [s] = close();
  t.same(rows(s!), [`192.0.2.2 3 in et-0/0/3`, `192.0.2.2 4 out _[2J${'A'.repeat(60)}`]);
  const line = new InfluxSink({ api: 'v1' }, { metrics: new Metrics() }).format(s!).find((l) => l.includes('interface=4'))!;
  t.match(line, /,ifname=_\[2JA{60},interface=4 /, 'the cleaned name as the tag');
});

t.test('learned names survive a restart through the state file', async (t) => {
  const file = `${t.testdir({})}/state.json`;
  const cfg = loadConfig({ argv: [], env: {}, overrides: {
    networks: { home: ['10.0.0.0/8'] }, state: { file }, listen: { netflow: ['127.0.0.1:0'], sflow: [], extra: [] }, output: { format: 'none' },
  } });
  const first = new LiveCollector(cfg);
  await first.start();
  first.onDatagram(v9Names([3, 'xe-0/0/1', 'uplink to core'], [7, '', 'transit: AS64500']), V9_EXPORTER, T);
  await first.stop();
  const second = new LiveCollector(cfg);
  await second.start();
  t.teardown(() => second.stop());
  const names = second.pipeline.interfaceNames;
  t.same([names.name(V9_EXPORTER, 3), names.name(V9_EXPORTER, 7), names.learnedSize], ['xe-0/0/1', 'transit: AS64500', 2],
    'the names are back before the exporter sends its options again');
});
