// Captures built in tests: classic pcaps of frames of any link type, of UDP datagrams (raw IPv4, link
// type 101) at chosen capture times, and NetFlow v5 datagrams whose flows end at a chosen time.
import { writeFileSync } from 'node:fs';
import { cat, ip4, u16, u32, u8 } from '../decode/nf-build.js';

/** One datagram and its capture time (epoch ms). */
export interface Captured {
  tsMs: number;
  payload: Buffer;
}

function ipUdp(payload: Buffer): Buffer {
  const h = Buffer.alloc(28);
  h[0] = 0x45;
  h.writeUInt16BE(28 + payload.length, 2);
  h[8] = 64;
  h[9] = 17;
  h.set([192, 0, 2, 1], 12);
  h.set([192, 0, 2, 2], 16);
  h.writeUInt16BE(3000, 20);
  h.writeUInt16BE(2055, 22);
  h.writeUInt16BE(8 + payload.length, 24);
  return cat(h, payload);
}

/** One packet of a capture: the bytes captured, and its length on the wire when they are cut short. */
export interface Frame {
  tsMs: number;
  data: Buffer;
  origLen?: number;
}

/** A little-endian microsecond pcap of link type `link` (1 Ethernet, 101 raw IP), in the order given. */
export function pcapOf(link: number, frames: Frame[]): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(link, 20);
  const parts: Buffer[] = [h];
  for (const f of frames) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(f.tsMs / 1000), 0);
    r.writeUInt32LE((f.tsMs % 1000) * 1000, 4);
    r.writeUInt32LE(f.data.length, 8);
    r.writeUInt32LE(f.origLen ?? f.data.length, 12);
    parts.push(r, f.data);
  }
  return Buffer.concat(parts);
}

/** The datagrams as raw IPv4 UDP 192.0.2.1:3000 -> 192.0.2.2:2055, in the order given. */
export function pcapBytes(packets: Captured[]): Buffer {
  return pcapOf(101, packets.map((p) => ({ tsMs: p.tsMs, data: ipUdp(p.payload) })));
}

export function writePcap(path: string, packets: Captured[]): string {
  writeFileSync(path, pcapBytes(packets));
  return path;
}

/** A NetFlow v5 datagram sent at `atMs`: `n` TCP flows src → dst:443 of `bytes` and 2 packets, ending 100 ms before. */
export function v5At(atMs: number, src: string, dst: string, n = 1, bytes = 1000): Buffer {
  const uptime = 100_000;
  const recs: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    recs.push(cat(ip4(src), ip4(dst), u32(0), u16(1), u16(2), u32(2), u32(bytes), u32(uptime - 500), u32(uptime - 100),
      u16(40000 + i), u16(443), u8(0), u8(0x18), u8(6), u8(0), u16(0), u16(0), u8(24), u8(24), u16(0)));
  }
  return cat(u16(5), u16(n), u32(uptime), u32(Math.floor(atMs / 1000)), u32((atMs % 1000) * 1e6), u32(0), u8(0), u8(0), u16(0), ...recs);
}
