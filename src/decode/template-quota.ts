// The template cache's limits and its table of exporters (what each holds, template-scope.ts) in order
// of recent use, so one source's excess is refused at its own quota and the global caps, a last
// resort, evict the least recently used exporter first.
import type { Metrics } from '../lib/counters.js';
import type { RateLimitedLog } from '../lib/log.js';
import { ExporterUse, type RefuseReason } from './template-scope.js';

export interface TemplateCacheConfig {
  /** A template not refreshed for this long is dropped (RFC 3954 §9 leaves the timeout to the collector). */
  ttlMs: number;
  /** Templates across all exporters; past this the least recently used exporter's are evicted. */
  maxTemplates: number;
  /** Estimated bytes (templateBytes) of all templates; past this, as maxTemplates. */
  maxBytes: number;
  /** Templates of one exporter (all versions and domains); past this its new ones are refused. */
  maxPerExporter: number;
  /** Estimated bytes of one exporter's templates; past this its new ones are refused. */
  maxBytesPerExporter: number;
  /** How long a data set may wait for its template. */
  pendingTtlMs: number;
  /** Held sets per exporter|version|domain|templateId; the oldest is dropped past this. */
  pendingMaxSets: number;
  /** Held sets of one exporter; its oldest are dropped past this. */
  pendingMaxSetsPerExporter: number;
  /** Bytes of one exporter's held sets (plus a fixed charge per set); its oldest are dropped past this. */
  pendingMaxBytesPerExporter: number;
  /** Bytes of all held sets (plus a fixed charge per set); the oldest are dropped past this. */
  pendingMaxBytes: number;
}

/**
 * A big router sends a few hundred templates of some 20-40 fields (about 2.3 KB each by templateBytes):
 * the per-exporter quotas leave it several times that; ten exporters at their quota fill the global caps.
 */
export const TEMPLATE_CACHE_DEFAULTS: Readonly<TemplateCacheConfig> = Object.freeze({
  ttlMs: 30 * 60_000,
  maxTemplates: 10_000,
  maxBytes: 32 * 1024 * 1024,
  maxPerExporter: 1_000,
  maxBytesPerExporter: 4 * 1024 * 1024,
  pendingTtlMs: 60_000,
  pendingMaxSets: 64,
  pendingMaxSetsPerExporter: 256,
  pendingMaxBytesPerExporter: 1024 * 1024,
  pendingMaxBytes: 8 * 1024 * 1024,
});

/**
 * Estimated heap bytes of one cached template of `fields` fields. Measured on Node 20 with 2,000
 * templates per layout: 1.2-1.8 KB whatever the size (the Template, its typed arrays and their
 * buffers, the fixed-offset plan and its reader, the cache slot and map entry), plus per field the
 * ids (2 B), enterprise numbers (4 B), lengths (2 B), actions (1 B) and plan entry (up to 4 B).
 * Rounded up: 3 fields cost 1.66 KB measured, 1.84 KB here; 512 fields 5.4-8.3 KB, 10 KB here.
 */
export const TEMPLATE_BASE_BYTES = 1792;
export const TEMPLATE_FIELD_BYTES = 16;

export function templateBytes(fields: number): number {
  return TEMPLATE_BASE_BYTES + TEMPLATE_FIELD_BYTES * fields;
}

/**
 * Every exporter with something cached, and those holding templates in eviction order: least recently
 * used first among the exporters whose templates never decoded data, then among the others.
 */
export class ExporterTable {
  constructor(private readonly metrics?: Metrics, private readonly log?: RateLimitedLog) {}

  private readonly all = new Map<string, ExporterUse>();
  private readonly idle = new Map<string, ExporterUse>();
  private readonly active = new Map<string, ExporterUse>();
  /** the last one touched: a run of templates from one exporter moves nothing */
  private mru: ExporterUse | undefined;

  get size(): number {
    return this.all.size;
  }

  get(exporter: string): ExporterUse | undefined {
    return this.all.get(exporter);
  }

  /** The exporter's entry, created (and registered again, if released meanwhile) as needed. */
  use(exporter: string, known?: ExporterUse): ExporterUse {
    let u = known ?? this.all.get(exporter);
    if (u === undefined) u = new ExporterUse(exporter);
    if (this.all.get(exporter) !== u) this.all.set(exporter, u);
    return u;
  }

  /** Forgets an exporter that holds nothing any more (the map stays bounded by what is cached). */
  release(u: ExporterUse): void {
    if (u.templates === 0) this.untrack(u);
    if (u.templates === 0 && u.pendingSets === 0 && this.all.get(u.exporter) === u) this.all.delete(u.exporter);
  }

  /** It taught or refreshed a template (it holds one): most recently used now. */
  touch(u: ExporterUse, nowMs: number): void {
    u.lastMs = nowMs;
    if (this.mru === u) return;
    const m = u.active ? this.active : this.idle;
    m.delete(u.exporter);
    m.set(u.exporter, u);
    this.mru = u;
  }

  /** One of its templates decoded data. */
  activate(u: ExporterUse): void {
    u.active = true;
    if (this.idle.delete(u.exporter)) {
      this.active.set(u.exporter, u);
      this.mru = u;
    }
  }

  private untrack(u: ExporterUse): void {
    this.idle.delete(u.exporter);
    this.active.delete(u.exporter);
    if (this.mru === u) this.mru = undefined;
  }

  /** The exporter to evict a template of, never `except`; undefined when there is none. */
  victim(except: ExporterUse): ExporterUse | undefined {
    for (const u of this.idle.values()) if (u !== except) return u;
    for (const u of this.active.values()) if (u !== except) return u;
    return undefined;
  }

  /** Exporters holding templates, most recently used first (the order the state file keeps them in). */
  byRecency(): ExporterUse[] {
    return [...[...this.active.values()].reverse(), ...[...this.idle.values()].reverse()];
  }

  /** After a restore: `mostRecentFirst` become the most recently used, in that order. */
  reorder(mostRecentFirst: readonly ExporterUse[]): void {
    for (let i = mostRecentFirst.length - 1; i >= 0; i--) {
      const u = mostRecentFirst[i]!;
      if (u.templates === 0) continue;
      this.mru = undefined;
      this.touch(u, u.lastMs);
    }
  }

  /** Counts (per exporter and reason) and logs (rate-limited) a template not cached. */
  refused(use: ExporterUse, reason: RefuseReason, version: number, domain: number, id: number): void {
    const counters = (use.refused ??= {});
    (counters[reason] ??= this.metrics?.counter('templates_refused_total',
      'Templates not cached: the exporter is over its quota (exporter_templates, exporter_bytes) or the global caps leave no room (global)',
      { exporter: use.exporter, reason }))?.inc();
    this.log?.warn(`template_refused:${use.exporter}`, {
      exporter: use.exporter, version, domain, templateId: id, reason, templates: use.templates, bytes: use.bytes,
    }, 'template refused');
  }

  /** Counts and logs a template of `victim` evicted to make room for one of `use`. */
  evicted(victim: ExporterUse, use: ExporterUse, templates: number, bytes: number): void {
    (victim.evicted ??= this.metrics?.counter('templates_evicted_total',
      'Templates evicted to make room under the global caps (templates.max, templates.maxBytes)', { exporter: victim.exporter }))?.inc();
    this.log?.warn(`template_evicted:${victim.exporter}`, { exporter: victim.exporter, for: use.exporter, templates, bytes },
      'template evicted: template cache full');
  }

  clear(): void {
    this.all.clear();
    this.idle.clear();
    this.active.clear();
    this.mru = undefined;
  }
}
