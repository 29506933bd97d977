// An sFlow capture built for the page's views test: the pmacctd sFlow fixture has neither interface
// indexes (its samples say "internal", 0x3fffffff) nor counter samples. One agent, three interfaces:
// sampled packets between remote hosts and home hosts across them (so both suggested views fill), and
// a generic interface counters sample of each interface in every datagram, one datagram per interval.
import { cat, ip4, u32, u64 } from '../decode/nf-build.js';
import type { Captured } from '../helpers/pcap-write.js';

export const AGENT = '192.0.2.1';
const RATE = 100; // 1 in 100: each sampled packet counts 100 times

/** A sampled TCP packet: remote → local comes in on `inIf` and leaves on `outIf`. */
interface Pattern { src: string; dst: string; inIf: number; outIf: number; ipLength: number }

const PATTERNS: Pattern[] = [
  { src: '198.51.100.7', dst: '10.1.0.48', inIf: 3, outIf: 4, ipLength: 1500 },
  { src: '203.0.113.9', dst: '10.1.0.99', inIf: 3, outIf: 5, ipLength: 1400 },
  { src: '10.1.0.80', dst: '198.51.100.7', inIf: 4, outIf: 3, ipLength: 600 },
  { src: '10.1.0.5', dst: '192.0.2.77', inIf: 5, outIf: 3, ipLength: 120 },
  { src: '198.51.100.53', dst: '10.1.0.5', inIf: 3, outIf: 5, ipLength: 80 },
];

/** Per interface: ifSpeed and what each 10 s adds to its counters (ifIndex 4's out is 96 % of its speed). */
export const IFACES = [
  { ifIndex: 3, ifSpeed: 1e9, inOctets: 50e6, inPkts: 40_000, outOctets: 10e6, outPkts: 12_000, inErrors: 0, outDiscards: 0 },
  { ifIndex: 4, ifSpeed: 100e6, inOctets: 12e6, inPkts: 9_000, outOctets: 120e6, outPkts: 90_000, inErrors: 0, outDiscards: 3 },
  { ifIndex: 5, ifSpeed: 1e9, inOctets: 1e6, inPkts: 2_000, outOctets: 2e6, outPkts: 2_500, inErrors: 1, outDiscards: 0 },
];

const entry = (format: number, body: Buffer) => cat(u32(format), u32(body.length), body);

function frame(p: Pattern, n: number): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(p.ipLength, 2);
  ip.writeUInt16BE(n & 0xffff, 4);
  ip[8] = 64;
  ip[9] = 6;
  ip4(p.src).copy(ip, 12);
  ip4(p.dst).copy(ip, 16);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(p.src.startsWith('10.') ? 40000 + (n % 1000) : 443, 0);
  tcp.writeUInt16BE(p.src.startsWith('10.') ? 443 : 40000 + (n % 1000), 2);
  tcp[12] = 0x50;
  tcp[13] = 0x18;
  tcp.writeUInt16BE(0xffff, 14);
  return cat(Buffer.from('020000000002020000000001', 'hex'), Buffer.from([0x08, 0x00]), ip, tcp);
}

function flowSample(seq: number, p: Pattern): Buffer {
  const f = frame(p, seq);
  const header = entry(1, cat(u32(1), u32(p.ipLength + 18), u32(4), u32(f.length), f));
  return entry(1, cat(u32(seq), u32(p.inIf), u32(RATE), u32(seq * RATE), u32(0), u32(p.inIf), u32(p.outIf), u32(1), header));
}

/** Counter sample 0:2 holding one generic interface counters record 0:1 after `k` steps of 10 s. */
function counterSample(seq: number, i: (typeof IFACES)[number], k: number): Buffer {
  const base = 1_000_000 * i.ifIndex; // not zero: counters of a running agent
  return entry(2, cat(u32(seq), u32(i.ifIndex), u32(1), entry(1, cat(
    u32(i.ifIndex), u32(6), u64(i.ifSpeed), u32(1), u32(3),
    u64(base + k * i.inOctets), u32(base + k * i.inPkts), u32(0), u32(0), u32(0), u32(k * i.inErrors), u32(0),
    u64(base + k * i.outOctets), u32(base + k * i.outPkts), u32(0), u32(0), u32(k * i.outDiscards), u32(0), u32(0)))));
}

/**
 * `intervals` datagrams, at 1 s into each 10 s interval from `t0Ms` (a multiple of 10 s): pattern j is
 * sampled 1 + (j + k) % 3 times in datagram k, so the ranking moves from one interval to the next.
 * From datagram `flowIntervals` on, datagrams carry counter samples only.
 */
export function sflowCapture(t0Ms: number, intervals: number, flowIntervals = intervals): Captured[] {
  const out: Captured[] = [];
  let seq = 1;
  for (let k = 0; k < intervals; k++) {
    const samples: Buffer[] = [];
    if (k < flowIntervals) {
      PATTERNS.forEach((p, j) => {
        for (let n = 0; n <= (j + k) % 3; n++) samples.push(flowSample(seq++, p));
      });
    }
    for (const i of IFACES) samples.push(counterSample(seq++, i, k));
    const uptimeMs = 5_000_000 + k * 10_000;
    out.push({ tsMs: t0Ms + k * 10_000 + 1000,
      payload: cat(u32(5), u32(1), ip4(AGENT), u32(0), u32(k + 1), u32(uptimeMs), u32(samples.length), ...samples) });
  }
  return out;
}
