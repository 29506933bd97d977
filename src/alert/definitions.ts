// Flow definitions (sFlow-RT style: name, keys, value, filter) as the loaded configuration holds them,
// the definitions the shortcuts stand for, and the bounded per-interval table of key tuples.
import type { KeyName } from '../flow/keys.js';
import type { ThresholdSpec } from './threshold.js';

export const VALUE_NAMES = ['bytes', 'packets', 'frames', 'flows', 'bps', 'pps'] as const;
export type ValueName = (typeof VALUE_NAMES)[number];

export const SEVERITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type SeverityName = (typeof SEVERITY_NAMES)[number];

export interface EventSpec {
  /** ms during which a key tuple that raised an event does not raise another */
  suppress: number;
}

export interface FlowDefinition {
  name: string;
  keys: KeyName[];
  value: ValueName;
  /** filter expression text ('' = every record); validated when the configuration loads */
  filter: string;
  /** key tuples kept per interval (and remembered for event suppression) */
  table: number;
  event: EventSpec | null;
  threshold: ThresholdSpec | null;
  /** syslog severity of this definition's alerts; null = alerts.syslog.severity */
  severity: SeverityName | null;
}

/** What a definition leaves out: key tuples kept per interval, and ms an event's key tuple stays quiet. */
export const DEFINITION_DEFAULTS = { table: 10_000, suppress: 600_000 };

/** Which counter a value reads: bytes, packets (frames is sFlow-RT's name for packets) or flows. */
export function valueSource(v: ValueName): 'bytes' | 'packets' | 'flows' {
  return v === 'bytes' || v === 'bps' ? 'bytes' : v === 'flows' ? 'flows' : 'packets';
}

/** Rates are per second over the interval (and averaged over a window); the rest are sums. */
export function isRate(v: ValueName): boolean {
  return v === 'bps' || v === 'pps';
}

// ---- shortcuts: alerts.hosts.* and alerts.groups.* ----

export const SHORTCUT_KEYS = ['inBps', 'outBps', 'inPps', 'outPps', 'inFlows', 'outFlows'] as const;
export type ShortcutKey = (typeof SHORTCUT_KEYS)[number];
export type Shortcuts = Record<ShortcutKey, ThresholdSpec | null>;

/**
 * The definitions the shortcuts stand for. Hosts are local hosts as in the interval summary: `in` is
 * what a home host received (in and internal traffic, keyed by destination), `out` what it sent.
 * Groups likewise by the home group of the receiving or sending end.
 */
export function shortcutDefinitions(hosts: Shortcuts, groups: Shortcuts): FlowDefinition[] {
  const out: FlowDefinition[] = [];
  for (const k of SHORTCUT_KEYS) {
    const inbound = k.startsWith('in');
    const value = k.slice(inbound ? 2 : 3).toLowerCase() as ValueName;
    const dir = inbound ? 'in' : 'out';
    const h = hosts[k];
    if (h) {
      out.push({
        name: `hosts-${dir}-${value}`, keys: [inbound ? 'ipdestination' : 'ipsource'], value,
        filter: inbound ? 'direction=in,internal' : 'direction=out,internal',
        table: DEFINITION_DEFAULTS.table, event: null, threshold: h, severity: null,
      });
    }
    const g = groups[k];
    if (g) {
      out.push({
        name: `groups-${dir}-${value}`, keys: [inbound ? 'destinationgroup' : 'sourcegroup'], value, filter: '',
        table: DEFINITION_DEFAULTS.table, event: null, threshold: g, severity: null,
      });
    }
  }
  return out;
}

// ---- the bounded table ----

export class TableEntry {
  value = 0;
  constructor(readonly keys: (string | number)[], readonly exporter: string) {}
}

/**
 * Key tuples of one definition in the open interval, at most `cap`. When full, the smallest 30 % by
 * value are folded into `overflowValue` (and counted) so a flood of small tuples — a scan — cannot
 * push out the heavy ones; pruning in bulk keeps the cost per insert amortized O(log n).
 */
export class KeyTable {
  readonly entries = new Map<string, TableEntry>();
  /** value of pruned tuples this interval */
  overflowValue = 0;
  /** everything added this interval, pruned tuples included */
  total = 0;
  /** exporter of the first record this interval (for alerts over the whole definition) */
  firstExporter = '';

  constructor(readonly cap: number) {}

  get(text: string): TableEntry | undefined {
    return this.entries.get(text);
  }

  /** Adds a new tuple; returns how many tuples were pruned to make room (0 mostly). */
  insert(text: string, e: TableEntry): number {
    let pruned = 0;
    if (this.entries.size >= this.cap) pruned = this.prune();
    this.entries.set(text, e);
    return pruned;
  }

  private prune(): number {
    const target = Math.max(1, Math.floor(this.cap * 0.3));
    const values = Float64Array.from(this.entries.values(), (e) => e.value).sort();
    const cutoff = values[target - 1]!;
    let n = 0;
    for (const [k, e] of this.entries) {
      if (n >= target) break;
      if (e.value <= cutoff) {
        this.overflowValue += e.value;
        this.entries.delete(k);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.entries.clear();
    this.overflowValue = 0;
    this.total = 0;
    this.firstExporter = '';
  }
}
