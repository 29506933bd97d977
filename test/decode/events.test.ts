// Records without traffic counters (NAT event logging, firewall events) are events, not flows: counted
// apart (event_records_total, the eventRecords collector stat), never emitted as 0-byte flows.
import t from 'tap';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { Netflow9Decoder } from '../../src/decode/netflow9.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { loadConfig } from '../../src/config/load.js';
import { Pipeline } from '../../src/pipeline.js';
import { silentLogger } from '../../src/lib/log.js';
import { Sink, cat, ip4, ipfix, set, tpl, u16, u32, u64, u8, v9, type Field } from './nf-build.js';

const H = { exportTime: 1700000010, domain: 1 };
// RFC 8158-style NAT44 session event: natEvent, times, inside and outside addresses and ports
const NAT: Field[] = [[323, 8], [230, 1], [8, 4], [12, 4], [7, 2], [11, 2], [225, 4], [227, 2], [4, 1]];
const natRow = (ev: number, i: number) => cat(u64(1700000000000 + i), u8(ev), ip4('10.0.0.5'), ip4('198.51.100.7'),
  u16(40000 + i), u16(443), ip4('203.0.113.1'), u16(60000 + i), u8(6));

function ipfixSetup() {
  const sink = new Sink();
  const dec = new IpfixDecoder({ templates: new TemplateCache({ now: () => 0, report: sink.report }), sampling: new SamplingTable(), report: sink.report });
  return { sink, dec };
}

t.test('IPFIX NAT events: no flow records, counted as events; a variable-length event template too', (t) => {
  const { sink, dec } = ipfixSetup();
  t.equal(dec.decode(ipfix(H, set(2, tpl(400, NAT)), set(400, cat(natRow(1, 0), natRow(2, 1), natRow(1, 2)))), 'x', 0, sink.emit), 0);
  t.equal(dec.events, 3);
  t.same(sink.records, [], 'nothing emitted');
  t.same(sink.errors, []);
  // firewallEvent with a variable-length field (the checked reader frames it)
  const FW: Field[] = [[233, 1], [8, 4], [12, 4], [82, 65535]];
  t.equal(dec.decode(ipfix(H, set(2, tpl(401, FW)), set(401, cat(u8(2), ip4('10.0.0.5'), ip4('10.0.0.6'), u8(3), Buffer.from('fw0')))), 'x', 0, sink.emit), 0);
  t.equal(dec.events, 1, 'counted per datagram');
  t.same(sink.records, []);
  // the same NAT fields with counters are traffic: flows as before
  const counted: Field[] = [...NAT, [1, 4], [2, 4]];
  t.equal(dec.decode(ipfix(H, set(2, tpl(402, counted)), set(402, cat(natRow(2, 0), u32(4000), u32(4)))), 'x', 0, sink.emit), 1);
  t.equal(dec.events, 0);
  t.match(sink.records, [{ bytes: 4000, packets: 4, src: '10.0.0.5' }]);
  t.end();
});

t.test('NetFlow v9 NSEL firewall events (type 40005) without counters are events', (t) => {
  const sink = new Sink();
  const dec = new Netflow9Decoder({ templates: new TemplateCache({ now: () => 0, report: sink.report }), sampling: new SamplingTable(), report: sink.report });
  const F: Field[] = [[8, 4], [12, 4], [4, 1], [40005, 1], [233, 1]];
  const row = cat(ip4('10.0.0.5'), ip4('10.0.0.6'), u8(17), u8(1), u8(1));
  t.equal(dec.decode(v9({ sysUptime: 1000, unixSecs: 1700000010 }, set(0, tpl(260, F)), set(260, cat(row, row))), 'x', 0, sink.emit), 0);
  t.equal(dec.events, 2);
  t.same(sink.records, []);
  t.end();
});

t.test('the pipeline counts them as eventRecords and event_records_total, not records', async (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: {} });
  const stats: Record<string, number>[] = [];
  const p = new Pipeline(cfg, { time: 'event', log: silentLogger, onSummary: (s) => stats.push(s.stats.collector) });
  p.onDatagram(ipfix(H, set(2, tpl(400, NAT)), set(400, cat(natRow(1, 0), natRow(2, 1)))), '192.0.2.1', 1700000010000);
  // one traffic flow, so an interval (and its stats) is written
  const flow: Field[] = [[8, 4], [12, 4], [152, 8], [1, 4], [2, 4]];
  p.onDatagram(ipfix(H, set(2, tpl(401, flow)), set(401, cat(ip4('10.0.0.5'), ip4('10.0.0.6'), u64(1700000000000), u32(100), u32(1)))),
    '192.0.2.1', 1700000010001);
  await p.finish();
  const sum = (k: string) => stats.reduce((a, s) => a + (s[k] ?? 0), 0);
  t.equal(sum('eventRecords'), 2);
  t.equal(sum('records'), 1);
  t.equal(p.metrics.total('event_records_total', { exporter: '192.0.2.1', format: 'ipfix' }), 2);
  t.equal(p.metrics.total('records_total'), 1);
});
