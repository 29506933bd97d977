// Interface names per exporter and ifIndex: learned from NetFlow v9/IPFIX options data (interfaceName,
// IE 82, else interfaceDescription, IE 83) and configured (`interfaces`, which wins). Keyed by exporter
// and ifIndex only, not by observation domain: an ifIndex is the device's SNMP index, and the views and
// interface counters that get the names know the exporter and the ifIndex, nothing more. The options
// data come from the wire, so what is learned is bounded: per exporter (new names past its share are
// refused) and in total (the oldest learned is forgotten), both counted.
import { Metrics, type Counter, type Gauge } from '../lib/counters.js';

export const INTERFACE_NAMES_DEFAULTS = {
  /** Learned names over all exporters; past it the least recently learned is forgotten. */
  maxNames: 65_536,
  /** Learned names of one exporter; past it its new ones are refused (a spoofed source stays in its share). */
  maxPerExporter: 16_384,
} as const;

/** Longest name kept, in characters: longer ones are cut (learned) or refused (configured). */
export const MAX_IF_NAME = 64;
/** Bytes of a wire text decoded at most: MAX_IF_NAME characters of up to 4 UTF-8 bytes. */
const MAX_NAME_BYTES = MAX_IF_NAME * 4;
const MAX_IF_INDEX = 4294967295;

/** Characters never kept in a name: C0/C1 controls, format characters (bidi overrides), line separators. */
export const NAME_CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * A wire text as a name: cut at the first NUL (C strings padded to a fixed length), decoded as UTF-8
 * (at most MAX_NAME_BYTES of it), controls replaced by "_", trimmed, cut to MAX_IF_NAME characters.
 * '' when nothing is left. The caller has bounds-checked [at, at + len) through its Reader.
 */
export function wireName(buf: Buffer, at: number, len: number): string {
  const max = at + Math.min(len, MAX_NAME_BYTES);
  let end = at;
  while (end < max && buf[end] !== 0) end++;
  return end === at ? '' : cleanName(buf.toString('utf8', at, end));
}

/** Controls replaced by "_", surrounding white space trimmed, at most MAX_IF_NAME characters. */
export function cleanName(text: string): string {
  const s = text.replace(NAME_CONTROL, '_').trim();
  if (s.length <= MAX_IF_NAME) return s;
  // by code points, so a character outside the BMP is never cut in half
  return Array.from(s).slice(0, MAX_IF_NAME).join('').trimEnd();
}

/** What `interfaces` configures: canonical exporter address → ifIndex (decimal text) → name. */
export type ConfiguredNames = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** The lookup the summary labelling needs (aggregate/interface-labels.ts). */
export interface InterfaceNameLookup {
  /** Names known, configured or learned; 0 lets a caller skip the lookups. */
  readonly size: number;
  name(exporter: string, ifIndex: number): string | undefined;
}

export interface InterfaceNamesOptions {
  maxNames?: number;
  maxPerExporter?: number;
  /** interface_names_learned_total, interface_names_dropped_total{reason}, interface_names_held */
  metrics?: Metrics;
}

interface Learned {
  name: string;
  /** from interfaceDescription: an interfaceName for the same interface replaces it, never the reverse */
  fromDescription: boolean;
}

const key = (exporter: string, ifIndex: number): string => `${exporter}|${ifIndex}`;

export class InterfaceNames implements InterfaceNameLookup {
  private readonly maxNames: number;
  private readonly maxPerExporter: number;
  /** exporter|ifIndex → name, least recently learned first */
  private readonly learned = new Map<string, Learned>();
  /** learned names per exporter (an exporter is here while it has one) */
  private readonly perExporter = new Map<string, number>();
  private configured = new Map<string, string>();
  /** new or changed names learned */
  readonly learnedTotal: Counter;
  /** new names refused: their exporter had maxPerExporter */
  readonly refused: Counter;
  /** names forgotten to make room past maxNames */
  readonly evicted: Counter;
  private readonly gauge: Gauge;

  constructor(opts: InterfaceNamesOptions = {}) {
    this.maxNames = Math.max(1, opts.maxNames ?? INTERFACE_NAMES_DEFAULTS.maxNames);
    this.maxPerExporter = Math.max(1, opts.maxPerExporter ?? INTERFACE_NAMES_DEFAULTS.maxPerExporter);
    const m = opts.metrics ?? new Metrics();
    this.learnedTotal = m.counter('interface_names_learned_total', 'Interface names learned (new or changed) from NetFlow v9/IPFIX options data');
    const help = 'Interface names not kept: exporter (its share was full, the new name refused), evicted (the oldest forgotten past the total cap)';
    this.refused = m.counter('interface_names_dropped_total', help, { reason: 'exporter' });
    this.evicted = m.counter('interface_names_dropped_total', help, { reason: 'evicted' });
    this.gauge = m.gauge('interface_names_held', 'Interface names held from options data');
  }

  /** Names known, configured or learned. */
  get size(): number {
    return this.learned.size + this.configured.size;
  }

  /** Learned names held. */
  get learnedSize(): number {
    return this.learned.size;
  }

  /**
   * One name from options data (already cleaned: wireName). Returns whether it is held now. A name
   * learned again moves to the newest; a description never replaces a name.
   */
  learn(exporter: string, ifIndex: number, name: string, fromDescription: boolean): boolean {
    if (name === '' || !Number.isInteger(ifIndex) || ifIndex < 1 || ifIndex > MAX_IF_INDEX) return false;
    const k = key(exporter, ifIndex);
    const old = this.learned.get(k);
    if (old !== undefined) {
      this.learned.delete(k);
      if (old.fromDescription || !fromDescription) {
        if (old.name !== name || old.fromDescription !== fromDescription) this.learnedTotal.inc();
        old.name = name;
        old.fromDescription = fromDescription;
      }
      this.learned.set(k, old);
      return true;
    }
    const n = this.perExporter.get(exporter) ?? 0;
    if (n >= this.maxPerExporter) {
      this.refused.inc();
      return false;
    }
    if (this.learned.size >= this.maxNames) this.evictOldest();
    this.learned.set(k, { name, fromDescription });
    this.perExporter.set(exporter, n + 1);
    this.learnedTotal.inc();
    this.gauge.set(this.learned.size);
    return true;
  }

  private evictOldest(): void {
    const [k] = this.learned.keys();
    if (k === undefined) return;
    this.learned.delete(k);
    const exporter = k.slice(0, k.lastIndexOf('|'));
    const n = (this.perExporter.get(exporter) ?? 1) - 1;
    if (n > 0) this.perExporter.set(exporter, n);
    else this.perExporter.delete(exporter);
    this.evicted.inc();
  }

  /** Replaces the configured names (start and reload); they win over learned ones. */
  configure(names: ConfiguredNames): void {
    const m = new Map<string, string>();
    for (const [exporter, byIndex] of Object.entries(names)) {
      for (const [ifIndex, name] of Object.entries(byIndex)) m.set(key(exporter, Number(ifIndex)), name);
    }
    this.configured = m;
  }

  name(exporter: string, ifIndex: number): string | undefined {
    const k = key(exporter, ifIndex);
    return this.configured.get(k) ?? this.learned.get(k)?.name;
  }

  /** The learned names for the state file, oldest first: [exporter, ifIndex, name, 1 if from a description]. */
  serialize(): { entries: [string, number, string, number][] } {
    const entries: [string, number, string, number][] = [];
    for (const [k, v] of this.learned) {
      const bar = k.lastIndexOf('|');
      entries.push([k.slice(0, bar), Number(k.slice(bar + 1)), v.name, v.fromDescription ? 1 : 0]);
    }
    return { entries };
  }

  /**
   * Learns the names a state file holds (serialize()'s form), within the same bounds and cleaning as
   * from the wire; malformed entries are skipped. Returns how many are held.
   */
  restore(doc: unknown): number {
    const entries = (doc as { entries?: unknown } | null)?.entries;
    if (!Array.isArray(entries)) return 0;
    let n = 0;
    for (const e of entries as unknown[]) {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number' || typeof e[2] !== 'string') continue;
      if (this.learn(e[0], e[1], cleanName(e[2]), e[3] === 1)) n++;
    }
    return n;
  }

  clear(): void {
    this.learned.clear();
    this.perExporter.clear();
    this.gauge.set(0);
  }
}
