// RFC 5103 biflows: the reverse half (PEN 29305 elements) is a second record with the endpoints
// swapped; and the forward and reverse totals equal what tshark decodes from the same bytes.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { have } from '../helpers/process.js';
import { pcapBytes } from '../helpers/pcap-write.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { COMPILE_AFTER } from '../../src/decode/fixed.js';
import { IpVersion } from '../../src/flow/record.js';
import { Sink, cat, ip4, ipfix, set, tpl, u16, u32, u64, u8, type Field } from './nf-build.js';

const R = 29305; // RFC 5103 reverse PEN
const EXPORT_S = 1700000010;
const H = { exportTime: EXPORT_S, domain: 1 };

function setup() {
  const sink = new Sink();
  const templates = new TemplateCache({ now: () => 0, report: sink.report });
  const dec = new IpfixDecoder({ templates, sampling: new SamplingTable(), report: sink.report });
  return { sink, dec };
}

// src/dst, ports, ingress/egress, protocol, flags, times, counters both ways, reverse flags and times
const BI: Field[] = [[8, 4], [12, 4], [7, 2], [11, 2], [10, 4], [14, 4], [4, 1], [6, 1], [152, 8], [153, 8],
  [1, 8], [2, 4], [1, 8, R], [2, 4, R], [6, 1, R], [152, 8, R], [153, 8, R]];
function biRow(src: string, dst: string, sport: number, fwd: [number, number], rev: [number, number], i = 0): Buffer {
  const t0 = 1700000000000 + i;
  return cat(ip4(src), ip4(dst), u16(sport), u16(443), u32(3), u32(7), u8(6), u8(0x02), u64(t0), u64(t0 + 5000),
    u64(fwd[0]), u32(fwd[1]), u64(rev[0]), u32(rev[1]), u8(0x12), u64(t0 + 40), u64(t0 + 4900));
}

t.test('the reverse half is a second record: endpoints, ports, interfaces swapped, its own counters, flags, times', (t) => {
  const { sink, dec } = setup();
  const n = dec.decode(ipfix(H, set(2, tpl(300, BI)), set(300, cat(
    biRow('10.0.0.1', '192.0.2.9', 40000, [1200, 10], [90000, 70]),
    biRow('10.0.0.2', '192.0.2.9', 40001, [300, 3], [0, 0]), // a uniflow: no reverse record
  ))), 'x', 0, sink.emit);
  t.same(sink.errors, []);
  t.equal(n, 3);
  t.match(sink.records, [
    { src: '10.0.0.1', dst: '192.0.2.9', srcPort: 40000, dstPort: 443, inIf: 3, outIf: 7, bytes: 1200, packets: 10,
      tcpFlags: 0x02, startMs: 1700000000000, endMs: 1700000005000 },
    { src: '192.0.2.9', dst: '10.0.0.1', srcPort: 443, dstPort: 40000, inIf: 7, outIf: 3, bytes: 90000, packets: 70,
      tcpFlags: 0x12, protocol: 6, ipVersion: IpVersion.V4, startMs: 1700000000040, endMs: 1700000004900 },
    { src: '10.0.0.2', bytes: 300, packets: 3 },
  ]);
  t.end();
});

t.test('compiled fixed layout, variable-length layout and IPv6 read the reverse half alike', (t) => {
  const { sink, dec } = setup();
  const rows: Buffer[] = [];
  for (let i = 0; i <= COMPILE_AFTER + 2; i++) rows.push(biRow('10.0.0.1', '192.0.2.9', 40000 + i, [100, 1], [1000 + i, 2], i));
  dec.decode(ipfix(H, set(2, tpl(300, BI)), set(300, cat(...rows))), 'x', 0, sink.emit);
  t.equal(sink.records.length, 2 * rows.length);
  const last = sink.records.at(-1)!;
  t.match(last, { src: '192.0.2.9', srcPort: 443, dstPort: 40000 + COMPILE_AFTER + 2, bytes: 1000 + COMPILE_AFTER + 2, packets: 2 },
    'the compiled reader reads the reverse fields');

  // IPv6, reverse totals, a variable-length field (the checked reader), no reverse times: the flow's own
  const V6: Field[] = [[27, 16], [28, 16], [7, 2], [11, 2], [82, 65535], [150, 4], [151, 4], [85, 8], [86, 8], [85, 8, R], [86, 8, R]];
  const a6 = Buffer.from('20010db8000100000000000000000010', 'hex'), b6 = Buffer.from('20010db800ff00000000000000000020', 'hex');
  const row6 = cat(a6, b6, u16(5353), u16(53), u8(4), Buffer.from('eth0'), u32(1700000000), u32(1700000002), u64(80), u64(1), u64(400), u64(2));
  const s2 = setup();
  t.equal(s2.dec.decode(ipfix(H, set(2, tpl(301, V6)), set(301, row6)), 'x', 0, s2.sink.emit), 2);
  t.match(s2.sink.records, [
    { src: '2001:db8:1::10', dst: '2001:db8:ff::20', srcPort: 5353, dstPort: 53, bytes: 80, packets: 1 },
    { src: '2001:db8:ff::20', dst: '2001:db8:1::10', srcPort: 53, dstPort: 5353, bytes: 400, packets: 2,
      startMs: 1700000000000, endMs: 1700000002000 },
  ]);
  t.end();
});

t.test('YAF: reverseFlowDeltaMilliseconds (CERT PEN 6871) starts the reverse half', (t) => {
  const { sink, dec } = setup();
  const F: Field[] = [[8, 4], [12, 4], [152, 8], [153, 8], [85, 8], [86, 8], [85, 8, R], [86, 8, R], [21, 4, 6871]];
  const row = cat(ip4('10.0.0.1'), ip4('10.0.0.2'), u64(1700000000000), u64(1700000003000), u64(500), u64(5), u64(9000), u64(9), u32(250));
  dec.decode(ipfix(H, set(2, tpl(302, F)), set(302, row)), 'x', 0, sink.emit);
  t.match(sink.records[1], { src: '10.0.0.2', bytes: 9000, startMs: 1700000000250, endMs: 1700000003000 });
  t.end();
});

/** Forward and reverse [octets, packets] tshark decodes from the capture. */
function tsharkBiflow(file: string): { fwd: [number, number]; rev: [number, number] } {
  const xml = execFileSync('tshark', ['-r', file, '-d', 'udp.port==2055,cflow', '-T', 'pdml'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  const fwd: [number, number] = [0, 0], rev: [number, number] = [0, 0];
  for (const m of xml.matchAll(/<field name="cflow\.(octets|packets)" showname="([^"]*)"[^>]* show="(\d+)"/g)) {
    const side = m[2]!.includes('(Reverse') ? rev : fwd;
    side[m[1] === 'octets' ? 0 : 1] += Number(m[3]);
  }
  return { fwd, rev };
}

const haveTshark = have('tshark');

t.test('forward and reverse totals equal tshark\'s decoding of the same datagrams', { skip: haveTshark ? false : 'tshark is not installed (Debian package tshark)' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-biflow-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const datagrams: Buffer[] = [ipfix(H, set(2, tpl(300, BI)))];
  for (let d = 0; d < 20; d++) {
    const rows: Buffer[] = [];
    for (let i = 0; i < 8; i++) {
      const k = d * 8 + i;
      rows.push(biRow(`10.0.${d}.${i + 1}`, '192.0.2.9', 40000 + k, [100 + k * 7, 1 + (k % 5)], k % 4 === 0 ? [0, 0] : [5000 + k * 131, 4 + (k % 9)], k));
    }
    datagrams.push(ipfix({ ...H, seq: d * 8 }, set(300, cat(...rows))));
  }
  const file = join(dir, 'biflow.pcap');
  writeFileSync(file, pcapBytes(datagrams.map((payload) => ({ tsMs: EXPORT_S * 1000, payload }))));
  const { sink, dec } = setup();
  for (const d of datagrams) dec.decode(d, '192.0.2.1', 0, sink.emit);
  const fwd: [number, number] = [0, 0], rev: [number, number] = [0, 0];
  for (const r of sink.records) {
    const side = r.srcPort === 443 ? rev : fwd;
    side[0] += r.bytes;
    side[1] += r.packets;
  }
  const want = tsharkBiflow(file);
  t.ok(want.rev[0] > want.fwd[0], `tshark sees reverse octets (${want.rev[0]}) beyond forward ones (${want.fwd[0]})`);
  t.same({ fwd, rev }, want, `flowbridge forward ${fwd.join('/')} and reverse ${rev.join('/')} bytes/packets as tshark`);
  t.end();
});
