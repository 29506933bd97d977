// The records of the template cache: an exporter's share (ExporterUse) owns its scopes (the templates
// of one version|domain) and its lists of held data sets. They point at each other, so they live here,
// below the cache (templates.ts), its quotas (template-quota.ts) and held sets (template-pending.ts).
import type { Counter } from '../lib/counters.js';
import type { Template } from './fields.js';

/** Why a template was not cached: the exporter's own quota, or the global caps with nothing to evict. */
export type RefuseReason = 'exporter_templates' | 'exporter_bytes' | 'global';

/** One exporter's share of the cache; it exists while the exporter holds a template or a held set. */
export class ExporterUse {
  templates = 0;
  bytes = 0;
  pendingSets = 0;
  pendingBytes = 0;
  /** when it last taught or refreshed a template */
  lastMs = 0;
  /** one of its templates decoded a data set: spoofed template floods rarely do, so those go first */
  active = false;
  readonly scopes = new Set<TemplateScope>();
  /** its lists of held sets, oldest first */
  readonly lists = new Set<PendingList>();
  refused: Partial<Record<RefuseReason, Counter>> | undefined = undefined;
  evicted: Counter | undefined = undefined;
  constructor(readonly exporter: string) {}
}

export interface Slot {
  tpl: Template;
  seenMs: number;
  /** templateBytes() of the layout, charged to the exporter and the cache */
  cost: number;
}

export function scopeKey(exporter: string, version: number, domain: number): string {
  return `${exporter}|${version}|${domain}`;
}

/** The templates of one exporter|version|domain (cacheable by decoders, see TemplateCache.generation). */
export class TemplateScope {
  readonly templates = new Map<number, Slot>();
  /** its key in the cache, built once (an eviction storm removes thousands a second) */
  readonly key: string;
  constructor(readonly exporter: string, readonly version: number, readonly domain: number, readonly use: ExporterUse) {
    this.key = scopeKey(exporter, version, domain);
  }
}

/** A data set copied out of its datagram with the header context needed to decode it later. */
export class PendingSet {
  constructor(
    readonly data: Buffer, readonly exportMs: number, readonly sysUptimeMs: number, readonly heldAt: number,
  ) {}
}

/** The sets held for one exporter|version|domain|templateId, oldest first. */
export class PendingList {
  readonly sets: PendingSet[] = [];
  constructor(readonly key: string, readonly use: ExporterUse, readonly version: number, readonly domain: number,
    readonly id: number) {}
}
