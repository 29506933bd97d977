// Decodes the real pmacctd 1.7.7 sFlow export of the known capture and checks it against the ground
// truth counted from the capture's packets (test/fixtures/pmacctd-sflow.expected.json).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SflowDecoder } from '../../src/decode/sflow.js';
import { SflowCounterStore } from '../../src/decode/counters-sflow.js';
import { srcAddress, dstAddress, type FlowRecord } from '../../src/flow/record.js';
import type { DecodeError } from '../../src/lib/errors.js';
import { readUdpPackets } from '../../src/ingest/pcap.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

interface Expected {
  samples: number;
  unreachable_tuples: number;
  total: [number, number];
  by_direction: Record<string, [number, number]>;
  by_local_host: Record<string, [number, number, number, number]>;
}
const expected = JSON.parse(readFileSync(fixture('pmacctd-sflow.expected.json'), 'utf8')) as Expected;

// The capture's home networks (fixtures README): 10.1.0.0/16 and 2001:db8:1::/48.
const isHome = (a: string) => a.startsWith('10.1.') || a.startsWith('2001:db8:1:');

t.test('pmacctd sFlow export: totals, directions, hosts and ICMP unreachable tuples match the truth', (t) => {
  const errors: DecodeError[] = [];
  const counters = new SflowCounterStore();
  const dec = new SflowDecoder({ report: (e) => errors.push(e), counters });
  let datagrams = 0, samples = 0, bytes = 0, packets = 0, frameBytes = 0;
  const rates = new Set<number>();
  const agents = new Set<string>();
  const dirs: Record<string, [number, number]> = {};
  const hosts: Record<string, [number, number, number, number]> = {};
  const unreach = new Set<string>();
  const add = (rec: FlowRecord) => {
    samples++;
    rates.add(rec.samplingRate);
    agents.add(`${rec.exporter}|${rec.domain}|${rec.source}`);
    frameBytes += rec.frameBytes;
    if (rec.ipVersion === 0) return;
    bytes += rec.bytes;
    packets += rec.packets;
    const s = srcAddress(rec), d = dstAddress(rec);
    const hs = isHome(s), hd = isHome(d);
    const dir = hs && hd ? 'internal' : hs ? 'out' : hd ? 'in' : 'external';
    const v = (dirs[dir] ??= [0, 0]);
    v[0] += rec.bytes; v[1] += rec.packets;
    if (hd && (dir === 'in' || dir === 'internal')) {
      const h = (hosts[d] ??= [0, 0, 0, 0]);
      h[0] += rec.bytes; h[1] += rec.packets;
    }
    if (hs && (dir === 'out' || dir === 'internal')) {
      const h = (hosts[s] ??= [0, 0, 0, 0]);
      h[2] += rec.bytes; h[3] += rec.packets;
    }
    if (rec.icmpType === 3 && rec.icmpCode === 3) unreach.add(`${s}|${d}|${rec.unreachProto}|${rec.unreachPort}`);
  };
  for (const p of readUdpPackets(fixture('pmacctd-sflow.pcap'))) {
    if (p.dstPort !== 9922) continue;
    datagrams++;
    dec.decode(p.payload, p.srcAddr, p.tsMs, add);
  }
  t.equal(datagrams, 2649, 'every datagram of the capture');
  t.same(errors, [], 'no decode errors');
  t.equal(samples, expected.samples, 'flow samples');
  t.equal(samples, 16183);
  t.equal(dec.stats.flowSamples, 16183);
  t.equal(dec.stats.nonIp, 0, 'every sampled frame held an IP header');
  t.same([...rates], [1], 'sampling rate 1');
  t.same([...agents], ['127.0.0.1|1|5000'], 'agent address, sub-agent id, source');
  t.same([bytes, packets], expected.total, 'IP-layer bytes and packets');
  t.equal(bytes, 16847352);
  t.ok(frameBytes > bytes, 'frame bytes include the link layer');
  t.same(dirs, expected.by_direction, 'per direction');
  t.same(hosts, expected.by_local_host, 'per local host');
  t.equal(counters.size, 0, 'pmacctd sends no counter samples');

  // The capture's port scan (gen_traffic.py step 5): probe k went from 203.0.113.66 to 10.1.1.(k%8+1)
  // UDP port 1000+k; each answer quotes it. expected.json gives only the count of distinct tuples.
  const want = new Set<string>();
  for (let k = 0; k < 400; k++) want.add(`10.1.1.${(k % 8) + 1}|203.0.113.66|17|${1000 + k}`);
  t.equal(unreach.size, expected.unreachable_tuples);
  t.same([...unreach].sort(), [...want].sort(), 'ICMP port-unreachable (src, dst, quoted dst port) tuples');
  t.end();
});
