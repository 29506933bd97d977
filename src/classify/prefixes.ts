// Longest-prefix match for IPv4 and IPv6 over typed arrays: a multibit trie with 8-bit strides, so a
// lookup is at most 4 (IPv4) or 16 (IPv6) array steps and allocates nothing. Each node has 256 slots;
// a prefix is stored, expanded, in the node of the stride where it ends, so deeper slots always hold
// longer prefixes and the last value seen on the way down is the longest match. The two families are
// separate tries: an IPv4-mapped IPv6 address is matched only against IPv6 prefixes.
import ipaddr from 'ipaddr.js';

/** A parsed, validated prefix: network bytes (4 or 16), length and canonical text. */
export interface ParsedPrefix {
  v6: boolean;
  bytes: number[];
  len: number;
  /** Canonical text: dotted quad or RFC 5952, always with "/len". */
  text: string;
}

/** Why a prefix was refused; `suggestion` is the network prefix when only host bits were wrong. */
export class PrefixError extends Error {
  constructor(readonly input: string, readonly hostBits: boolean, readonly suggestion = '') {
    super(hostBits ? `prefix "${input}" has host bits set (network is ${suggestion})` : `not an IPv4/IPv6 prefix: "${input}"`);
    this.name = 'PrefixError';
  }
}

/** Parses a bare IPv4 (four-part decimal only) or IPv6 address (no zone) into its bytes, or null. */
export function parseAddressBytes(text: string): { v6: boolean; bytes: number[] } | null {
  if (text.includes(':')) {
    if (text.includes('%') || !ipaddr.IPv6.isValid(text)) return null;
    return { v6: true, bytes: ipaddr.IPv6.parse(text).toByteArray() };
  }
  // Four-part decimal only: ipaddr.js would also accept "10", octal and hex forms, which surprise.
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  return { v6: false, bytes: ipaddr.IPv4.parse(text).toByteArray() };
}

/** Canonical text of an address: dotted quad, or RFC 5952 for IPv6. */
export function addressText(v6: boolean, bytes: number[]): string {
  return v6 ? new ipaddr.IPv6(toParts(bytes)).toRFC5952String() : bytes.join('.');
}

function toParts(bytes: number[]): number[] {
  const parts: number[] = [];
  for (let i = 0; i < 16; i += 2) parts.push((bytes[i]! << 8) | bytes[i + 1]!);
  return parts;
}

/** Parses "a.b.c.d/n", "v6/n" or a bare address (= /32 or /128). Host bits set is an error. */
export function parsePrefix(input: string): ParsedPrefix {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const lenText = slash < 0 ? '' : text.slice(slash + 1);
  const addr = parseAddressBytes(addrText);
  if (!addr || (slash >= 0 && !/^\d{1,3}$/.test(lenText))) throw new PrefixError(input, false);
  const max = addr.v6 ? 128 : 32;
  const len = slash < 0 ? max : Number(lenText);
  if (len > max) throw new PrefixError(input, false);
  const net = addr.bytes.slice();
  for (let i = 0; i < net.length; i++) {
    const keep = Math.min(8, Math.max(0, len - i * 8));
    net[i] = net[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  const text2 = `${addressText(addr.v6, net)}/${len}`;
  if (net.some((b, i) => b !== addr.bytes[i])) throw new PrefixError(input, true, text2);
  return { v6: addr.v6, bytes: net, len, text: text2 };
}

const FAN = 256;

/** One address family's trie. Node 0 is the root; child index 0 therefore means "no child". */
class StrideTrie {
  /** Per slot: value index + 1 (0 = no prefix covers this slot in this node). */
  val: Int32Array;
  /** Per slot: length of the prefix whose value is stored, so a shorter one never overwrites it. */
  len: Uint8Array;
  /** Per slot: child node index, 0 = none. */
  kid: Int32Array;
  nodes = 1;

  constructor(initialNodes = 8) {
    this.val = new Int32Array(initialNodes * FAN);
    this.len = new Uint8Array(initialNodes * FAN);
    this.kid = new Int32Array(initialNodes * FAN);
  }

  private newNode(): number {
    if ((this.nodes + 1) * FAN > this.val.length) {
      const cap = this.val.length * 2;
      const val = new Int32Array(cap), len = new Uint8Array(cap), kid = new Int32Array(cap);
      val.set(this.val);
      len.set(this.len);
      kid.set(this.kid);
      this.val = val;
      this.len = len;
      this.kid = kid;
    }
    return this.nodes++;
  }

  insert(bytes: ArrayLike<number>, plen: number, ref: number): void {
    const depth = plen === 0 ? 0 : (plen - 1) >> 3;
    let node = 0;
    for (let i = 0; i < depth; i++) {
      const slot = node * FAN + bytes[i]!;
      let child = this.kid[slot]!;
      if (child === 0) {
        child = this.newNode();
        this.kid[slot] = child;
      }
      node = child;
    }
    const bitsHere = plen - depth * 8; // 0..8 bits of this stride are fixed by the prefix
    const start = bitsHere === 0 ? 0 : bytes[depth]! & ((0xff << (8 - bitsHere)) & 0xff);
    const end = start + (1 << (8 - bitsHere));
    const { val, len } = this;
    for (let s = node * FAN + start, e = node * FAN + end; s < e; s++) {
      if (val[s] === 0 || len[s]! <= plen) {
        val[s] = ref;
        len[s] = plen;
      }
    }
  }
}

export class PrefixTable<T> {
  private readonly t4 = new StrideTrie();
  private readonly t6 = new StrideTrie();
  private readonly values: T[] = [];
  private count = 0;

  /** Number of insert calls (a re-inserted prefix counts again). */
  get size(): number {
    return this.count;
  }

  /** Inserts "a.b.c.d/n", "v6/n" or a bare address; an equal prefix inserted later replaces the value. */
  insert(cidr: string, value: T): void {
    const p = parsePrefix(cidr);
    if (p.v6) this.insert6(p.bytes, p.len, value);
    else this.insert4(((p.bytes[0]! << 24) | (p.bytes[1]! << 16) | (p.bytes[2]! << 8) | p.bytes[3]!) >>> 0, p.len, value);
  }

  /** `addr` is an unsigned 32-bit network address; host bits beyond `len` are ignored. */
  insert4(addr: number, len: number, value: T): void {
    if (!(len >= 0 && len <= 32)) throw new RangeError(`IPv4 prefix length ${len} out of range`);
    this.values.push(value);
    this.count++;
    this.t4.insert([addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255], len, this.values.length);
  }

  /** `addr` holds 16 network bytes; host bits beyond `len` are ignored. */
  insert6(addr: ArrayLike<number>, len: number, value: T): void {
    if (!(len >= 0 && len <= 128) || addr.length < 16) throw new RangeError(`IPv6 prefix length ${len} out of range`);
    this.values.push(value);
    this.count++;
    this.t6.insert(addr, len, this.values.length);
  }

  /** Longest match for an unsigned 32-bit IPv4 address. */
  lookup4(addr: number): T | undefined {
    const ref = this.ref4(addr);
    return ref === 0 ? undefined : this.values[ref - 1];
  }

  /**
   * The longest match's insertion number (1 = the first insert call, 0 = no match): what lookup4
   * returns without the generic value load, for callers that keep their values in a typed array.
   * Unrolled: four strides, no allocation.
   */
  ref4(addr: number): number {
    const { val, kid } = this.t4;
    let best = 0;
    let slot = addr >>> 24;
    let v = val[slot]!;
    if (v !== 0) best = v;
    let node = kid[slot]!;
    if (node !== 0) {
      slot = node * FAN + ((addr >>> 16) & 255);
      v = val[slot]!;
      if (v !== 0) best = v;
      node = kid[slot]!;
      if (node !== 0) {
        slot = node * FAN + ((addr >>> 8) & 255);
        v = val[slot]!;
        if (v !== 0) best = v;
        node = kid[slot]!;
        if (node !== 0) {
          v = val[node * FAN + (addr & 255)]!;
          if (v !== 0) best = v;
        }
      }
    }
    return best;
  }

  /** Longest match for a 16-byte IPv6 address (e.g. FlowRecord.src6). */
  lookup6(addr: Uint8Array): T | undefined {
    const ref = this.ref6(addr);
    return ref === 0 ? undefined : this.values[ref - 1];
  }

  /** As ref4, for a 16-byte IPv6 address. */
  ref6(addr: Uint8Array): number {
    const { val, kid } = this.t6;
    let best = 0;
    let node = 0;
    for (let i = 0; i < 16; i++) {
      const slot = node * FAN + addr[i]!;
      const v = val[slot]!;
      if (v !== 0) best = v;
      node = kid[slot]!;
      if (node === 0) break;
    }
    return best;
  }
}
