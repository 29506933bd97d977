// Views keyed by ifIndex, AS and VLAN against tshark's decoding of the same bytes. The exporters'
// captures in test/fixtures carry none of these (pmacctd and softflowd send ifIndex 0, no AS, no VLAN
// field; pmacctd's sFlow says 0x3fffffff, "no interface"), so test/fixtures/views-fields.pcap
// (make-views-fields.py) holds four exporters that do: NetFlow v9 with an exporter-wide rate from
// options data and in-record rates, IPFIX with 4-byte AS numbers, NetFlow v5 sampled 1 in 20 in its
// header, and sFlow at per-sample rates with 802.1Q-tagged headers and extended switch and gateway
// records. tshark -T fields decodes each flow record (exporter, ifIndexes, AS numbers, VLAN, bytes,
// packets, rate) and the test renormalizes by the rate as the collector does (src/flow/normalize.ts);
// the replay's views must equal those totals per key (interval by interval, and summed), and in every
// summary Σ rows + viewsOther of every view must equal the summary's direction totals less the traffic
// that lacks the view's keys: an ifIndex or AS of 0 is "not sent"; a VLAN of 0 is "untagged", a value
// of the vlan key like any other (docs/alerts.md: vlan is always present). pmacctd's sFlow capture, the
// one real export carrying a VLAN, is checked the same way.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { BlockList, isIPv6 } from 'node:net';
import { loadConfig } from '../src/config/load.js';
import { replay } from '../src/ingest/replay.js';
import type { IntervalSummary } from '../src/aggregate/summary.js';
import { silentLogger } from '../src/lib/log.js';
import { have } from './helpers/process.js';
import { addTo, ALL, directionCounts, otherTotal, viewSums, viewTotals, zero, type Totals } from './helpers/view-sums.js';

const CAPTURE = new URL('./fixtures/views-fields.pcap', import.meta.url).pathname;
const HOME = ['10.1.0.0/16', '2001:db8:1::/48'];
/** far more than the capture's tuples: nothing falls into viewsOther */
const TOP = 1000;
const INTERVAL_S = 10;
const DIRECTIONS = ['in', 'out', 'internal', 'external'] as const;
type Dir = (typeof DIRECTIONS)[number];

const noTshark = have('tshark') ? false : 'tshark is not installed (Debian package tshark)';

// ---- tshark's flow records ----------------------------------------------------------------------

/** One flow record as tshark decodes it; bytes, packets and flows renormalized by its rate. */
interface Rec {
  exporter: string;
  /** start of the interval its datagram arrived in (epoch s): every record of the capture lies in it */
  interval: number;
  dir: Dir;
  inIf: number;
  outIf: number;
  srcAs: number;
  dstAs: number;
  vlan: number;
  rate: number;
  t: Totals;
}

const home = new BlockList();
for (const p of HOME) {
  const [a, len] = p.split('/') as [string, string];
  home.addSubnet(a, Number(len), isIPv6(a) ? 'ipv6' : 'ipv4');
}
const inside = (a: string) => home.check(a, isIPv6(a) ? 'ipv6' : 'ipv4');
function direction(src: string, dst: string): Dir {
  const s = inside(src), d = inside(dst);
  return s && d ? 'internal' : s ? 'out' : d ? 'in' : 'external';
}

/** tshark -T fields of the frames matching `filter`: per frame, per field, the list of its occurrences. */
function fields(file: string, filter: string, names: string[], decodeAs: string[] = []): Record<string, string[]>[] {
  const out = execFileSync('tshark', ['-n', '-r', file, ...decodeAs, '-Y', filter, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a',
    '-E', 'aggregator=;', ...names.flatMap((n) => ['-e', n])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 << 20 });
  return out.split('\n').filter((l) => l !== '').map((line) => {
    const cols = line.split('\t');
    return Object.fromEntries(names.map((n, i) => [n, cols[i] ? cols[i]!.split(';') : []]));
  });
}

const num = (v: string | undefined): number => (v === undefined || v === '' ? 0 : Number(v));
const intervalOf = (epoch: string): number => {
  const s = Number(epoch.split('.')[0]);
  return s - (s % INTERVAL_S);
};

/** Per record of a frame: the field's values; absent from the frame's layout = zeros; any other count is a misread. */
function perRecord(f: Record<string, string[]>, name: string, n: number): number[] {
  const v = f[name]!;
  if (v.length === 0) return new Array<number>(n).fill(0);
  if (v.length !== n) throw new Error(`frame ${f['frame.number']![0]}: ${v.length} ${name} for ${n} records`);
  return v.map(num);
}
function perRecordText(f: Record<string, string[]>, name: string, n: number): string[] {
  const v = f[name]!;
  if (v.length !== n) throw new Error(`frame ${f['frame.number']![0]}: ${v.length} ${name} for ${n} records`);
  return v;
}

const scaled = (bytes: number, packets: number, rate: number): Totals => ({ bytes: bytes * rate, packets: packets * rate, flows: rate });

/** NetFlow v5, v9 and IPFIX records. v9/IPFIX options data (no octets) give the exporter-wide rate. */
function cflowRecords(file: string): Rec[] {
  const frames = fields(file, 'cflow', ['frame.number', 'frame.time_epoch', 'ip.src', 'cflow.version', 'cflow.source_id', 'cflow.samplerate',
    'cflow.sampling_interval', 'cflow.srcaddr', 'cflow.dstaddr', 'cflow.srcaddrv6', 'cflow.dstaddrv6', 'cflow.inputint',
    'cflow.outputint', 'cflow.srcas', 'cflow.dstas', 'cflow.vlanid', 'cflow.dot1q_vlan_id', 'cflow.post_vlanid', 'cflow.octets',
    'cflow.packets']);
  const exporterRate = new Map<string, number>();
  const out: Rec[] = [];
  for (const f of frames) {
    const exporter = f['ip.src']![0]!, version = num(f['cflow.version']![0]);
    const scope = `${exporter}|${version}|${num(f['cflow.source_id']![0])}`;
    const n = f['cflow.octets']!.length;
    if (n === 0) {
      // options data: samplingInterval for the whole exporter+domain
      for (const r of f['cflow.sampling_interval']!) if (num(r) > 0) exporterRate.set(scope, num(r));
      continue;
    }
    // one template per datagram (make-views-fields.py): IPv4 or IPv6 addresses for all its records
    const v6 = f['cflow.srcaddrv6']!.length > 0;
    const src = perRecordText(f, v6 ? 'cflow.srcaddrv6' : 'cflow.srcaddr', n), dst = perRecordText(f, v6 ? 'cflow.dstaddrv6' : 'cflow.dstaddr', n);
    const inIf = perRecord(f, 'cflow.inputint', n), outIf = perRecord(f, 'cflow.outputint', n);
    const srcAs = perRecord(f, 'cflow.srcas', n), dstAs = perRecord(f, 'cflow.dstas', n);
    // vlanId and dot1qVlanId; postVlanId only where neither is set
    const vlan = perRecord(f, 'cflow.vlanid', n), dot1q = perRecord(f, 'cflow.dot1q_vlan_id', n), post = perRecord(f, 'cflow.post_vlanid', n);
    const own = perRecord(f, 'cflow.sampling_interval', n);
    const octets = perRecord(f, 'cflow.octets', n), packets = perRecord(f, 'cflow.packets', n);
    for (let i = 0; i < n; i++) {
      // v5: the header's interval; v9/IPFIX: the record's own, else the exporter's options data; else unsampled
      const rate = version === 5 ? num(f['cflow.samplerate']![0]) || 1 : own[i]! || exporterRate.get(scope) || 1;
      out.push({
        exporter, interval: intervalOf(f['frame.time_epoch']![0]!), dir: direction(src[i]!, dst[i]!),
        inIf: inIf[i]!, outIf: outIf[i]!, srcAs: srcAs[i]!, dstAs: dstAs[i]!, vlan: (vlan[i]! || dot1q[i]! || post[i]!) & 0xfff,
        rate, t: scaled(octets[i]!, packets[i]!, rate),
      });
    }
  }
  return out;
}

/** Addresses, IP-layer length and first 802.1Q tag of a sampled Ethernet header (tshark's bytes of it). */
function sampledPacket(hex: string): { src: string; dst: string; len: number; tag: number } {
  const b = Buffer.from(hex.replace(/:/g, ''), 'hex');
  let at = 14, type = b.readUInt16BE(12), tag = 0;
  while (type === 0x8100 || type === 0x88a8) {
    if (tag === 0) tag = b.readUInt16BE(at) & 0xfff;
    type = b.readUInt16BE(at + 2);
    at += 4;
  }
  if (type === 0x0800) {
    return { src: [...b.subarray(at + 12, at + 16)].join('.'), dst: [...b.subarray(at + 16, at + 20)].join('.'), len: b.readUInt16BE(at + 2), tag };
  }
  if (type === 0x86dd) {
    const v6 = (o: number) => b.subarray(o, o + 16).toString('hex').replace(/(.{4})(?!$)/g, '$1:');
    return { src: v6(at + 8), dst: v6(at + 24), len: b.readUInt16BE(at + 4) + 40, tag };
  }
  throw new Error(`a sampled header of ethertype ${type.toString(16)}`);
}

/**
 * sFlow flow samples: one sampled packet each, its IP length times the sample's rate. tshark gives
 * each sample's fields and header bytes; the header's IP length and tag are read here (its own
 * decoding of the header cannot be told apart per sample: an ICMP error quotes a second IP header).
 */
function sflowRecords(file: string, filter: string, decodeAs: string[] = []): Rec[] {
  const frames = fields(file, filter, ['frame.number', 'frame.time_epoch', 'sflow_245.agent', 'sflow_245.sampletype',
    'sflow.flow_sample.sampling_rate', 'sflow.flow_sample.input_interface', 'sflow.flow_sample.input_interface_format',
    'sflow.flow_sample.input_interface_value', 'sflow.flow_sample.output_interface_format', 'sflow.flow_sample.output_interface.format',
    'sflow.flow_sample.output_interface_value', 'sflow_245.header_protocol', 'sflow_245.header', 'vlan.id', 'sflow_245.vlan.in',
    'sflow_245.srcAS', 'sflow_245.as', 'sflow_245.dstAS'], decodeAs);
  const out: Rec[] = [];
  for (const f of frames) {
    const rates = f['sflow.flow_sample.sampling_rate']!.map(num), n = rates.length;
    // a flow sample (0:1) packs an interface's format in its top 2 bits; an expanded one (0:3) gives two words
    const types = new Set(f['sflow_245.sampletype']);
    if (types.size !== 1) throw new Error(`frame ${f['frame.number']![0]}: sample types ${[...types].join()}`);
    const expanded = types.has('3');
    const compactIn = expanded ? [] : perRecord(f, 'sflow.flow_sample.input_interface', n);
    const inFormat = expanded ? perRecord(f, 'sflow.flow_sample.input_interface_format', n) : compactIn.map((v) => v >>> 30);
    const inValue = expanded ? perRecord(f, 'sflow.flow_sample.input_interface_value', n) : compactIn.map((v) => v & 0x3fffffff);
    const outFormat = perRecord(f, expanded ? 'sflow.flow_sample.output_interface.format' : 'sflow.flow_sample.output_interface_format', n);
    const outValue = perRecord(f, 'sflow.flow_sample.output_interface_value', n);
    if (perRecord(f, 'sflow_245.header_protocol', n).some((p) => p !== 1)) throw new Error(`frame ${f['frame.number']![0]}: not Ethernet`);
    const packets = perRecordText(f, 'sflow_245.header', n).map(sampledPacket);
    // tshark's decoding of the headers has the same 802.1Q tags
    const tags = (a: number[]) => a.filter((v) => v > 0).sort((x, y) => x - y).join();
    if (tags(packets.map((p) => p.tag)) !== tags(f['vlan.id']!.map(num))) throw new Error(`frame ${f['frame.number']![0]}: tags differ from tshark's`);
    const switchVlan = perRecord(f, 'sflow_245.vlan.in', n);
    const srcAs = perRecord(f, 'sflow_245.srcAS', n), own = perRecord(f, 'sflow_245.as', n);
    // the destination AS path: its last AS, else the router's own AS (make-views-fields.py puts one path length in a datagram)
    const path = f['sflow_245.dstAS']!.map(num);
    if (path.length % n !== 0) throw new Error(`frame ${f['frame.number']![0]}: ${path.length} path ASes for ${n} samples`);
    const per = path.length / n;
    for (let i = 0; i < n; i++) {
      const rate = rates[i]!, p = packets[i]!;
      // format 0 is an ifIndex; 0x3fffffff is "unknown" (input) or the agent itself (output): no interface
      const iface = (v: number, format: number) => (format === 0 && v !== 0x3fffffff ? v : 0);
      out.push({
        exporter: f['sflow_245.agent']![0]!, interval: intervalOf(f['frame.time_epoch']![0]!), dir: direction(p.src, p.dst),
        inIf: iface(inValue[i]!, inFormat[i]!), outIf: iface(outValue[i]!, outFormat[i]!),
        srcAs: srcAs[i]!, dstAs: per > 0 ? path[i * per + per - 1]! : own[i]!,
        // the sampled header's 802.1Q tag, else the extended switch record's incoming VLAN
        vlan: p.tag || (switchVlan[i]! <= 4095 ? switchVlan[i]! : 0), rate, t: scaled(p.len, 1, rate),
      });
    }
  }
  return out;
}

// ---- the views and what each record adds to them ------------------------------------------------

interface ViewCase {
  name: string;
  keys: string[];
  per: 'direction' | 'none';
  /** the row's key as the label tshark's side uses */
  label: (key: Record<string, string | number>) => string;
  /** [label, direction label] of each row the record adds to: none when it lacks a key */
  rows: (r: Rec) => [string, string][];
  /** tuples listed per direction: TOP lists them all */
  top: number;
}

const byDir = (per: 'direction' | 'none', r: Rec) => (per === 'none' ? ALL : r.dir);
/** A view of one numeric key (beside the exporter); 0 = not sent, unless `always` (vlan: 0 = untagged, docs/alerts.md). */
function simple(name: string, keys: string[], per: 'direction' | 'none', value: (r: Rec) => number, always = false): ViewCase {
  return {
    name, keys, per,
    label: (k) => keys.map((n) => String(k[n])).join('|'),
    rows: (r) => (always || value(r) > 0 ? [[[...(keys.includes('exporter') ? [r.exporter] : []), String(value(r))].join('|'), byDir(per, r)]] : []),
    top: TOP,
  };
}
function iface(name: string, per: 'direction' | 'none'): ViewCase {
  return {
    name, keys: ['exporter', 'interface'], per,
    label: (k) => `${k.exporter}|${k.interface}`,
    // the input interface received the record (in), the output one sent it (out)
    rows: (r) => [
      ...(r.inIf > 0 ? [[`${r.exporter}|${r.inIf}`, per === 'none' ? ALL : 'in'] as [string, string]] : []),
      ...(r.outIf > 0 ? [[`${r.exporter}|${r.outIf}`, per === 'none' ? ALL : 'out'] as [string, string]] : []),
    ],
    top: TOP,
  };
}

const VIEWS: ViewCase[] = [
  simple('inputifindex', ['exporter', 'inputifindex'], 'none', (r) => r.inIf),
  simple('outputifindex', ['exporter', 'outputifindex'], 'none', (r) => r.outIf),
  iface('interfaces', 'direction'),
  simple('srcas', ['srcas'], 'none', (r) => r.srcAs),
  simple('dstas', ['dstas'], 'none', (r) => r.dstAs),
  simple('vlan', ['vlan'], 'none', (r) => r.vlan, true),
  // the same keys per direction, and the interface view per none (each record on both its interfaces)
  simple('inputifindex.dir', ['exporter', 'inputifindex'], 'direction', (r) => r.inIf),
  simple('outputifindex.dir', ['exporter', 'outputifindex'], 'direction', (r) => r.outIf),
  iface('interfaces.all', 'none'),
  simple('srcas.dir', ['srcas'], 'direction', (r) => r.srcAs),
  simple('dstas.dir', ['dstas'], 'direction', (r) => r.dstAs),
  simple('vlan.dir', ['vlan'], 'direction', (r) => r.vlan, true),
  // a few tuples listed, the rest in viewsOther
  { ...iface('interfaces.top3', 'direction'), top: 3 },
  { ...simple('srcas.top2', ['srcas'], 'none', (r) => r.srcAs), top: 2 },
  { ...simple('vlan.dir.top1', ['vlan'], 'direction', (r) => r.vlan, true), top: 1 },
];
const FULL = VIEWS.filter((v) => v.top === TOP);

function expectedTotals(recs: Rec[], v: ViewCase): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const r of recs) {
    for (const [label, d] of v.rows(r)) {
      const k = `${label}|${d}`;
      let e = out.get(k);
      if (e === undefined) out.set(k, (e = zero()));
      addTo(e, r.t);
    }
  }
  return out;
}

const asObject = (m: Map<string, Totals>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

async function run(capture: string): Promise<IntervalSummary[]> {
  const cfg = loadConfig({ argv: [], env: {}, overrides: {
    networks: { home: HOME },
    views: VIEWS.map((v) => ({ name: v.name, keys: v.keys, top: v.top, per: v.per })),
  } });
  const out: IntervalSummary[] = [];
  await replay([capture], cfg, { log: silentLogger, onSummary: (s) => out.push(s), progress: false });
  return out;
}

// ---- the checks ---------------------------------------------------------------------------------

/**
 * Per summary, view and direction, the rows are tshark's tuples of that interval: all of them with
 * their totals; for a view with a small top, the `top` largest by bytes, with their totals.
 */
function checkRows(t: Test, summaries: IntervalSummary[], recs: Rec[]): number {
  const bad: string[] = [];
  let rows = 0, unlisted = 0;
  for (const s of summaries) {
    const mine = recs.filter((r) => r.interval === s.start);
    for (const v of VIEWS) {
      const want = expectedTotals(mine, v);
      const listed = new Map<string, Totals>();
      for (const r of s.views![v.name]!) listed.set(`${v.label(r.key)}|${r.direction ?? ALL}`, { bytes: r.bytes, packets: r.packets, flows: r.flows });
      rows += listed.size;
      const dirs = new Set([...want.keys()].map((k) => k.slice(k.lastIndexOf('|') + 1)));
      for (const d of dirs) {
        const all = [...want].filter(([k]) => k.endsWith(`|${d}`)).sort(([, a], [, b]) => b.bytes - a.bytes);
        const shown = [...listed].filter(([k]) => k.endsWith(`|${d}`));
        unlisted += all.length - shown.length;
        if (shown.length !== Math.min(v.top, all.length)) bad.push(`${s.start} ${v.name} ${d}: ${shown.length} rows of ${all.length} tuples, top ${v.top}`);
        for (const [k, tot] of shown) if (!same(tot, want.get(k) ?? zero())) bad.push(`${s.start} ${v.name} ${k}: ${JSON.stringify(tot)} != ${JSON.stringify(want.get(k))}`);
        // the listed ones are the largest: none has fewer bytes than the largest left out
        const next = all[shown.length]?.[1].bytes ?? -1;
        if (shown.some(([, x]) => x.bytes < next)) bad.push(`${s.start} ${v.name} ${d}: not the top ${v.top} by bytes`);
      }
      for (const k of listed.keys()) if (!want.has(k)) bad.push(`${s.start} ${v.name}: row ${k} tshark does not have`);
    }
  }
  t.same(bad, [], `every interval's rows are tshark's tuples of the interval: ${rows} rows, ${unlisted} tuples past a small top`);
  return unlisted;
}

const same = (a: Totals, b: Totals) => a.bytes === b.bytes && a.packets === b.packets && a.flows === b.flows;

/**
 * In every summary, for every view: Σ rows + viewsOther = the summary's directions less the traffic of
 * that interval lacking the view's keys (tshark's records): per direction, or all directions together
 * for per: none; for the interface key, in = the records with an input ifIndex, out = those with an
 * output ifIndex (the directions less the records without one), each record twice per: none.
 */
function checkSums(t: Test, summaries: IntervalSummary[], recs: Rec[]): void {
  const bad: string[] = [];
  let checked = 0;
  for (const s of summaries) {
    const dirs = directionCounts(s), mine = recs.filter((r) => r.interval === s.start);
    const all = DIRECTIONS.reduce((a, d) => addTo(a, dirs[d]!), zero());
    for (const v of VIEWS) {
      const got = viewSums(s, v.name);
      const isIface = v.keys.includes('interface');
      const labels = v.per === 'none' ? [ALL] : isIface ? ['in', 'out'] : [...DIRECTIONS];
      if (Object.keys(got).sort().join() !== [...labels].sort().join()) bad.push(`${s.start} ${v.name}: labels ${Object.keys(got).join()}`);
      for (const label of labels) {
        // what the directions hold, and what of it lacks the view's keys
        const sides = isIface ? (label === ALL ? ['in', 'out'] : [label]) : [label];
        const want = zero();
        for (const side of sides) {
          addTo(want, isIface || label === ALL ? all : dirs[label]!);
          for (const r of mine) {
            if (!isIface && label !== ALL && r.dir !== label) continue;
            const has = isIface ? (side === 'in' ? r.inIf > 0 : r.outIf > 0) : v.rows(r).length > 0;
            if (!has) { want.bytes -= r.t.bytes; want.packets -= r.t.packets; want.flows -= r.t.flows; }
          }
        }
        checked++;
        if (!same(got[label] ?? zero(), want)) bad.push(`${s.start} ${v.name} ${label}: ${JSON.stringify(got[label])} != ${JSON.stringify(want)}`);
      }
    }
  }
  t.same(bad, [], `Σ rows + viewsOther = directions less the traffic without the keys: ${checked} (summary, view, direction) sums`);
}

/** Every check of a run against tshark's records of the same capture; returns the tuples past a small top. */
function checkRun(t: Test, summaries: IntervalSummary[], recs: Rec[]): number {
  t.ok(summaries.length > 0 && summaries.every((s) => s.interval === INTERVAL_S), `${summaries.length} summaries of 10 s`);
  // the directions are tshark's, interval by interval: what the sums below subtract from is right
  const dirBad: string[] = [];
  for (const s of summaries) {
    for (const d of DIRECTIONS) {
      const want = recs.filter((r) => r.interval === s.start && r.dir === d).reduce((a, r) => addTo(a, r.t), zero());
      if (!same(directionCounts(s)[d]!, want)) dirBad.push(`${s.start} ${d}`);
    }
  }
  t.same(dirBad, [], 'every summary\'s directions equal tshark\'s records of that interval, renormalized');
  t.equal(summaries.reduce((a, s) => a + s.stats.collector.records!, 0), recs.length, `${recs.length} records decoded, as many as tshark's`);
  for (const v of FULL) {
    const got = viewTotals(summaries, v.name, v.label), want = expectedTotals(recs, v);
    t.same(otherTotal(summaries, v.name), zero(), `${v.name}: every tuple listed (top ${TOP})`);
    t.same(asObject(got), asObject(want), `${v.name}: totals per key equal tshark's (${want.size} tuples)`);
    const sum = [...want.values()].reduce((a, x) => addTo(a, x), zero());
    t.comment(`${v.name} [${v.keys.join(', ')}] per ${v.per}: ${want.size} tuples, ${sum.bytes} bytes, ${sum.packets} packets, ${sum.flows} flows`);
  }
  const unlisted = checkRows(t, summaries, recs);
  checkSums(t, summaries, recs);
  const total = recs.reduce((a, r) => addTo(a, r.t), zero());
  t.comment(`${recs.length} records, ${total.bytes} bytes, ${total.packets} packets, ${total.flows} flows after renormalization`);
  return unlisted;
}

t.test('views-fields.pcap: views by ifIndex, interface, AS and VLAN equal tshark\'s totals', { skip: noTshark }, async (t) => {
  const recs = [...cflowRecords(CAPTURE), ...sflowRecords(CAPTURE, 'sflow')];
  // the capture is what it should be: every exporter, every rate path, every key both present and absent
  const exporters = [...new Set(recs.map((r) => r.exporter))].sort();
  t.same(exporters, ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.40'], 'four exporters (the sFlow one by its agent address)');
  t.same([...new Set(recs.map((r) => r.rate))].sort((a, b) => a - b), [1, 4, 10, 20, 50, 64, 256], 'rates: in-record, options data, v5 header, sFlow');
  for (const k of ['inIf', 'outIf', 'srcAs', 'dstAs', 'vlan'] as const) {
    const n = recs.filter((r) => r[k] > 0).length;
    t.ok(n > 0 && n < recs.length, `${k}: ${n} of ${recs.length} records carry one (not 0)`);
  }
  t.ok(recs.some((r) => r.srcAs > 2 ** 31) && recs.some((r) => r.inIf > 2 ** 31) && recs.some((r) => r.outIf > 2 ** 31), 'unsigned 32-bit AS numbers and ifIndexes');
  const unlisted = checkRun(t, await run(CAPTURE), recs);
  t.ok(unlisted > 0, 'the small tops leave tuples to viewsOther');
});

// A real exporter's sFlow: pmacctd tags the 802.1Q frames of the capture with VLAN 100 (header and
// extended switch record) and gives every sample the interfaces 0x3fffffff, "none".
t.test('pmacctd-sflow.pcap: the VLAN view equals tshark\'s; no interface, no AS', { skip: noTshark }, async (t) => {
  const file = new URL('./fixtures/pmacctd-sflow.pcap', import.meta.url).pathname;
  const recs = sflowRecords(file, 'udp.dstport==9922', ['-d', 'udp.port==9922,sflow']);
  t.same([...new Set(recs.map((r) => r.vlan))].sort((a, b) => a - b), [0, 100], 'VLAN 100 and untagged');
  t.ok(recs.every((r) => r.inIf === 0 && r.outIf === 0 && r.srcAs === 0 && r.dstAs === 0), 'no ifIndex, no AS');
  const summaries = await run(file);
  checkRun(t, summaries, recs);
  for (const v of VIEWS.filter((x) => !x.keys.includes('vlan'))) {
    t.equal(summaries.reduce((a, s) => a + s.views![v.name]!.length, 0), 0, `${v.name}: no rows`);
  }
});
