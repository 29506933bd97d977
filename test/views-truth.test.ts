// The `remotehost` view against ground truth: pmacctd's NetFlow v9, IPFIX and sFlow exports of the
// synthetic capture (test/fixtures/README.md) are replayed with `views: [{ name: remotehosts, keys:
// [remotehost] }]`, and the per-remote-host totals summed over the intervals must equal
// test/fixtures/traffic.remotehosts.json, counted by tshark from the packets themselves
// (make-remotehosts-truth.py). In every summary, Σ rows + viewsOther must equal directions.in and
// directions.out exactly, and be 0 for internal and external traffic, which has no remote host.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { BlockList, isIPv6 } from 'node:net';
import { loadConfig } from '../src/config/load.js';
import { replay } from '../src/ingest/replay.js';
import type { IntervalSummary } from '../src/aggregate/summary.js';
import { silentLogger } from '../src/lib/log.js';
import { truth } from './helpers/truth.js';
import { directionCounts, otherTotal, viewSums, viewTotals, zero, type Totals } from './helpers/view-sums.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;
/** top: far more tuples than the capture's 29 remote hosts, so none falls into viewsOther */
const TOP = 1000;

type Row = [number, number, number, number];
interface RemoteTruth {
  packets: number;
  by_direction: Record<string, [number, number]>;
  remote_hosts: number;
  by_remote_host: Record<string, Row>;
}
const file = JSON.parse(readFileSync(`${FIX}traffic.remotehosts.json`, 'utf8')) as
  { home: string[]; traffic: RemoteTruth; 'pmacctd-sflow': RemoteTruth & { sampling_rates: number[] } };
const sflowExpected = JSON.parse(readFileSync(`${FIX}pmacctd-sflow.expected.json`, 'utf8')) as
  { samples: number; by_direction: Record<string, [number, number]> };

async function run(capture: string, top = TOP, aggregate: Record<string, unknown> = {}): Promise<IntervalSummary[]> {
  const cfg = loadConfig({ argv: [], env: {}, overrides: {
    networks: { home: file.home },
    views: [{ name: 'remotehosts', keys: ['remotehost'], top }],
    aggregate,
  } });
  const out: IntervalSummary[] = [];
  await replay([`${FIX}${capture}`], cfg, { log: silentLogger, onSummary: (s) => out.push(s), progress: false });
  return out;
}

/** {remote host: [in bytes, in packets, out bytes, out packets]} of the view, summed over the summaries. */
function remoteHosts(summaries: IntervalSummary[]): Record<string, Row> {
  const out: Record<string, Row> = {};
  for (const [k, v] of viewTotals(summaries, 'remotehosts', (key) => String(key.remotehost))) {
    const [host, dir] = k.split('|') as [string, string];
    const e = (out[host] ??= [0, 0, 0, 0]);
    if (dir !== 'in' && dir !== 'out') throw new Error(`remotehosts row of direction ${dir}`);
    const o = dir === 'in' ? 0 : 2;
    e[o] += v.bytes;
    e[o + 1] += v.packets;
  }
  return out;
}

const sorted = (o: Record<string, Row>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

/** Σ rows + viewsOther = directions.in and .out in every summary; 0 for internal and external. */
function checkSums(t: Test, summaries: IntervalSummary[]): void {
  const bad: string[] = [];
  for (const s of summaries) {
    const got = viewSums(s, 'remotehosts'), dirs = directionCounts(s);
    for (const d of ['in', 'out', 'internal', 'external']) {
      const want = d === 'in' || d === 'out' ? dirs[d]! : zero();
      const have: Totals = got[d] ?? zero();
      if (have.bytes !== want.bytes || have.packets !== want.packets || have.flows !== want.flows) {
        bad.push(`${s.start} ${d}: ${JSON.stringify(have)} != ${JSON.stringify(want)}`);
      }
    }
    // a remote host exists for in and out traffic only: the view reports those two
    if (Object.keys(got).sort().join() !== 'in,out') bad.push(`${s.start}: viewsOther labels ${Object.keys(got).join()}`);
  }
  t.same(bad, [], `Σ rows + viewsOther = directions.in / .out (internal, external: 0) in each of ${summaries.length} summaries`);
}

t.test('the truth file: two independent counts of the capture agree', (t) => {
  const tr = file.traffic;
  t.same(file.home, truth.home, 'the home networks of traffic.truth.json');
  t.equal(tr.packets, truth.packets);
  t.same(tr.by_direction, Object.fromEntries(Object.entries(truth.by_direction).sort()), 'directions equal traffic.truth.json');
  // the generator's own per-flow figures (scapy), classified by the same home networks
  const home = new BlockList();
  for (const p of truth.home) {
    const [a, len] = p.split('/') as [string, string];
    home.addSubnet(a, Number(len), isIPv6(a) ? 'ipv6' : 'ipv4');
  }
  const inside = (a: string) => home.check(a, isIPv6(a) ? 'ipv6' : 'ipv4');
  const fromFlows: Record<string, Row> = {};
  for (const [k, [bytes, packets]] of Object.entries(truth.flows)) {
    const [src, dst] = k.split('|') as [string, string];
    const s = inside(src), d = inside(dst);
    if (s === d) continue; // internal or transit: no remote host
    const e = (fromFlows[s ? dst : src] ??= [0, 0, 0, 0]);
    const o = s ? 2 : 0;
    e[o] += bytes;
    e[o + 1] += packets;
  }
  t.same(sorted(fromFlows), sorted(tr.by_remote_host), 'per remote host: tshark\'s count of the packets = the generator\'s flows');
  t.equal(Object.keys(tr.by_remote_host).length, tr.remote_hosts);
  const sum = (i: number) => Object.values(tr.by_remote_host).reduce((a, r) => a + r[i]!, 0);
  t.same([sum(0), sum(1)], truth.by_direction.in, 'Σ in over remote hosts = direction in');
  t.same([sum(2), sum(3)], truth.by_direction.out, 'Σ out over remote hosts = direction out');
  // sFlow: the 6 DNS packets pmacctd's sfprobe missed are the only difference, all of the DNS server
  const sf = file['pmacctd-sflow'];
  t.same(sf.sampling_rates, [1], 'pmacctd sampled every packet: the sFlow figures can be exact');
  t.equal(sf.packets, sflowExpected.samples);
  t.same(sf.by_direction, Object.fromEntries(Object.entries(sflowExpected.by_direction).sort()), 'directions equal pmacctd-sflow.expected.json');
  const diff: Record<string, Row> = {};
  for (const h of new Set([...Object.keys(tr.by_remote_host), ...Object.keys(sf.by_remote_host)])) {
    const a = tr.by_remote_host[h] ?? [0, 0, 0, 0], b = sf.by_remote_host[h] ?? [0, 0, 0, 0];
    if (a.some((v, i) => v !== b[i])) diff[h] = a.map((v, i) => v - b[i]!) as Row;
  }
  const missed = (d: string) => [truth.by_direction[d]![0] - sflowExpected.by_direction[d]![0], truth.by_direction[d]![1] - sflowExpected.by_direction[d]![1]];
  t.same(diff, { '198.51.100.53': [...missed('in'), ...missed('out')] }, 'sFlow lacks 3 DNS answers and 3 queries of 198.51.100.53');
  t.end();
});

for (const capture of ['pmacctd-v9.pcap', 'pmacctd-ipfix.pcap']) {
  t.test(`${capture}: per-remote-host totals equal the truth`, async (t) => {
    const summaries = await run(capture);
    const got = remoteHosts(summaries), want = file.traffic.by_remote_host;
    t.equal(Object.keys(got).length, file.traffic.remote_hosts, `${file.traffic.remote_hosts} remote hosts`);
    t.same(otherTotal(summaries, 'remotehosts'), zero(), `every tuple listed (top ${TOP}): nothing in viewsOther`);
    t.same(sorted(got), sorted(want), 'bytes and packets per remote host and direction equal traffic.remotehosts.json');
    checkSums(t, summaries);
    const flows = summaries.reduce((a, s) => a + s.views!.remotehosts!.reduce((b, r) => b + r.flows, 0), 0);
    t.comment(`${capture}: ${summaries.length} summaries, ${Object.keys(got).length} remote hosts, in ${file.traffic.by_direction.in!.join('/')}, out ${file.traffic.by_direction.out!.join('/')} (bytes/packets), ${flows} flow-intervals`);
  });
}

// sFlow at rate 1 is exact against what the exporter sampled: every packet but the 6 it missed.
t.test('pmacctd-sflow.pcap: per-remote-host totals equal the samples it carries', async (t) => {
  const summaries = await run('pmacctd-sflow.pcap');
  const got = remoteHosts(summaries), want = file['pmacctd-sflow'].by_remote_host;
  t.equal(Object.keys(got).length, file['pmacctd-sflow'].remote_hosts, `${file['pmacctd-sflow'].remote_hosts} remote hosts`);
  t.same(otherTotal(summaries, 'remotehosts'), zero(), 'nothing in viewsOther');
  t.same(sorted(got), sorted(want), 'bytes and packets per remote host and direction equal the sFlow figures of traffic.remotehosts.json');
  checkSums(t, summaries);
  const flows = summaries.reduce((a, s) => a + s.views!.remotehosts!.reduce((b, r) => b + r.flows, 0), 0);
  t.equal(flows, file['pmacctd-sflow'].by_direction.in![1] + file['pmacctd-sflow'].by_direction.out![1], 'one flow per sample, rate 1');
  t.comment(`pmacctd-sflow.pcap: ${summaries.length} summaries, ${Object.keys(got).length} remote hosts, ${flows} samples with a remote host`);
});

// A small top and a tuple cap move traffic into viewsOther, never out of the view: Σ rows + viewsOther
// still equals the directions in every summary, and over the run the truth's in and out totals.
t.test('a small top and a tuple cap: Σ rows + viewsOther still equal the directions', async (t) => {
  for (const capture of ['pmacctd-v9.pcap', 'pmacctd-ipfix.pcap']) {
    for (const hold of ['75s', '10m']) {
      const summaries = await run(capture, 3, { maxViewTuples: 8, hold });
      checkSums(t, summaries);
      const capped = summaries.reduce((a, s) => a + (s.stats.viewTuplesCapped?.remotehosts ?? 0), 0);
      const other = otherTotal(summaries, 'remotehosts');
      const tot = (d: 'in' | 'out') => summaries.reduce((a, s) => {
        const v = viewSums(s, 'remotehosts')[d] ?? zero();
        return [a[0]! + v.bytes, a[1]! + v.packets];
      }, [0, 0]);
      t.same([tot('in'), tot('out')], [truth.by_direction.in, truth.by_direction.out], `${capture}, hold ${hold}: Σ in and out over the run equal the truth`);
      t.ok(capped > 0 && other.bytes > 0, `${capture}, hold ${hold}: ${capped} records past the cap of 8 tuples, ${other.bytes} bytes in viewsOther`);
      t.ok(summaries.every((s) => s.views!.remotehosts!.filter((r) => r.direction === 'in').length <= 3), 'at most 3 rows per direction');
    }
  }
});
