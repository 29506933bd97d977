// In-process throughput per format: decode + classify + aggregate through the real Pipeline, next to
// npm's node-netflowv9 decoding the very same datagrams (decode only) in the same run.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { Pipeline } from '../src/pipeline.js';
import { readUdpPackets } from '../src/ingest/pcap.js';
import { rate, rssMB, type BenchRow } from './report.js';

const FIX = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

interface Datagram { buf: Buffer; src: string; ts: number }

function load(file: string): Datagram[] {
  const out: Datagram[] = [];
  for (const p of readUdpPackets(FIX + file)) out.push({ buf: Buffer.from(p.payload), src: p.srcAddr, ts: p.tsMs });
  return out;
}

function pipelineRate(dgrams: Datagram[]): { rps: number; perDatagram: number } {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] }, aggregate: { hold: '10m' } } });
  const p = new Pipeline(cfg, { mode: 'replay', sinks: [] });
  for (const d of dgrams) p.onDatagram(d.buf, d.src, d.ts); // learn templates
  const before = p.metrics.total('records_total');
  const perDatagram = before / dgrams.length;
  const rps = rate(() => {
    const r0 = p.metrics.total('records_total');
    for (let i = 0; i < dgrams.length; i++) p.onDatagram(dgrams[i]!.buf, dgrams[i]!.src, dgrams[i]!.ts);
    return p.metrics.total('records_total') - r0;
  });
  return { rps, perDatagram };
}

function netflowv9Rate(dgrams: Datagram[]): number {
  const require = createRequire(import.meta.url);
  const NetFlowV9 = require('node-netflowv9') as (o: object) => { nfPktDecode(b: Buffer, r: object): { flows?: unknown[] } | undefined; server: { close(): void } };
  const c = NetFlowV9({ cb: () => {} });
  try {
    const rinfo = { address: '127.0.0.1', port: 9995 };
    for (const d of dgrams) c.nfPktDecode(d.buf, rinfo);
    return rate(() => {
      let n = 0;
      for (let i = 0; i < dgrams.length; i++) n += c.nfPktDecode(dgrams[i]!.buf, rinfo)?.flows?.length ?? 0;
      return n;
    });
  } finally {
    c.server.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const cases: [string, string, boolean][] = [
    ['netflow5 (softflowd)', 'softflowd-v5.pcap', true],
    ['netflow9 (softflowd)', 'softflowd-v9.pcap', true],
    ['netflow9 (pmacctd)', 'pmacctd-v9.pcap', true],
    ['ipfix (pmacctd)', 'pmacctd-ipfix.pcap', false],
    ['sflow5 (pmacctd)', 'pmacctd-sflow.pcap', false],
  ];
  for (const [name, file, baseline] of cases) {
    const dgrams = load(file);
    if (baseline) rows.push({ name: `node-netflowv9 ${name}`, value: netflowv9Rate(dgrams), unit: 'records/s', notes: 'decode only' });
    const { rps, perDatagram } = pipelineRate(dgrams);
    rows.push({
      name: `flowbridge ${name}`, value: rps, unit: 'records/s',
      baseline: baseline ? `node-netflowv9 ${name}` : undefined,
      notes: `decode+classify+aggregate, ${perDatagram.toFixed(1)} records/datagram, RSS ${rssMB()} MB`,
    });
  }
  return rows;
}
