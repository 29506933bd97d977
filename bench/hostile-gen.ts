// Hostile datagrams for the flood drill (`npm run bench hostile`, test/hostile-flood.test.ts): what a
// spoofed or broken exporter sends — template floods, huge enterprise templates, data without templates,
// records dated 2^62 or 1970 or inverted, counters of 2^64 - 1, absurd sampling rates, sFlow from made-up
// agents, garbage — mixed with sound NetFlow v5 from one exporter. Deterministic for a seed.
import { createGenerator, Rng, type DatagramGenerator } from './gen.js';

/** One datagram and who sends it: 0 = the sound exporter, 1..sources = a spoofed source. */
export interface HostileDatagram {
  buf: Buffer;
  source: number;
  /** sound flow records in it (0 for the hostile ones) */
  sound: number;
  /** offsets of addresses (crafted records' local sources, sFlow agents) that freshen() makes new for each send */
  fresh?: number[];
}

let nextHost = 0;
/** Gives crafted records new local sources and sFlow datagrams new agents (10.x.y.z), as a spoofing flood's would be. */
export function freshen(d: HostileDatagram): void {
  if (d.fresh === undefined) return;
  for (const o of d.fresh) d.buf.writeUInt32BE((0x0a000000 | (nextHost++ & 0xffffff)) >>> 0, o);
}

/** Kinds by share of the datagrams (out of 100). */
const MIX: [kind: Kind, share: number][] = [
  ['sound', 10], ['templates', 15], ['largeTemplate', 5], ['orphanData', 15], ['craftedIpfix', 15],
  ['craftedV5', 10], ['sflow', 15], ['garbage', 15],
];
type Kind = 'sound' | 'templates' | 'largeTemplate' | 'orphanData' | 'craftedIpfix' | 'craftedV5' | 'sflow' | 'garbage';

/** Offsets of `n` records of `len` bytes from `first`, where each begins with its source address. */
const offsets = (first: number, len: number, n: number): number[] => Array.from({ length: n }, (_, i) => first + i * len);

const be = (b: Buffer, o: number, len: number, v: number | bigint): void => {
  let x = BigInt(v);
  for (let i = len - 1; i >= 0; i--) {
    b[o + i] = Number(x & 0xffn);
    x >>= 8n;
  }
};

export class HostileMix {
  private readonly rng: Rng;
  private readonly soundGen: DatagramGenerator;
  private readonly kinds: Kind[] = [];
  private n = 0;
  /** next template id per spoofed source: every one is new */
  private readonly nextId: Uint16Array;

  constructor(readonly sources: number, seed = 17) {
    this.rng = new Rng(seed);
    this.soundGen = createGenerator('netflow5', { seed });
    for (const [kind, share] of MIX) for (let i = 0; i < share; i++) this.kinds.push(kind);
    this.nextId = new Uint16Array(sources + 1).fill(256);
  }

  private int(n: number): number {
    return this.rng.int(n);
  }

  /** A sound NetFlow v5 datagram (30 records) exported at nowMs. */
  sound(nowMs: number): HostileDatagram {
    const buf = this.soundGen.next(nowMs);
    return { buf: Buffer.from(buf), source: 0, sound: this.soundGen.records };
  }

  next(nowMs: number): HostileDatagram {
    const kind = this.kinds[this.n++ % this.kinds.length]!;
    const source = 1 + this.int(this.sources);
    const s = Math.floor(nowMs / 1000);
    switch (kind) {
      case 'sound': return this.sound(nowMs);
      case 'templates': return { buf: this.templates(s, source, 20), source, sound: 0 };
      case 'largeTemplate': return { buf: this.largeTemplate(s, source), source, sound: 0 };
      case 'orphanData': return { buf: this.orphanData(s), source, sound: 0 };
      case 'craftedIpfix': return { buf: this.craftedIpfix(nowMs), source, sound: 0, fresh: offsets(16 + 8 + 7 * 4 + 4, 44, 20) };
      case 'craftedV5': return { buf: this.craftedV5(s), source, sound: 0, fresh: offsets(24, 48, 30) };
      // the agent address and the sampled packet's source
      case 'sflow': return { buf: this.sflow(), source, sound: 0, fresh: [8, 28 + 8 + 32 + 24 + 26] };
      case 'garbage': return { buf: this.garbage(), source, sound: 0 };
    }
  }

  private ipfixHeader(b: Buffer, exportS: number, len: number): void {
    b.writeUInt16BE(10, 0);
    b.writeUInt16BE(len, 2);
    b.writeUInt32BE(exportS, 4);
    b.writeUInt32BE(this.n, 8);
    b.writeUInt32BE(this.int(4), 12);
  }

  /** `count` new 3-field templates (each id new for its source) in one template set. */
  private templates(exportS: number, source: number, count: number): Buffer {
    const len = 16 + 4 + count * (4 + 3 * 4);
    const b = Buffer.alloc(len);
    this.ipfixHeader(b, exportS, len);
    b.writeUInt16BE(2, 16);
    b.writeUInt16BE(len - 16, 18);
    let o = 20;
    for (let i = 0; i < count; i++) {
      const id = this.nextId[source]!;
      this.nextId[source] = id >= 65535 ? 256 : id + 1;
      b.writeUInt16BE(id, o);
      b.writeUInt16BE(3, o + 2);
      o += 4;
      for (let f = 0; f < 3; f++) {
        b.writeUInt16BE(1 + this.int(300), o);
        b.writeUInt16BE(4, o + 2);
        o += 4;
      }
    }
    return b;
  }

  /** One template of 512 variable-length enterprise fields (4 KB of template). */
  private largeTemplate(exportS: number, source: number): Buffer {
    const len = 16 + 4 + 4 + 512 * 8;
    const b = Buffer.alloc(len);
    this.ipfixHeader(b, exportS, len);
    b.writeUInt16BE(2, 16);
    b.writeUInt16BE(len - 16, 18);
    const id = this.nextId[source]!;
    this.nextId[source] = id >= 65535 ? 256 : id + 1;
    b.writeUInt16BE(id, 20);
    b.writeUInt16BE(512, 22);
    for (let f = 0, o = 24; f < 512; f++, o += 8) {
      b.writeUInt16BE(0x8000 | (1 + this.int(30000)), o);
      b.writeUInt16BE(65535, o + 2);
      b.writeUInt32BE(1 + this.int(60000), o + 4);
    }
    return b;
  }

  /** A data set whose template never comes. */
  private orphanData(exportS: number): Buffer {
    const body = 4 + 400;
    const b = Buffer.alloc(16 + body);
    this.ipfixHeader(b, exportS, b.length);
    b.writeUInt16BE(256 + this.int(65000), 16);
    b.writeUInt16BE(body, 18);
    for (let i = 20; i < b.length; i++) b[i] = this.int(256);
    return b;
  }

  /** Template and records with extreme times, counters and sampling rates. */
  private craftedIpfix(nowMs: number): Buffer {
    // sourceIPv4, destinationIPv4, octetDelta(8), packetDelta(8), flowStartMs, flowEndMs, samplingInterval
    const fields = [[8, 4], [12, 4], [1, 8], [2, 8], [152, 8], [153, 8], [34, 4]];
    const recLen = 44, recs = 20;
    const tplLen = 4 + 4 + fields.length * 4;
    const len = 16 + tplLen + 4 + recs * recLen;
    const b = Buffer.alloc(len);
    this.ipfixHeader(b, Math.floor(nowMs / 1000), len);
    let o = 16;
    b.writeUInt16BE(2, o); b.writeUInt16BE(tplLen, o + 2); b.writeUInt16BE(300, o + 4); b.writeUInt16BE(fields.length, o + 6);
    o += 8;
    for (const [id, l] of fields) { b.writeUInt16BE(id!, o); b.writeUInt16BE(l!, o + 2); o += 4; }
    b.writeUInt16BE(300, o); b.writeUInt16BE(4 + recs * recLen, o + 2);
    o += 4;
    const times: [number | bigint, number | bigint][] = [
      [nowMs - 5000, 2n ** 62n], [1000, nowMs], [nowMs, nowMs - 3_600_000], [nowMs - 24 * 86_400_000, nowMs], [0, 0],
    ];
    for (let r = 0; r < recs; r++, o += recLen) {
      b.writeUInt32BE(0x0a000000 + this.int(1 << 24), o);
      b.writeUInt32BE(0xc6336400 + this.int(256), o + 4);
      be(b, o + 8, 8, this.int(2) ? 2n ** 64n - 1n : BigInt(this.int(1e9)));
      be(b, o + 16, 8, this.int(2) ? 2n ** 64n - 1n : BigInt(this.int(1e6)));
      const [st, en] = times[this.int(times.length)]!;
      be(b, o + 24, 8, st);
      be(b, o + 32, 8, en);
      b.writeUInt32BE([0, 1, 0xffffffff, 1e9][this.int(4)]!, o + 40);
    }
    return b;
  }

  /** NetFlow v5 whose uptimes put start and end 24 days apart, with counters at their maximum. */
  private craftedV5(exportS: number): Buffer {
    const day = 86_400_000;
    const b = Buffer.alloc(24 + 48 * 30);
    b.writeUInt16BE(5, 0);
    b.writeUInt16BE(30, 2);
    b.writeUInt32BE(25 * day, 4);
    b.writeUInt32BE(exportS, 8);
    b.writeUInt16BE(0x4000 | 16383, 22);
    for (let i = 0, o = 24; i < 30; i++, o += 48) {
      b.writeUInt32BE(0x0a000000 + this.int(1 << 24), o);
      b.writeUInt32BE(0xc6336400 + this.int(256), o + 4);
      b.writeUInt32BE(0xffffffff, o + 16);
      b.writeUInt32BE(0xffffffff, o + 20);
      b.writeUInt32BE(day, o + 24);
      b.writeUInt32BE(25 * day, o + 28);
      b[o + 38] = 6;
    }
    return b;
  }

  /** sFlow from a made-up agent (a new exporter each time), sampling rate 0 or 2^32 - 1. */
  private sflow(): Buffer {
    const hlen = 64, rawLen = 16 + hlen, flowLen = 32 + 8 + rawLen;
    const b = Buffer.alloc(28 + 8 + flowLen);
    b.writeUInt32BE(5, 0);
    b.writeUInt32BE(1, 4);
    b.writeUInt32BE((0x0a000000 + this.int(1 << 24)) >>> 0, 8); // agent address: the exporter
    b.writeUInt32BE(this.int(8), 12);
    b.writeUInt32BE(this.n, 16);
    b.writeUInt32BE(this.n, 20);
    b.writeUInt32BE(1, 24); // samples
    let o = 28;
    b.writeUInt32BE(1, o); b.writeUInt32BE(flowLen, o + 4);
    o += 8;
    b.writeUInt32BE(this.n, o); b.writeUInt32BE(3, o + 4); b.writeUInt32BE(this.int(2) ? 0 : 0xffffffff, o + 8);
    b.writeUInt32BE(0, o + 12); b.writeUInt32BE(0, o + 16); b.writeUInt32BE(1, o + 20); b.writeUInt32BE(2, o + 24);
    b.writeUInt32BE(1, o + 28); // one flow record
    o += 32;
    b.writeUInt32BE(1, o); b.writeUInt32BE(rawLen, o + 4); b.writeUInt32BE(1, o + 8); b.writeUInt32BE(0xffffffff, o + 12);
    b.writeUInt32BE(0, o + 16); b.writeUInt32BE(hlen, o + 20);
    o += 24;
    // Ethernet + IPv4 claiming 65535 bytes
    b.writeUInt16BE(0x0800, o + 12);
    b[o + 14] = 0x45; b.writeUInt16BE(65535, o + 16); b[o + 23] = 17;
    b.writeUInt32BE(0x0a000000 + this.int(1 << 24), o + 26);
    b.writeUInt32BE(0xc6336401, o + 30);
    return b;
  }

  /** Random bytes behind a valid version word. */
  private garbage(): Buffer {
    const b = Buffer.alloc(4 + this.int(1400));
    for (let i = 0; i < b.length; i++) b[i] = this.int(256);
    const v = [5, 9, 10][this.int(3)]!;
    b.writeUInt16BE(v, 0);
    return b;
  }
}
