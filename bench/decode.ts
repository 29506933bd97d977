// In-process throughput per format and core (records per CPU second): decode + classify + aggregate
// through the real Pipeline, next to npm's node-netflowv9 decoding the very same datagrams (decode only)
// in the same run, interleaved, and to our decoders alone (the like-for-like comparison). Two sets: the
// exporter captures in test/fixtures, and synthetic datagrams from bench/gen.ts (Zipf over 20,000 local
// hosts, 10 % IPv6, flows up to 60 s long and so spread over up to 7 intervals).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { Pipeline } from '../src/pipeline.js';
import { readUdpPackets } from '../src/ingest/pcap.js';
import { rssMB, type BenchRow } from './report.js';
import { datagrams, type GenFormat } from './gen.js';
import { DEFAULT_VIEWS, VIEW_DEFAULTS, type ViewSpec } from '../src/aggregate/views.js';

const FIX = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

interface Datagram { buf: Buffer; src: string; ts: number }

function load(file: string): Datagram[] {
  const out: Datagram[] = [];
  for (const p of readUdpPackets(FIX + file)) out.push({ buf: Buffer.from(p.payload), src: p.srcAddr, ts: p.tsMs });
  return out;
}

/** Synthetic datagrams: 4,000 of them (2 s of one exporter at 2,000 datagrams/s). */
function synthetic(format: GenFormat): Datagram[] {
  return datagrams(format, 4000, 1_800_000_000_000, {}, 2000).map((d) => ({ buf: d.buf, src: '192.0.2.1', ts: d.ts }));
}

/** One pass over the datagrams; returns the records it produced. */
type Pass = () => number;

function pipelinePass(dgrams: Datagram[], assign = 'spread', views?: ViewSpec[]): { pass: Pass; perDatagram: number } {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] }, aggregate: { hold: '10m', assign }, ...(views ? { views } : {}) } });
  const p = new Pipeline(cfg, { time: 'event' });
  for (const d of dgrams) p.onDatagram(d.buf, d.src, d.ts); // learn templates
  const perDatagram = p.metrics.total('records_total') / dgrams.length;
  return {
    perDatagram,
    pass: () => {
      const r0 = p.metrics.total('records_total');
      for (let i = 0; i < dgrams.length; i++) p.onDatagram(dgrams[i]!.buf, dgrams[i]!.src, dgrams[i]!.ts);
      return p.metrics.total('records_total') - r0;
    },
  };
}

/** Decode only, as node-netflowv9 does: the pipeline's dispatcher and decoders, records counted and dropped. */
function decodeOnlyPass(dgrams: Datagram[]): Pass {
  const p = new Pipeline(loadConfig({ argv: [], env: {}, overrides: {} }), { time: 'event' });
  for (const d of dgrams) p.onDatagram(d.buf, d.src, d.ts); // learn templates
  let n = 0;
  p.dispatcher.setHandler(() => { n++; });
  return () => {
    const n0 = n;
    for (let i = 0; i < dgrams.length; i++) p.dispatcher.handle(dgrams[i]!.buf, dgrams[i]!.src, dgrams[i]!.ts);
    return n - n0;
  };
}

function netflowv9Pass(dgrams: Datagram[]): { pass: Pass; close: () => void } {
  const require = createRequire(import.meta.url);
  const NetFlowV9 = require('node-netflowv9') as (o: object) => { nfPktDecode(b: Buffer, r: object): { flows?: unknown[] } | undefined; server: { close(): void } };
  const c = NetFlowV9({ cb: () => {} });
  const rinfo = { address: '127.0.0.1', port: 9995 };
  for (const d of dgrams) c.nfPktDecode(d.buf, rinfo); // learn templates
  return {
    close: () => c.server.close(),
    pass: () => {
      let n = 0;
      for (let i = 0; i < dgrams.length; i++) n += c.nfPktDecode(dgrams[i]!.buf, rinfo)?.flows?.length ?? 0;
      return n;
    },
  };
}

/**
 * Records per CPU second of each pass, measured in alternating slices (8 × 250 ms each) so both sides
 * of a comparison see the same machine: other load shifts absolute figures, much less their ratio.
 */
function rates(passes: Pass[], slices = 8, sliceMs = 250): number[] {
  const ops = passes.map(() => 0), cpu = passes.map(() => 0);
  for (const f of passes) f(); // warm-up
  for (let s = 0; s < slices; s++) {
    passes.forEach((f, i) => {
      const c0 = process.cpuUsage(), t0 = performance.now();
      do ops[i]! += f(); while (performance.now() - t0 < sliceMs);
      const c = process.cpuUsage(c0);
      cpu[i]! += (c.user + c.system) / 1e6;
    });
  }
  return ops.map((n, i) => n / cpu[i]!);
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const cases: [string, () => Datagram[], boolean][] = [
    ['netflow5 (softflowd)', () => load('softflowd-v5.pcap'), true],
    ['netflow9 (softflowd)', () => load('softflowd-v9.pcap'), true],
    ['netflow9 (pmacctd)', () => load('pmacctd-v9.pcap'), true],
    ['ipfix (pmacctd)', () => load('pmacctd-ipfix.pcap'), false],
    ['sflow5 (pmacctd)', () => load('pmacctd-sflow.pcap'), false],
    ['netflow5 (synthetic)', () => synthetic('netflow5'), true],
    ['netflow9 (synthetic)', () => synthetic('netflow9'), true],
    ['ipfix (synthetic)', () => synthetic('ipfix'), false],
    ['sflow5 (synthetic)', () => synthetic('sflow5'), false],
  ];
  for (const [name, get, baseline] of cases) {
    const dgrams = get();
    const ours = pipelinePass(dgrams), theirs = baseline ? netflowv9Pass(dgrams) : undefined;
    const [rps, base, decodeOnly] = rates(theirs ? [ours.pass, theirs.pass, decodeOnlyPass(dgrams)] : [ours.pass]);
    theirs?.close();
    const perDatagram = ours.perDatagram;
    if (baseline) rows.push({ name: `node-netflowv9 ${name}`, value: base!, unit: 'records/s', notes: 'decode only' });
    rows.push({
      name: `flowbridge ${name}`, value: rps, unit: 'records/s',
      baseline: baseline ? `node-netflowv9 ${name}` : undefined,
      notes: `decode+classify+aggregate, ${perDatagram.toFixed(1)} records/datagram, RSS ${rssMB()} MB`,
    });
    // like for like: what node-netflowv9 does, decoding alone
    if (baseline) rows.push({ name: `flowbridge ${name}, decode only`, value: decodeOnly!, unit: 'records/s', baseline: `node-netflowv9 ${name}`, notes: 'decode only' });
  }
  // what spreading costs: the same synthetic v5 with every record in the interval of its end
  const syn = synthetic('netflow5');
  const [spread, end] = rates([pipelinePass(syn).pass, pipelinePass(syn, 'end').pass]);
  rows.push({ name: 'flowbridge netflow5 (synthetic), again', value: spread!, unit: 'records/s', notes: 'measured beside the next row' });
  rows.push({ name: 'flowbridge netflow5 (synthetic), aggregate.assign=end', value: end!, unit: 'records/s',
    baseline: 'flowbridge netflow5 (synthetic), again', notes: 'no spreading: one interval per record' });
  rows.push(...viewCosts());
  return rows;
}

/**
 * What views cost (docs/performance.md): the softflowd v5 capture with no view, the default ones, and
 * the defaults plus one view of each other kind, in alternating slices; reported in ns per record.
 */
function viewCosts(): BenchRow[] {
  const dgrams = load('softflowd-v5.pcap');
  const view = (name: string, keys: ViewSpec['keys']): ViewSpec => ({ ...VIEW_DEFAULTS, name, keys });
  const sets: [string, ViewSpec[]][] = [
    ['views: []', []],
    ['default views', [...DEFAULT_VIEWS]],
    ['default + [remoteas]', [...DEFAULT_VIEWS, view('as', ['remoteas'])]],
    ['default + [localhost, remotehost]', [...DEFAULT_VIEWS, view('conversations', ['localhost', 'remotehost'])]],
    ['default + [protocol, serviceport]', [...DEFAULT_VIEWS, view('services', ['protocol', 'serviceport'])]],
  ];
  const rps = rates(sets.map(([, v]) => pipelinePass(dgrams, 'spread', v).pass));
  return sets.map(([name], i) => ({
    name: `flowbridge netflow5 (softflowd), ${name}`, value: 1e9 / rps[i]!, unit: 'ns/record',
    baseline: i === 0 ? undefined : 'flowbridge netflow5 (softflowd), views: []',
    notes: `${Math.round(rps[i]!).toLocaleString('en-US')} records/s`,
  }));
}
