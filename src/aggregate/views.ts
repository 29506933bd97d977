// Views: summaries by any flow key tuple, declared in the configuration (`views`, docs/output.md). A
// view's tuples get dense ids in a KeyIndex shared by the open intervals, as hosts do (keyindex.ts):
// a record's tuple is encoded into integer words and hashed once, however many intervals it spans,
// and each interval adds its portion at the id's offset. Addresses are words, exporters small ids,
// so no string is built per record; key values become text only in summarize(). IPv4 and IPv6
// records have an index each (Shape): an IPv4 address is one word, so a remote-host view is find1,
// one probe of one cache line, as the hosts are.
import { DIRECTION_NAMES, type DirectionName } from '../classify/direction.js';
import { compileFilter, parseFilter, type Matcher } from '../flow/filter.js';
import { addressIsSource, groupName, isAddressKey, Key, keyIndex, numericKey, type KeyName } from '../flow/keys.js';
import { IpVersion, ipv4ToString, ipv6ToString, type FlowRecord } from '../flow/record.js';
import { compactIndex, Counters, KeyIndex, PAGE_BITS, PAGE_MASK, PagePool, word } from './keyindex.js';
import type { Totals, ViewOther, ViewRow } from './summary.js';

export const VIEW_PER = ['direction', 'none'] as const;
export type ViewPer = (typeof VIEW_PER)[number];

export interface ViewSpec {
  name: string;
  keys: KeyName[];
  /** tuples listed per interval (per direction), largest first; the rest are summed in viewsOther */
  top: number;
  /** filter expression (alerts' language, docs/alerts.md); '' = every record */
  filter: string;
  /** "direction": counted per direction (an interface's own direction with the interface key); "none": not */
  per: ViewPer;
}

/** What a view leaves out. */
export const VIEW_DEFAULTS = { top: 100, per: 'direction' as ViewPer, filter: '' };
/**
 * The views counted unless the configuration says otherwise (`views: []` turns them off): traffic per
 * interface and per remote host. Their cost per record is in docs/performance.md.
 */
export const DEFAULT_VIEWS: readonly ViewSpec[] = [
  { name: 'interfaces', keys: ['exporter', 'interface'], ...VIEW_DEFAULTS },
  { name: 'remotehosts', keys: ['remotehost'], ...VIEW_DEFAULTS },
];

/** Exporters the views tell apart (an exporter past them counts in its views' "other"). */
const MAX_EXPORTERS = 65_536;
/** viewsOther key of a view counted per: none */
const ALL = 'all';

/** How a view encodes a record's tuple: the default views' key lists have a path of their own. */
const enum Form { Any, Address, Interface }

/** A view's key layout for one address family: an address is one word in IPv4 records, four in IPv6 ones. */
export class Shape {
  readonly index: KeyIndex;
  readonly pages: PagePool;
  /** the prepared record's tuple */
  readonly words: Int32Array;

  constructor(readonly width: number, stride: number, maxTuples: number) {
    // one word: find1 (key beside the id in its slot); else findN, which needs two words at least
    this.index = new KeyIndex(width === 1 ? 1 : Math.max(width, 2), maxTuples, 8);
    this.words = new Int32Array(Math.max(width, 2));
    this.pages = new PagePool(stride, (maxTuples >>> PAGE_BITS) + 1);
  }

  /** Id of the prepared tuple, created when absent and `room`; -1 when absent without room. */
  find(room: boolean): number {
    const w = this.words;
    switch (this.width) {
      case 1: return this.index.find1(w[0]!, 0, room);
      case 2: return this.index.find2(w[0]!, w[1]!, room);
      case 4: return this.index.find4(w[0]!, w[1]!, w[2]!, w[3]!, 0, room);
      default: return this.index.findN(w, room);
    }
  }
}

/** One configured view, compiled: its key words, filter, ids, and the tuples of the record prepared last. */
export class View {
  readonly keys: Uint8Array;
  /** IPv4 records and views without an address key; IPv6 records (null without an address key) */
  readonly s4: Shape;
  readonly s6: Shape | null;
  /** doubles per id: a triple per direction, or one */
  readonly stride: number;
  readonly perDirection: boolean;
  /** key position of the interface key, -1 when the view has none */
  readonly ifKey: number;
  /** the direction names this view reports (in and out only with the interface key) */
  readonly directions: readonly number[];
  private readonly form: Form;
  private readonly matcher: Matcher | null;
  // the record prepared last: its shape (0 = s4, 1 = s6) and up to two tuples (an interface view counts
  // the input and output side); id -1 = over the cap ("other"); at = offset in the id's page; d = offset
  // of the direction's triple
  n = 0;
  sh = 0;
  id0 = -1; at0 = 0; d0 = 0;
  id1 = -1; at1 = 0; d1 = 0;

  constructor(readonly spec: ViewSpec, groupNames: readonly string[], readonly maxTuples: number) {
    this.keys = Uint8Array.from(spec.keys, (k) => keyIndex(k));
    let addrs = 0;
    for (const k of this.keys) if (isAddressKey(k)) addrs++;
    this.ifKey = this.keys.indexOf(Key.Interface);
    this.perDirection = spec.per === 'direction';
    // keys that exist for in and out traffic only (or an interface's two sides) need two triples, not four
    const twoWay = this.ifKey >= 0 || this.keys.some((k) => k === Key.LocalHost || k === Key.RemoteHost || k === Key.RemoteAs);
    this.stride = !this.perDirection ? 3 : twoWay ? 6 : 12;
    const others = this.keys.length - addrs;
    this.s4 = new Shape(others + addrs, this.stride, maxTuples);
    this.s6 = addrs > 0 ? new Shape(others + 4 * addrs, this.stride, maxTuples) : null;
    this.matcher = spec.filter.trim() === '' ? null : compileFilter(parseFilter(spec.filter), groupNames);
    this.directions = !this.perDirection ? [0] : twoWay ? [0, 1] : [0, 1, 2, 3];
    const ks = this.keys;
    this.form = ks.length === 1 && addrs === 1 ? Form.Address
      : ks.length === 2 && ks[0] === Key.Exporter && ks[1] === Key.Interface ? Form.Interface : Form.Any;
  }

  /** Tuples the view holds ids for, both families. */
  get size(): number {
    return this.s4.index.size + (this.s6 === null ? 0 : this.s6.index.size);
  }

  /** Encodes the record's tuple(s) and looks up their ids; n = 0 when it does not count here. */
  prepare(rec: FlowRecord, d: number, sg: number, dg: number, exporters: ViewExporters): void {
    this.n = 0;
    if (this.matcher !== null && !this.matcher.match(rec, d, sg, dg)) return;
    // the default views have a path of their own: a generic tuple costs more (docs/performance.md)
    if (this.form === Form.Address) this.prepareAddress(rec, d);
    else if (this.form === Form.Interface) this.prepareInterface(rec, exporters);
    else this.prepareAny(rec, d, sg, dg, exporters);
  }

  /** One address key alone (remotehost, localhost, ipsource, ipdestination). */
  private prepareAddress(rec: FlowRecord, d: number): void {
    const side = addressIsSource(this.keys[0]!, rec, d);
    if (side < 0) return;
    const room = this.size < this.maxTuples;
    let id: number;
    if (rec.ipVersion === IpVersion.V6) {
      const a = side === 1 ? rec.src6 : rec.dst6;
      id = this.s6!.index.find4(word(a, 0), word(a, 4), word(a, 8), word(a, 12), 0, room);
      this.sh = 1;
    } else {
      id = this.s4.index.find1((side === 1 ? rec.src4 : rec.dst4) | 0, 0, room);
      this.sh = 0;
    }
    this.put(id, this.perDirection ? d * 3 : 0);
  }

  /** exporter and interface: the input interface received the record (in), the output one sent it (out). */
  private prepareInterface(rec: FlowRecord, exporters: ViewExporters): void {
    const inIf = rec.inIf, outIf = rec.outIf;
    if (inIf <= 0 && outIf <= 0) return;
    const x = exporters.id(rec.exporter), ix = this.s4.index;
    this.sh = 0;
    if (inIf > 0) {
      this.put(x < 0 ? -1 : ix.find2(x, inIf | 0, ix.size < this.maxTuples), 0);
    }
    if (outIf > 0) {
      this.put(x < 0 ? -1 : ix.find2(x, outIf | 0, ix.size < this.maxTuples), this.perDirection ? 3 : 0);
    }
  }

  private prepareAny(rec: FlowRecord, d: number, sg: number, dg: number, exporters: ViewExporters): void {
    const v6 = this.s6 !== null && rec.ipVersion === IpVersion.V6;
    const shape = v6 ? this.s6! : this.s4, w = shape.words, keys = this.keys;
    let at = 0, ifAt = -1, full = false;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (isAddressKey(k)) {
        const side = addressIsSource(k, rec, d);
        if (side < 0) return;
        if (v6) {
          const a = side === 1 ? rec.src6 : rec.dst6;
          w[at] = word(a, 0); w[at + 1] = word(a, 4); w[at + 2] = word(a, 8); w[at + 3] = word(a, 12);
          at += 4;
        } else w[at++] = (side === 1 ? rec.src4 : rec.dst4) | 0;
      } else if (k === Key.Exporter) {
        const id = exporters.id(rec.exporter);
        if (id < 0) full = true;
        w[at++] = id;
      } else if (k === Key.Interface) {
        ifAt = at++; // set per side below
      } else {
        const v = numericKey(k, rec, d, sg, dg);
        if (v < 0) return;
        w[at++] = v;
      }
    }
    this.sh = v6 ? 1 : 0;
    if (ifAt < 0) {
      this.put(full ? -1 : shape.find(this.size < this.maxTuples), this.perDirection ? d * 3 : 0);
      return;
    }
    if (rec.inIf > 0) {
      w[ifAt] = rec.inIf;
      this.put(full ? -1 : shape.find(this.size < this.maxTuples), 0);
    }
    if (rec.outIf > 0) {
      w[ifAt] = rec.outIf;
      this.put(full ? -1 : shape.find(this.size < this.maxTuples), this.perDirection ? 3 : 0);
    }
  }

  /** Records one tuple of the prepared record: its id and the offset of direction triple `d` (0 or 3 × direction). */
  private put(id: number, d: number): void {
    const at = (id & PAGE_MASK) * this.stride + d;
    if (this.n === 0) { this.id0 = id; this.d0 = d; this.at0 = at; this.n = 1; }
    else { this.id1 = id; this.d1 = d; this.at1 = at; this.n = 2; }
  }

  /** The key object of tuple `id` of shape `sh`, built from its words (summary time only). */
  keyOf(sh: number, id: number, exporters: ViewExporters, groupNames: readonly string[]): Record<string, string | number> {
    const out: Record<string, string | number> = {};
    const shape = sh === 0 ? this.s4 : this.s6!, ks = shape.index.keys;
    let at = id * shape.index.width;
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]!, name = this.spec.keys[i]!;
      if (isAddressKey(k)) {
        if (sh === 0) out[name] = ipv4ToString(ks[at++]! >>> 0);
        else {
          const bytes = new Uint8Array(16), dv = new DataView(bytes.buffer);
          for (let j = 0; j < 4; j++) dv.setInt32(4 * j, ks[at + j]!);
          out[name] = ipv6ToString(bytes);
          at += 4;
        }
        continue;
      }
      const v = ks[at++]!;
      if (k === Key.Exporter) out[name] = exporters.names[v] ?? '';
      else if (k === Key.Direction) out[name] = DIRECTION_NAMES[v] ?? String(v);
      else if (k === Key.Group || k === Key.SourceGroup || k === Key.DestinationGroup) out[name] = groupName(v, groupNames);
      else out[name] = v >>> 0; // AS numbers and ifIndexes are unsigned 32-bit
    }
    return out;
  }
}

/** Exporter text to a small id, for views keyed by exporter (records of one datagram share the string). */
export class ViewExporters {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  private last = '';
  private lastId = -1;

  id(exporter: string): number {
    if (exporter === this.last && this.lastId >= 0) return this.lastId;
    let id = this.ids.get(exporter);
    if (id === undefined) {
      if (this.names.length >= MAX_EXPORTERS) return -1;
      id = this.names.length;
      this.ids.set(exporter, id);
      this.names.push(exporter);
    }
    this.last = exporter;
    return (this.lastId = id);
  }
}

/** The views of the open intervals: compiled once, ids shared by the intervals. */
export class OpenViews {
  views: View[] = [];
  readonly exporters = new ViewExporters();

  constructor(readonly maxTuples: number) {}

  /**
   * Applies a list of views (start, reload): a view whose definition is unchanged keeps its ids, and
   * the open intervals keep its counts; a new or changed one starts empty. Throws FilterError or
   * UnknownGroupError (checkViews reports them first) and then changes nothing.
   */
  set(specs: readonly ViewSpec[], groupNames: readonly string[]): void {
    const old = new Map(this.views.map((v) => [JSON.stringify(v.spec), v]));
    this.views = specs.map((s) => old.get(JSON.stringify(s)) ?? new View(s, groupNames, this.maxTuples));
  }

  prepare(rec: FlowRecord, d: number, sg: number, dg: number): void {
    const vs = this.views;
    for (let i = 0; i < vs.length; i++) vs[i]!.prepare(rec, d, sg, dg, this.exporters);
  }

  /** Drops the ids no open interval uses, where worth it (between records). */
  compact(perWindow: readonly ViewCounters[][]): void {
    this.views.forEach((v, i) => {
      if (v.s4.index.crowded()) compactIndex(v.s4.index, perWindow.map((list) => list[i]!.c4));
      const s6 = v.s6;
      if (s6 !== null && s6.index.crowded()) compactIndex(s6.index, perWindow.map((list) => list[i]!.c6!));
    });
  }
}

/** One interval's counters of one view. */
export class ViewCounters {
  /** per shape of the view (s4, s6) */
  readonly c4: Counters;
  readonly c6: Counters | null;
  /** per direction: the tuples past the cap (and, in summaries, past top) */
  readonly other = new Float64Array(12);
  /** records with a tuple past the cap this interval */
  capped = 0;

  constructor(readonly view: View) {
    this.c4 = new Counters(view.s4.pages);
    this.c6 = view.s6 === null ? null : new Counters(view.s6.pages);
  }

  reset(): void {
    this.c4.reset();
    this.c6?.reset();
    this.other.fill(0);
    this.capped = 0;
  }

  /** Adds one portion of the record the view prepared. */
  add(b: number, p: number, f: number, isLast: boolean): void {
    const v = this.view;
    if (v.n === 0) return;
    const c = v.sh === 0 ? this.c4 : this.c6!;
    this.one(c, v.id0, v.at0, v.d0, b, p, f, isLast);
    if (v.n === 2) this.one(c, v.id1, v.at1, v.d1, b, p, f, isLast);
  }

  private one(c: Counters, id: number, at: number, d: number, b: number, p: number, f: number, isLast: boolean): void {
    const a = id >= 0 ? c.at(id) : this.other, o = id >= 0 ? at : d;
    a[o] += b; a[o + 1] += p; a[o + 2] += f;
    if (id < 0 && isLast) this.capped++;
  }
}

/** The counters of `views` for a window: those it has for a view kept, new ones for the others. */
export function syncViewCounters(have: ViewCounters[], views: readonly View[]): ViewCounters[] {
  if (have.length === views.length && have.every((c, i) => c.view === views[i])) return have;
  const byView = new Map(have.map((c) => [c.view, c]));
  const out = views.map((v) => byView.get(v) ?? new ViewCounters(v));
  for (const c of have) if (!out.includes(c)) c.reset();
  return out;
}

export interface ViewsSummary {
  views: Record<string, ViewRow[]>;
  viewsOther: Record<string, ViewOther>;
  /** per view: records whose tuple was past the cap (only views that had some) */
  capped: Record<string, number>;
}

/** Top `top` tuples per direction of each view, the rest in viewsOther (strings built here only). */
export function summarizeViews(list: readonly ViewCounters[], exporters: ViewExporters,
  groupNames: readonly string[]): ViewsSummary {
  const out: ViewsSummary = { views: {}, viewsOther: {}, capped: {} };
  for (const vc of list) {
    const v = vc.view, name = v.spec.name, rows: ViewRow[] = [], other: ViewOther = {};
    if (vc.capped > 0) out.capped[name] = vc.capped;
    for (const d of v.directions) {
      const label: DirectionName | typeof ALL = v.perDirection ? DIRECTION_NAMES[d]! : ALL;
      const o: Totals = { bytes: vc.other[d * 3]!, packets: vc.other[d * 3 + 1]!, flows: vc.other[d * 3 + 2]! };
      other[label] = o;
      const found: Found[] = [];
      collect(found, 0, vc.c4, v.s4.index.size, v.stride, d);
      if (vc.c6 !== null) collect(found, 1, vc.c6, v.s6!.index.size, v.stride, d);
      found.sort((a, b) => b.t.bytes - a.t.bytes || b.t.packets - a.t.packets || b.t.flows - a.t.flows || a.sh - b.sh || a.id - b.id);
      found.forEach(({ sh, id, t }, i) => {
        if (i >= v.spec.top) {
          o.bytes += t.bytes; o.packets += t.packets; o.flows += t.flows;
        } else {
          const key = v.keyOf(sh, id, exporters, groupNames);
          rows.push(v.perDirection ? { key, direction: label as DirectionName, ...t } : { key, ...t });
        }
      });
    }
    out.views[name] = rows;
    out.viewsOther[name] = other;
  }
  return out;
}

interface Found { sh: number; id: number; t: Totals }

/** Appends the tuples of one shape that counted anything in direction `d`. */
function collect(found: Found[], sh: number, c: Counters, size: number, stride: number, d: number): void {
  const pages = c.pages;
  for (let e = 0; e < size; e++) {
    const pg = pages[e >>> PAGE_BITS]!;
    if (pg.length === 0) { e |= PAGE_MASK; continue; }
    const at = (e & PAGE_MASK) * stride + d * 3;
    if (pg[at] === 0 && pg[at + 1] === 0 && pg[at + 2] === 0) continue;
    found.push({ sh, id: e, t: { bytes: pg[at]!, packets: pg[at + 1]!, flows: pg[at + 2]! } });
  }
}

/** Throws the filter's error if a view's filter names a group `groupNames` lacks (config check, reload). */
export function checkViewFilters(specs: readonly ViewSpec[], groupNames: readonly string[]): void {
  for (const s of specs) if (s.filter.trim() !== '') compileFilter(parseFilter(s.filter), groupNames);
}
