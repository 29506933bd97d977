// An sFlow v5 capture for the dashboard tests, built here: the fixtures' sFlow export (pmacctd's
// sfprobe) has no counter samples, no interfaces (ifIndex 0x3fffffff) and no AS numbers, so it gives the
// views by interface and AS and the interface counters nothing to draw. One agent (127.0.0.1, the
// fixtures' exporter, so the Exporter variable lists one value) sends a datagram every 5 s for two
// minutes: sampled IPv4 flows between two home hosts and five remote ones, each on an input and an
// output interface with BGP AS numbers (extended gateway), and generic interface counters of four
// interfaces. `expected` is what a view or the counters must show, computed from the same numbers.
import { cat, ip4, u32, u64 } from '../decode/nf-build.js';
import type { Captured } from '../helpers/pcap-write.js';

export const AGENT = '127.0.0.1';
export const OWN_AS = 65000;
const RATE = 100; // sampling rate: every sampled packet stands for 100
const STEP_MS = 5000;
const DATAGRAMS = 24;
const UPLINK = 1;

/** Remote hosts, their AS, the local host each talks to and its LAN interface, and bytes per sample in and out. */
const REMOTES = [
  { host: '198.51.100.7', as: 64500, local: '10.1.0.10', lan: 2, bytesIn: 1400, bytesOut: 300 },
  { host: '198.51.100.8', as: 64500, local: '10.1.0.80', lan: 3, bytesIn: 1200, bytesOut: 500 },
  { host: '203.0.113.9', as: 64501, local: '10.1.0.10', lan: 2, bytesIn: 1000, bytesOut: 200 },
  { host: '203.0.113.10', as: 64502, local: '10.1.0.80', lan: 3, bytesIn: 800, bytesOut: 1000 },
  { host: '192.0.2.77', as: 64503, local: '10.1.0.10', lan: 4, bytesIn: 600, bytesOut: 100 },
] as const;

/** ifIndex → ifSpeed (bits/s; 0: the agent does not know it) and octets each interface rises by per datagram, in and out. */
export const INTERFACES: Record<number, { speed: number; inStep: number; outStep: number }> = {
  1: { speed: 1e9, inStep: 6_000_000, outStep: 2_000_000 },
  2: { speed: 1e8, inStep: 1_500_000, outStep: 4_000_000 },
  3: { speed: 1e10, inStep: 700_000, outStep: 3_000_000 },
  4: { speed: 0, inStep: 100_000, outStep: 500_000 },
};

const entry = (format: number, body: Buffer) => cat(u32(format), u32(body.length), body);

/** Flow sample 0:1: sampled IPv4 0:3 (TCP) and extended gateway 0:1003 (src AS, dst AS path). */
function flowSample(seq: number, p: { src: string; dst: string; bytes: number; input: number; output: number; srcAs: number; path: number[] }): Buffer {
  const sampled = entry(3, cat(u32(p.bytes), u32(6), ip4(p.src), ip4(p.dst), u32(443), u32(50000 + seq % 1000), u32(0x18), u32(0)));
  const gateway = entry(1003, cat(u32(1), ip4('192.0.2.254'), u32(OWN_AS), u32(p.srcAs), u32(0),
    ...(p.path.length ? [u32(1), u32(2), u32(p.path.length), ...p.path.map(u32)] : [u32(0)]), u32(0), u32(0)));
  return entry(1, cat(u32(seq), u32(UPLINK), u32(RATE), u32(seq * RATE), u32(0), u32(p.input), u32(p.output), u32(2), sampled, gateway));
}

/** Counter sample 0:2 holding one generic interface counters record 0:1. */
function counterSample(seq: number, ifIndex: number, speed: number, inOctets: number, outOctets: number): Buffer {
  return entry(2, cat(u32(seq), u32(ifIndex), u32(1), entry(1, cat(
    u32(ifIndex), u32(6), u64(speed), u32(1), u32(3),
    // unicast packets, multicast, broadcast, discards, errors (all counters: they only rise), unknown protocols
    u64(inOctets), u32(seq * 10), u32(0), u32(0), u32(seq), u32(Math.floor(seq / 2)), u32(0),
    u64(outOctets), u32(seq * 12), u32(0), u32(0), u32(0), u32(Math.floor(seq / 4)), u32(0)))));
}

export interface Expected {
  /** remote host → [bytes in, bytes out] */
  remotehosts: Record<string, [number, number]>;
  /** "exporter ifIndex" → [bytes in, bytes out] on that interface (a record counts on its input and its output) */
  interfaces: Record<string, [number, number]>;
  /** "srcAs dstAs" → bytes (inbound traffic: outbound has no source AS) */
  asPairs: Record<string, number>;
  /** ifIndex → octets [in, out] the counters rose by (the first sample is the baseline) */
  counters: Record<number, [number, number]>;
}

export function sflowCapture(t0Ms: number): { packets: Captured[]; expected: Expected } {
  const packets: Captured[] = [];
  const ex: Expected = { remotehosts: {}, interfaces: {}, asPairs: {}, counters: {} };
  const add = <K extends string>(o: Record<K, [number, number]>, k: K, i: 0 | 1, n: number) => {
    (o[k] ??= [0, 0])[i] += n;
  };
  let seq = 0;
  for (let n = 0; n < DATAGRAMS; n++) {
    const samples: Buffer[] = [];
    for (const r of REMOTES) {
      samples.push(flowSample(++seq, { src: r.host, dst: r.local, bytes: r.bytesIn, input: UPLINK, output: r.lan, srcAs: r.as, path: [] }));
      samples.push(flowSample(++seq, { src: r.local, dst: r.host, bytes: r.bytesOut, input: r.lan, output: UPLINK, srcAs: 0, path: [r.as] }));
      add(ex.remotehosts, r.host, 0, r.bytesIn * RATE);
      add(ex.remotehosts, r.host, 1, r.bytesOut * RATE);
      // an interface view counts each record on its input interface as in and on its output as out
      add(ex.interfaces, `${AGENT} ${UPLINK}`, 0, r.bytesIn * RATE);
      add(ex.interfaces, `${AGENT} ${r.lan}`, 1, r.bytesIn * RATE);
      add(ex.interfaces, `${AGENT} ${r.lan}`, 0, r.bytesOut * RATE);
      add(ex.interfaces, `${AGENT} ${UPLINK}`, 1, r.bytesOut * RATE);
      ex.asPairs[`${r.as} ${OWN_AS}`] = (ex.asPairs[`${r.as} ${OWN_AS}`] ?? 0) + r.bytesIn * RATE;
    }
    for (const [i, c] of Object.entries(INTERFACES)) {
      const ifIndex = Number(i);
      samples.push(counterSample(n + 1, ifIndex, c.speed, 1e9 + n * c.inStep, 5e8 + n * c.outStep));
      if (n > 0) ex.counters[ifIndex] = [(ex.counters[ifIndex]?.[0] ?? 0) + c.inStep, (ex.counters[ifIndex]?.[1] ?? 0) + c.outStep];
    }
    const header = cat(u32(5), u32(1), ip4(AGENT), u32(0), u32(n + 1), u32(3_600_000 + n * STEP_MS), u32(samples.length));
    packets.push({ tsMs: t0Ms + n * STEP_MS, payload: cat(header, ...samples) });
  }
  return { packets, expected: ex };
}
