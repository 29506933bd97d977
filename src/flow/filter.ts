// Filter expressions of flow definitions, parsed by a small recursive-descent parser (never evaluated as
// code) into a tree, then compiled into matcher objects that test a classified record without
// allocating. Grammar (keywords and key names are case-insensitive):
//   expr  := and ( ('|' | '||' | 'or') and )*
//   and   := unary ( ('&' | '&&' | 'and') unary )*
//   unary := ('!' | 'not') unary | '(' expr ')' | KEY ('=' | '!=') VALUE (',' VALUE)*
// A comparison on a key the record lacks is false for both = and != (the key has no value).
import { DIRECTION_NAMES } from '../classify/direction.js';
import { parseAddressBytes, parsePrefix, PrefixError, PrefixTable } from '../classify/prefixes.js';
import { IpVersion, type FlowRecord } from './record.js';
import { FlowbridgeError } from '../lib/errors.js';
import { addressIsSource, isAddressKey, Key, keyIndex, KEY_NAMES, numericKey, TUPLE_ONLY_KEYS } from './keys.js';

/** The direction words, widened so any lower-cased text can be looked up. */
const DIRECTION_WORDS: readonly string[] = DIRECTION_NAMES;

/** A filter that does not parse; `pos` is the 1-based character position of the problem. */
export class FilterError extends FlowbridgeError {
  constructor(readonly pos: number, readonly reason: string) {
    super(`at ${pos}: ${reason}`);
  }
}

export type FilterNode =
  | { op: 'and' | 'or'; a: FilterNode; b: FilterNode }
  | { op: 'not'; a: FilterNode }
  | { op: 'cmp'; key: number; negate: boolean; values: string[]; /** 1-based position of each value */ at: number[] };

const PROTOCOLS: Record<string, number> = {
  icmp: 1, igmp: 2, tcp: 6, udp: 17, ipv6: 41, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, icmpv6: 58, icmp6: 58,
  ospf: 89, pim: 103, vrrp: 112, sctp: 132,
};
const TCP_FLAGS: Record<string, number> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ece: 64, cwr: 128 };
const GROUP_NAME = /^[A-Za-z0-9_-]+$/;
// characters that end a value
const STOP = new Set([' ', '\t', '\n', '\r', '(', ')', '&', '|', ',', '!', '=']);

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): FilterNode {
    this.ws();
    if (this.i >= this.s.length) throw this.err('the expression is empty');
    const n = this.or();
    this.ws();
    if (this.i < this.s.length) {
      throw this.err(this.s[this.i] === ')' ? 'unexpected ")"' : `expected "&", "|" or the end, found "${this.s.slice(this.i, this.i + 10)}"`);
    }
    return n;
  }

  private err(reason: string, at = this.i): FilterError {
    return new FilterError(at + 1, reason);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  /** Consumes an operator token (symbol or word) if it is next. */
  private eat(sym: string, word: string, double = true): boolean {
    this.ws();
    const s = this.s;
    if (double && s.startsWith(sym + sym, this.i)) { this.i += 2; return true; }
    if (s[this.i] === sym && s[this.i + 1] !== '=') { this.i += 1; return true; }
    const w = s.slice(this.i, this.i + word.length).toLowerCase();
    if (w === word && !/[A-Za-z0-9_]/.test(s[this.i + word.length] ?? '')) { this.i += word.length; return true; }
    return false;
  }

  private or(): FilterNode {
    let n = this.and();
    while (this.eat('|', 'or')) n = { op: 'or', a: n, b: this.and() };
    return n;
  }

  private and(): FilterNode {
    let n = this.unary();
    while (this.eat('&', 'and')) n = { op: 'and', a: n, b: this.unary() };
    return n;
  }

  private unary(): FilterNode {
    this.ws();
    if (this.i >= this.s.length) throw this.err('expected a comparison such as direction=in, found the end');
    if (this.eat('!', 'not', false)) return { op: 'not', a: this.unary() };
    if (this.s[this.i] === '(') {
      const open = this.i++;
      const n = this.or();
      this.ws();
      if (this.s[this.i] !== ')') throw this.err(`"(" at ${open + 1} is not closed`);
      this.i++;
      return n;
    }
    return this.comparison();
  }

  private comparison(): FilterNode {
    const m = /^[A-Za-z][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (!m) throw this.err(`expected a key such as ipsource, found "${this.s.slice(this.i, this.i + 10)}"`);
    const name = m[0].toLowerCase();
    const key = keyIndex(name);
    if (key < 0) throw this.err(`unknown key "${m[0]}" (keys: ${KEY_NAMES.join(', ')})`);
    if ((TUPLE_ONLY_KEYS as readonly string[]).includes(name)) {
      throw this.err(`${name} is a key of views and alert keys, not of filters; compare exporter and inputifindex or outputifindex instead`);
    }
    this.i += m[0].length;
    this.ws();
    let negate = false;
    if (this.s.startsWith('!=', this.i)) { negate = true; this.i += 2; }
    else if (this.s[this.i] === '=') this.i += 1;
    else throw this.err(`expected "=" or "!=" after ${name}`);
    const values: string[] = [];
    const pos: number[] = [];
    for (;;) {
      this.ws();
      const start = this.i;
      while (this.i < this.s.length && !STOP.has(this.s[this.i]!)) this.i++;
      if (this.i === start) throw this.err(`expected a value for ${name}`);
      const v = this.s.slice(start, this.i);
      checkValue(key, v, start);
      values.push(v);
      pos.push(start + 1);
      const save = this.i;
      this.ws();
      if (this.s[this.i] !== ',') { this.i = save; break; }
      this.i++;
    }
    return { op: 'cmp', key, negate, values, at: pos };
  }
}

/** Parses a filter; throws FilterError naming the position of the first problem. */
export function parseFilter(text: string): FilterNode {
  return new Parser(text).parse();
}

const U32_MAX = 4294967295;

function intRange(v: string, max: number): [number, number] | null {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) return null;
  const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
  return lo <= hi && hi <= max ? [lo, hi] : null;
}

function flagsValue(v: string): number | null {
  const n = intRange(v, 255);
  if (n && n[0] === n[1]) return n[0];
  let f = 0;
  for (const part of v.toLowerCase().split('+')) {
    const b = TCP_FLAGS[part];
    if (b === undefined) return null;
    f |= b;
  }
  return f;
}

/** Validates one value for its key; throws FilterError at `at` (0-based). */
function checkValue(key: number, v: string, at: number): void {
  const bad = (expected: string) => new FilterError(at + 1, `bad value "${v}" for ${KEY_NAMES[key]}: expected ${expected}`);
  switch (key) {
    case Key.IpSource:
    case Key.IpDestination:
    case Key.LocalHost:
    case Key.RemoteHost:
    case Key.Exporter:
      try {
        parsePrefix(v);
      } catch (e) {
        if (e instanceof PrefixError && e.hostBits) throw bad(`a prefix with no host bits set such as ${e.suggestion}`);
        throw bad('an IPv4/IPv6 address or prefix such as 10.0.0.0/8 or 2001:db8::/32');
      }
      return;
    case Key.Direction:
      if (!DIRECTION_WORDS.includes(v.toLowerCase())) throw bad(DIRECTION_NAMES.join(', '));
      return;
    case Key.Group:
    case Key.SourceGroup:
    case Key.DestinationGroup:
      if (!GROUP_NAME.test(v)) throw bad('a group name from networks');
      return;
    case Key.Protocol:
      if (!intRange(v, 255) && PROTOCOLS[v.toLowerCase()] === undefined) throw bad('a protocol number 0-255 (or a range such as 6-17) or a name such as tcp, udp, icmp');
      return;
    case Key.TcpFlags:
      if (flagsValue(v) === null) throw bad('a number 0-255 or flag names joined by "+" such as syn+ack');
      return;
    case Key.Vlan:
      if (!intRange(v, 4095)) throw bad('a VLAN id 0-4095 or a range such as 100-199');
      return;
    case Key.IcmpType:
    case Key.IcmpCode:
      if (!intRange(v, 255)) throw bad('a number 0-255 or a range such as 3-5');
      return;
    case Key.Dscp:
      if (!intRange(v, 63)) throw bad('a DSCP value 0-63 or a range such as 40-47');
      return;
    case Key.InputIfIndex:
    case Key.OutputIfIndex:
    case Key.SrcAs:
    case Key.DstAs:
    case Key.RemoteAs:
      if (!intRange(v, U32_MAX)) throw bad(`a number 1-${U32_MAX} or a range such as 64512-65534`);
      return;
    default:
      if (!intRange(v, 65535)) throw bad('a port 0-65535 or a range such as 1000-1399');
  }
}

// ---- compiled matchers ----

export interface Matcher {
  match(rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number): boolean;
}

class And implements Matcher {
  constructor(private readonly a: Matcher, private readonly b: Matcher) {}
  match(r: FlowRecord, d: number, sg: number, dg: number): boolean {
    return this.a.match(r, d, sg, dg) && this.b.match(r, d, sg, dg);
  }
}

class Or implements Matcher {
  constructor(private readonly a: Matcher, private readonly b: Matcher) {}
  match(r: FlowRecord, d: number, sg: number, dg: number): boolean {
    return this.a.match(r, d, sg, dg) || this.b.match(r, d, sg, dg);
  }
}

class Not implements Matcher {
  constructor(private readonly a: Matcher) {}
  match(r: FlowRecord, d: number, sg: number, dg: number): boolean {
    return !this.a.match(r, d, sg, dg);
  }
}

/** ipsource / ipdestination / localhost / remotehost against a set of prefixes (longest-match table, both families). */
class AddressCmp implements Matcher {
  constructor(private readonly key: number, private readonly table: PrefixTable<boolean>, private readonly negate: boolean) {}
  match(r: FlowRecord, d: number): boolean {
    const side = addressIsSource(this.key, r, d);
    if (side < 0) return false;
    const src = side === 1;
    let hit: boolean | undefined;
    // `| 0`: an address ≥ 128.0.0.0 is a double as uint32 and would be boxed (allocated) when passed to
    // a call V8 does not inline; as int32 it stays a small integer (lookup4 only shifts it with >>>)
    if (r.ipVersion === IpVersion.V4) hit = this.table.lookup4((src ? r.src4 : r.dst4) | 0);
    else hit = this.table.lookup6(src ? r.src6 : r.dst6);
    return (hit === true) !== this.negate;
  }
}

/** exporter against prefixes; the exporter is text set once per datagram, so the last answer is kept. */
class ExporterCmp implements Matcher {
  private last = '';
  private lastHit = false;
  constructor(private readonly table: PrefixTable<boolean>, private readonly negate: boolean) {}
  match(r: FlowRecord): boolean {
    if (r.exporter !== this.last) {
      this.last = r.exporter;
      const a = parseAddressBytes(r.exporter);
      const b = a?.bytes;
      this.lastHit = !b ? false : a.v6
        ? this.table.lookup6(Uint8Array.from(b)) === true
        : this.table.lookup4(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) === true;
    }
    return this.lastHit !== this.negate;
  }
}

/** Any numeric key (ports, protocol, direction, groups, ICMP, VLAN, flags) against ranges [lo, hi]. */
class NumberCmp implements Matcher {
  constructor(private readonly key: number, private readonly ranges: Float64Array, private readonly negate: boolean) {}
  match(r: FlowRecord, d: number, sg: number, dg: number): boolean {
    const v = numericKey(this.key, r, d, sg, dg);
    if (v < 0) return false;
    const rs = this.ranges;
    let hit = false;
    for (let i = 0; i < rs.length; i += 2) if (v >= rs[i]! && v <= rs[i + 1]!) { hit = true; break; }
    return hit !== this.negate;
  }
}

/** A filter names a group that `networks` does not define. */
export class UnknownGroupError extends FlowbridgeError {
  constructor(readonly group: string, readonly pos: number) {
    super(`at ${pos}: unknown group "${group}"`);
  }
}

function compileCmp(n: Extract<FilterNode, { op: 'cmp' }>, groupNames: readonly string[]): Matcher {
  if (isAddressKey(n.key) || n.key === Key.Exporter) {
    const t = new PrefixTable<boolean>();
    for (const v of n.values) t.insert(v, true);
    return n.key === Key.Exporter ? new ExporterCmp(t, n.negate) : new AddressCmp(n.key, t, n.negate);
  }
  const ranges: number[] = [];
  for (let i = 0; i < n.values.length; i++) {
    const v = n.values[i]!;
    const lower = v.toLowerCase();
    switch (n.key) {
      case Key.Direction: { const d = DIRECTION_WORDS.indexOf(lower); ranges.push(d, d); break; }
      case Key.Group:
      case Key.SourceGroup:
      case Key.DestinationGroup: {
        const g = groupNames.indexOf(v);
        if (g < 0) throw new UnknownGroupError(v, n.at[i]!);
        ranges.push(g, g);
        break;
      }
      case Key.Protocol: {
        const p = PROTOCOLS[lower];
        ranges.push(...(p !== undefined ? [p, p] : intRange(v, 255)!));
        break;
      }
      case Key.TcpFlags: { const f = flagsValue(v)!; ranges.push(f, f); break; }
      case Key.Dscp: ranges.push(...intRange(v, 63)!); break;
      default: ranges.push(...intRange(v, U32_MAX)!); // checkValue bounded it for its key
    }
  }
  return new NumberCmp(n.key, Float64Array.from(ranges), n.negate);
}

/** Turns a parsed filter into a matcher; group names resolve against the classifier's groups. */
export function compileFilter(n: FilterNode, groupNames: readonly string[]): Matcher {
  switch (n.op) {
    case 'and': return new And(compileFilter(n.a, groupNames), compileFilter(n.b, groupNames));
    case 'or': return new Or(compileFilter(n.a, groupNames), compileFilter(n.b, groupNames));
    case 'not': return new Not(compileFilter(n.a, groupNames));
    default: return compileCmp(n, groupNames);
  }
}
