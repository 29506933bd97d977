// Tiny wire builders for NetFlow v5/v9 and IPFIX test datagrams (big-endian, no validation: tests
// build broken datagrams on purpose).
import type { DecodeError } from '../../src/lib/errors.js';
import { FlowRecord, IpVersion, ipv4ToString, ipv6ToString, srcAddress, dstAddress } from '../../src/flow/record.js';

/** Big-endian unsigned integer of `len` bytes. */
export function be(len: number, v: number): Buffer {
  const b = Buffer.alloc(len);
  let x = BigInt(Math.floor(v));
  for (let i = len - 1; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}

export const u8 = (v: number) => be(1, v);
export const u16 = (v: number) => be(2, v);
export const u32 = (v: number) => be(4, v);
export const u64 = (v: number) => be(8, v);
export const ip4 = (s: string) => Buffer.from(s.split('.').map(Number));
export const cat = (...parts: Buffer[]) => Buffer.concat(parts);
export const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A set: {id, length} header, body, then `pad` zero bytes counted in the length. */
export function set(id: number, body: Buffer, pad = 0): Buffer {
  return cat(u16(id), u16(4 + body.length + pad), body, Buffer.alloc(pad));
}

/** Field specifier [id, length] or [id, length, enterprise] (IPFIX: sets the enterprise bit). */
export type Field = [number, number] | [number, number, number];

function fieldSpecs(fields: Field[]): Buffer {
  return cat(...fields.map((f) => (f.length === 3 ? cat(u16(f[0] | 0x8000), u16(f[1]), u32(f[2])) : cat(u16(f[0]), u16(f[1])))));
}

/** A template record (v9 flowset 0 / IPFIX set 2 body). */
export function tpl(id: number, fields: Field[]): Buffer {
  return cat(u16(id), u16(fields.length), fieldSpecs(fields));
}

/** IPFIX options template record (set 3 body): scope fields first. */
export function ipfixOptTpl(id: number, scope: Field[], options: Field[]): Buffer {
  return cat(u16(id), u16(scope.length + options.length), u16(scope.length), fieldSpecs([...scope, ...options]));
}

/** v9 options template record (flowset 1 body): scope and option lengths in bytes. */
export function v9OptTpl(id: number, scope: Field[], options: Field[]): Buffer {
  return cat(u16(id), u16(scope.length * 4), u16(options.length * 4), fieldSpecs([...scope, ...options]));
}

export interface V9Header { count?: number; sysUptime: number; unixSecs: number; seq?: number; sourceId?: number }

export function v9(h: V9Header, ...sets: Buffer[]): Buffer {
  return cat(u16(9), u16(h.count ?? sets.length), u32(h.sysUptime), u32(h.unixSecs), u32(h.seq ?? 0), u32(h.sourceId ?? 0), ...sets);
}

export interface IpfixHeader { exportTime: number; seq?: number; domain?: number; length?: number }

export function ipfix(h: IpfixHeader, ...sets: Buffer[]): Buffer {
  const body = cat(...sets);
  return cat(u16(10), u16(h.length ?? 16 + body.length), u32(h.exportTime), u32(h.seq ?? 0), u32(h.domain ?? 0), body);
}

/** The record's next hop as text, '' when it has none. */
export function nextHopText(r: FlowRecord): string {
  if (r.nextHopVersion === IpVersion.V4) return ipv4ToString(r.nextHop4);
  return r.nextHopVersion === IpVersion.V6 ? ipv6ToString(r.nextHop6) : '';
}

/** Collects copies of what a decoder emits (the reused address buffers as text), and what it reports. */
export class Sink {
  readonly records: Array<Omit<FlowRecord, 'clear' | 'src6' | 'dst6' | 'nextHop6'> & { src: string; dst: string; nextHop: string }> = [];
  readonly errors: DecodeError[] = [];
  readonly emit = (r: FlowRecord): void => {
    const { src6: _s, dst6: _d, nextHop6: _n, ...plain } = r;
    this.records.push({ ...plain, src: srcAddress(r), dst: dstAddress(r), nextHop: nextHopText(r) });
  };
  readonly report = (e: DecodeError): void => {
    this.errors.push(e);
  };
  kinds(): string[] {
    return this.errors.map((e) => e.kind);
  }
}
