// Data sets held until their template arrives: copied, bounded per template, per exporter and in all,
// and reported as template misses when they expire or are dropped. Part of the template cache
// (templates.ts), which shares its exporter accounting (template-quota.ts) with it.
import { TemplateMissingError } from '../lib/errors.js';
import type { ErrorReporter } from './types.js';
import type { ExporterTable } from './template-quota.js';
import { PendingList, PendingSet, type ExporterUse } from './template-scope.js';

/** Charged per held set on top of its bytes, so a flood of tiny sets is bounded too. */
export const PENDING_OVERHEAD = 64;

export interface PendingConfig {
  pendingTtlMs: number;
  pendingMaxSets: number;
  pendingMaxSetsPerExporter: number;
  pendingMaxBytesPerExporter: number;
  pendingMaxBytes: number;
}

export interface PendingStats {
  pendingHeld: number;
  pendingDecoded: number;
  pendingExpired: number;
  pendingDropped: number;
}

export class PendingStore {
  /** Insertion-ordered, so the first list holds (about) the oldest sets when the byte budget overflows. */
  private readonly lists = new Map<string, PendingList>();
  sets = 0;
  bytes = 0;

  constructor(private readonly config: PendingConfig, private readonly stats: PendingStats,
    private readonly exporters: ExporterTable, private readonly report: ErrorReporter) {}

  /** Copies a data set; false when it could not be held (reported as a miss). */
  hold(key: string, exporter: string, version: number, domain: number, id: number, data: Uint8Array,
    exportMs: number, sysUptimeMs: number, nowMs: number): boolean {
    const cfg = this.config;
    const cost = data.length + PENDING_OVERHEAD;
    let list = this.lists.get(key);
    if (list) this.expire(list, nowMs);
    if (cost > cfg.pendingMaxBytes || cost > cfg.pendingMaxBytesPerExporter || cfg.pendingMaxSets < 1 || cfg.pendingMaxSetsPerExporter < 1) {
      this.stats.pendingDropped++;
      this.miss(exporter, version, domain, id);
      return false;
    }
    const use = this.exporters.use(exporter);
    list = this.lists.get(key) ?? new PendingList(key, use, version, domain, id);
    while (list.sets.length >= cfg.pendingMaxSets) this.dropFirst(list);
    // the exporter's own oldest sets give way first: one source cannot push out another's
    while (use.pendingSets > 0 && (use.pendingSets >= cfg.pendingMaxSetsPerExporter || use.pendingBytes + cost > cfg.pendingMaxBytesPerExporter)) {
      this.dropFirst(use.lists.values().next().value as PendingList);
    }
    while (this.bytes + cost > cfg.pendingMaxBytes && this.lists.size > 0) {
      this.dropFirst(this.lists.values().next().value as PendingList);
    }
    // the drops may have removed an emptied list (this one included) or released the exporter
    this.exporters.use(exporter, use);
    if (!this.lists.has(key)) {
      this.lists.set(key, list);
      use.lists.add(list);
    }
    // a copy of its own: a small Buffer.from() is a slice of a shared 8 KB pool block, which a held set
    // would pin, so held bytes would not bound the memory they hold
    const copy = Buffer.allocUnsafeSlow(data.length);
    copy.set(data);
    list.sets.push(new PendingSet(copy, exportMs, sysUptimeMs, nowMs));
    this.account(use, 1, cost);
    this.stats.pendingHeld++;
    return true;
  }

  /** Hands back (and forgets) the unexpired sets held under `key`. */
  take(key: string, nowMs: number): PendingSet[] | undefined {
    if (this.sets === 0) return undefined;
    const list = this.lists.get(key);
    if (!list) return undefined;
    this.expire(list, nowMs);
    if (list.sets.length === 0) return undefined;
    this.unlist(list);
    let bytes = 0;
    for (const p of list.sets) bytes += p.data.length + PENDING_OVERHEAD;
    this.account(list.use, -list.sets.length, -bytes);
    this.stats.pendingDecoded += list.sets.length;
    return list.sets;
  }

  /** Drops the expired sets of every list (each a counted miss). */
  sweep(nowMs: number): void {
    for (const list of this.lists.values()) this.expire(list, nowMs);
  }

  /** Drops every held set (each a counted miss). */
  dropAll(): void {
    for (const list of this.lists.values()) while (list.sets.length) this.dropFirst(list);
  }

  clear(): void {
    this.lists.clear();
    this.sets = this.bytes = 0;
  }

  private expire(list: PendingList, nowMs: number): void {
    const sets = list.sets;
    let i = 0, bytes = 0;
    while (i < sets.length && nowMs - sets[i]!.heldAt > this.config.pendingTtlMs) bytes += sets[i++]!.data.length + PENDING_OVERHEAD;
    if (i === 0) return;
    sets.splice(0, i);
    this.stats.pendingExpired += i;
    if (sets.length === 0) this.unlist(list);
    this.account(list.use, -i, -bytes);
    for (let k = 0; k < i; k++) this.miss(list.use.exporter, list.version, list.domain, list.id);
  }

  private dropFirst(list: PendingList): void {
    const p = list.sets.shift();
    if (list.sets.length === 0) this.unlist(list);
    if (p === undefined) return;
    this.stats.pendingDropped++;
    this.account(list.use, -1, -(p.data.length + PENDING_OVERHEAD));
    this.miss(list.use.exporter, list.version, list.domain, list.id);
  }

  private unlist(list: PendingList): void {
    this.lists.delete(list.key);
    list.use.lists.delete(list);
  }

  /** Held sets and bytes added (negative: removed), in all and for the exporter. */
  private account(use: ExporterUse, sets: number, bytes: number): void {
    this.sets += sets;
    this.bytes += bytes;
    use.pendingSets += sets;
    use.pendingBytes += bytes;
    if (sets < 0) this.exporters.release(use);
  }

  private miss(exporter: string, version: number, domain: number, id: number): void {
    this.report(new TemplateMissingError(version, domain, id).at(exporter, version, domain, id));
  }
}
