// Views: summaries by any flow key tuple, declared in the configuration (`views`, docs/output.md). A
// view's tuples get dense ids in a KeyIndex shared by the open intervals, as hosts do (keyindex.ts):
// a record's tuple is encoded into integer words and hashed once, however many intervals it spans,
// and each interval adds its portion at the id's offset. Addresses are words, exporters small ids,
// so no string is built per record; key values become text only in summarize().
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
 * The views docs/output.md suggests to start with. Not on by default: each view costs every record a
 * lookup (measured with these two: about +50 % per record on the softflowd v5 capture in-process, and
 * 20 % loss instead of under 1 % at 1M records/s over UDP; docs/performance.md).
 */
export const SUGGESTED_VIEWS: readonly ViewSpec[] = [
  { name: 'interfaces', keys: ['exporter', 'interface'], ...VIEW_DEFAULTS },
  { name: 'remotehosts', keys: ['remotehost'], ...VIEW_DEFAULTS },
];

/** Exporters the views tell apart (an exporter past them counts in its views' "other"). */
const MAX_EXPORTERS = 65_536;
/** viewsOther key of a view counted per: none */
const ALL = 'all';

/** One configured view, compiled: its key words, filter, ids, and the tuples of the record prepared last. */
export class View {
  readonly keys: Uint8Array;
  /** words per tuple: 4 per address key, 1 per other key, at least 2 (KeyIndex.findN) */
  readonly width: number;
  readonly index: KeyIndex;
  readonly pages: PagePool;
  /** doubles per id: a triple per direction, or one */
  readonly stride: number;
  readonly perDirection: boolean;
  /** word of the interface key, -1 when the view has none */
  readonly ifWord: number;
  /** the direction names this view reports (in and out only with the interface key) */
  readonly directions: readonly number[];
  private readonly matcher: Matcher | null;
  private readonly words: Int32Array;
  // the record prepared last: up to two tuples (an interface view counts the input and output side);
  // id -1 = over the cap ("other"); at = offset in the id's page; d = offset of the direction's triple
  n = 0;
  id0 = -1; at0 = 0; d0 = 0;
  id1 = -1; at1 = 0; d1 = 0;

  constructor(readonly spec: ViewSpec, groupNames: readonly string[], maxTuples: number) {
    this.keys = Uint8Array.from(spec.keys, (k) => keyIndex(k));
    let w = 0, ifWord = -1;
    for (const k of this.keys) {
      if (k === Key.Interface) ifWord = w;
      w += isAddressKey(k) ? 4 : 1;
    }
    this.width = Math.max(w, 2);
    this.words = new Int32Array(this.width);
    this.ifWord = ifWord;
    this.perDirection = spec.per === 'direction';
    this.stride = this.perDirection ? 12 : 3;
    this.index = new KeyIndex(this.width, maxTuples, 8);
    this.pages = new PagePool(this.stride, (maxTuples >>> PAGE_BITS) + 1);
    this.matcher = spec.filter.trim() === '' ? null : compileFilter(parseFilter(spec.filter), groupNames);
    this.directions = !this.perDirection ? [0] : ifWord >= 0 ? [0, 1] : [0, 1, 2, 3];
  }

  /** Encodes the record's tuple(s) and looks up their ids; n = 0 when it does not count here. */
  prepare(rec: FlowRecord, d: number, sg: number, dg: number, exporters: ViewExporters): void {
    this.n = 0;
    if (this.matcher !== null && !this.matcher.match(rec, d, sg, dg)) return;
    const w = this.words, keys = this.keys;
    let at = 0, full = false;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (isAddressKey(k)) {
        const side = addressIsSource(k, rec, d);
        if (side < 0) return;
        if (rec.ipVersion === IpVersion.V6) {
          const a = side === 1 ? rec.src6 : rec.dst6;
          w[at] = word(a, 0); w[at + 1] = word(a, 4); w[at + 2] = word(a, 8); w[at + 3] = word(a, 12);
        } else {
          // IPv4 as its IPv4-mapped IPv6 address
          w[at] = 0; w[at + 1] = 0; w[at + 2] = 0xffff; w[at + 3] = side === 1 ? rec.src4 : rec.dst4;
        }
        at += 4;
      } else if (k === Key.Exporter) {
        const id = exporters.id(rec.exporter);
        if (id < 0) full = true;
        w[at++] = id;
      } else if (k === Key.Interface) {
        at++; // set per side below
      } else {
        const v = numericKey(k, rec, d, sg, dg);
        if (v < 0) return;
        w[at++] = v;
      }
    }
    if (this.ifWord < 0) {
      this.n = 1;
      this.id0 = full ? -1 : this.index.findN(w, true);
      this.d0 = this.perDirection ? d * 3 : 0;
      this.at0 = (this.id0 & PAGE_MASK) * this.stride + this.d0;
      return;
    }
    // the interface key: the input interface received the record (in), the output one sent it (out)
    if (rec.inIf > 0) {
      w[this.ifWord] = rec.inIf;
      this.id0 = full ? -1 : this.index.findN(w, true);
      this.d0 = 0;
      this.at0 = (this.id0 & PAGE_MASK) * this.stride;
      this.n = 1;
    }
    if (rec.outIf > 0) {
      w[this.ifWord] = rec.outIf;
      const id = full ? -1 : this.index.findN(w, true), dd = this.perDirection ? 3 : 0;
      const at2 = (id & PAGE_MASK) * this.stride + dd;
      if (this.n === 0) { this.id0 = id; this.d0 = dd; this.at0 = at2; this.n = 1; }
      else { this.id1 = id; this.d1 = dd; this.at1 = at2; this.n = 2; }
    }
  }

  /** The key object of tuple `id`, built from its words (summary time only). */
  keyOf(id: number, exporters: ViewExporters, groupNames: readonly string[]): Record<string, string | number> {
    const out: Record<string, string | number> = {};
    const ks = this.index.keys;
    let at = id * this.width;
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]!, name = this.spec.keys[i]!;
      if (isAddressKey(k)) {
        const a = ks[at]!, b = ks[at + 1]!, c = ks[at + 2]!, e = ks[at + 3]!;
        if (a === 0 && b === 0 && c === 0xffff) out[name] = ipv4ToString(e >>> 0);
        else {
          const bytes = new Uint8Array(16), dv = new DataView(bytes.buffer);
          dv.setInt32(0, a); dv.setInt32(4, b); dv.setInt32(8, c); dv.setInt32(12, e);
          out[name] = ipv6ToString(bytes);
        }
        at += 4;
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
      if (v.index.crowded()) compactIndex(v.index, perWindow.map((list) => list[i]!.counters));
    });
  }
}

/** One interval's counters of one view. */
export class ViewCounters {
  readonly counters: Counters;
  /** per direction: the tuples past the cap (and, in summaries, past top) */
  readonly other = new Float64Array(12);
  /** records with a tuple past the cap this interval */
  capped = 0;

  constructor(readonly view: View) {
    this.counters = new Counters(view.pages);
  }

  reset(): void {
    this.counters.reset();
    this.other.fill(0);
    this.capped = 0;
  }

  /** Adds one portion of the record the view prepared. */
  add(b: number, p: number, f: number, isLast: boolean): void {
    const v = this.view;
    if (v.n === 0) return;
    this.one(v.id0, v.at0, v.d0, b, p, f, isLast);
    if (v.n === 2) this.one(v.id1, v.at1, v.d1, b, p, f, isLast);
  }

  private one(id: number, at: number, d: number, b: number, p: number, f: number, isLast: boolean): void {
    const a = id >= 0 ? this.counters.at(id) : this.other, o = id >= 0 ? at : d;
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
      const found: { id: number; t: Totals }[] = [];
      const pages = vc.counters.pages;
      for (let e = 0; e < v.index.size; e++) {
        const pg = pages[e >>> PAGE_BITS]!;
        if (pg.length === 0) { e |= PAGE_MASK; continue; }
        const at = (e & PAGE_MASK) * v.stride + d * 3;
        if (pg[at] === 0 && pg[at + 1] === 0 && pg[at + 2] === 0) continue;
        found.push({ id: e, t: { bytes: pg[at]!, packets: pg[at + 1]!, flows: pg[at + 2]! } });
      }
      found.sort((a, b) => b.t.bytes - a.t.bytes || b.t.packets - a.t.packets || b.t.flows - a.t.flows || a.id - b.id);
      found.forEach(({ id, t }, i) => {
        if (i >= v.spec.top) {
          o.bytes += t.bytes; o.packets += t.packets; o.flows += t.flows;
        } else {
          const key = v.keyOf(id, exporters, groupNames);
          rows.push(v.perDirection ? { key, direction: label as DirectionName, ...t } : { key, ...t });
        }
      });
    }
    out.views[name] = rows;
    out.viewsOther[name] = other;
  }
  return out;
}

/** Throws the filter's error if a view's filter names a group `groupNames` lacks (config check, reload). */
export function checkViewFilters(specs: readonly ViewSpec[], groupNames: readonly string[]): void {
  for (const s of specs) if (s.filter.trim() !== '') compileFilter(parseFilter(s.filter), groupNames);
}
