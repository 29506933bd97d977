// Template cache for NetFlow v9 and IPFIX, keyed exporter|version|domain|templateId so two exporters,
// or one exporter speaking both versions, never share a template. Templates expire after a TTL; data
// sets that arrive before their template are held (copied, bounded) and decoded when it arrives, or
// reported as a template miss when they expire or overflow. Each exporter has quotas (templates, their
// bytes, held sets), so a spoofed source fills only its own share; the global caps behind them evict
// the least recently used exporter's templates (template-quota.ts).
import type { Gauge, Metrics } from '../lib/counters.js';
import type { RateLimitedLog } from '../lib/log.js';
import type { ErrorReporter } from './types.js';
import { wallClock, type Clock } from '../lib/clock.js';
import { compileTemplate, MAX_TEMPLATE_FIELDS, Template } from './fields.js';
import { TemplateKind, VARLEN } from './elements.js';
import { ExporterTable, TEMPLATE_CACHE_DEFAULTS, templateBytes, type TemplateCacheConfig } from './template-quota.js';
import { PendingStore, type PendingStats } from './template-pending.js';
import { scopeKey, TemplateScope, type ExporterUse, type PendingSet, type RefuseReason } from './template-scope.js';

export { TEMPLATE_CACHE_DEFAULTS, type TemplateCacheConfig } from './template-quota.js';

export interface TemplateCacheStats extends PendingStats {
  learned: number;
  refreshed: number;
  withdrawn: number;
  expired: number;
  refused: number;
  evicted: number;
}

export interface TemplateCacheOptions extends Partial<TemplateCacheConfig> {
  now?: Clock;
  /** Receives a TemplateMissingError for every held set that expires or is dropped. */
  report?: ErrorReporter;
  /** templates_refused_total{exporter,reason}, templates_evicted_total{exporter} and the cache gauges */
  metrics?: Metrics;
  /** refusals and evictions, keyed template_refused:<exporter> and template_evicted:<exporter> */
  log?: RateLimitedLog;
}

const MAX_U32 = 4294967295;

export class TemplateCache {
  /** Estimated bytes of a cached template of `fields` fields (see template-quota.ts). */
  static readonly templateBytes = templateBytes;
  readonly config: TemplateCacheConfig;
  readonly stats: TemplateCacheStats = {
    learned: 0, refreshed: 0, withdrawn: 0, expired: 0, refused: 0, evicted: 0,
    pendingHeld: 0, pendingDecoded: 0, pendingExpired: 0, pendingDropped: 0,
  };
  private readonly now: Clock;
  private readonly report: ErrorReporter;
  private readonly gauges: { templates: Gauge; bytes: Gauge } | undefined;
  private readonly scopes = new Map<string, TemplateScope>();
  private readonly exporters: ExporterTable;
  private readonly held: PendingStore;
  /** Bumped whenever a scope is created or dropped, so a decoder may keep the scope it looked up. */
  generation = 0;
  private count = 0;
  private tplBytes = 0;
  /** restore(): entries come most recent first, so nothing is evicted to make room for an older one */
  private restoring = false;

  constructor(opts: TemplateCacheOptions = {}) {
    const { now, report, metrics, log, ...cfg } = opts;
    this.config = { ...TEMPLATE_CACHE_DEFAULTS, ...cfg };
    this.now = now ?? wallClock;
    this.report = report ?? (() => {});
    this.exporters = new ExporterTable(metrics, log);
    this.held = new PendingStore(this.config, this.stats, this.exporters, this.report);
    this.gauges = metrics && {
      templates: metrics.gauge('templates_cached', 'NetFlow v9/IPFIX templates cached'),
      bytes: metrics.gauge('template_cache_bytes', 'Estimated bytes of the cached templates'),
    };
  }

  /** Templates currently cached. */
  get size(): number {
    return this.count;
  }

  /** Estimated bytes of the cached templates. */
  get bytes(): number {
    return this.tplBytes;
  }

  get pendingSets(): number {
    return this.held.sets;
  }

  get pendingBytes(): number {
    return this.held.bytes;
  }

  /** Exporters holding a template or a held set. */
  get exporterCount(): number {
    return this.exporters.size;
  }

  /** What one exporter holds; undefined when it holds nothing. */
  exporterUse(exporter: string): Readonly<ExporterUse> | undefined {
    return this.exporters.get(exporter);
  }

  get(exporter: string, version: number, domain: number, id: number): Template | undefined {
    const scope = this.scope(exporter, version, domain);
    return scope === undefined ? undefined : this.getIn(scope, id);
  }

  /** The scope of an exporter|version|domain; valid while `generation` is unchanged. */
  scope(exporter: string, version: number, domain: number): TemplateScope | undefined {
    return this.scopes.get(scopeKey(exporter, version, domain));
  }

  /** get() within a scope from scope(): the per-data-set lookup, with no key string built. */
  getIn(scope: TemplateScope, id: number): Template | undefined {
    const slot = scope.templates.get(id);
    if (!slot) return undefined;
    if (this.now() - slot.seenMs > this.config.ttlMs) {
      this.remove(scope.key, scope, id);
      this.stats.expired++;
      return undefined;
    }
    if (!scope.use.active) this.exporters.activate(scope.use);
    return slot.tpl;
  }

  /**
   * Learns (or refreshes) the layout in the first n entries of ids/ents/lens. Returns the cached
   * template, or undefined when it was refused (counted and logged). Throws DecodeError 'bad_template'
   * for a bad layout.
   */
  put(exporter: string, version: number, domain: number, id: number, kind: TemplateKind, scopeCount: number,
    ids: ArrayLike<number>, ents: ArrayLike<number>, lens: ArrayLike<number>, n: number): Template | undefined {
    const key = scopeKey(exporter, version, domain);
    let scope = this.scopes.get(key);
    const slot = scope?.templates.get(id);
    const nowMs = this.now();
    if (slot && slot.tpl.sameLayout(kind, scopeCount, ids, ents, lens, n)) {
      slot.seenMs = nowMs;
      this.exporters.touch(scope!.use, nowMs);
      this.stats.refreshed++;
      return slot.tpl;
    }
    const cfg = this.config;
    const use = this.exporters.use(exporter, scope?.use);
    const cost = templateBytes(n), delta = cost - (slot?.cost ?? 0);
    // The exporter's own quota first: its excess is refused, never made room for.
    let reason: RefuseReason | undefined;
    if (!slot && use.templates >= cfg.maxPerExporter) reason = 'exporter_templates';
    else if (use.bytes + delta > cfg.maxBytesPerExporter) reason = 'exporter_bytes';
    let tpl: Template | undefined;
    if (reason === undefined) {
      try {
        tpl = compileTemplate(version, id, kind, scopeCount, ids, ents, lens, n); // before evicting anything for it
      } catch (err) {
        this.exporters.release(use);
        throw err;
      }
      if (!this.makeRoom(use, slot ? 0 : 1, delta)) reason = 'global';
    }
    if (reason !== undefined || tpl === undefined) {
      // a known id whose new layout is refused must not decode data with the old one
      if (slot) this.remove(key, scope!, id);
      this.stats.refused++;
      this.exporters.refused(use, reason ?? 'global', version, domain, id);
      this.exporters.release(use);
      return undefined;
    }
    if (slot) {
      slot.tpl = tpl;
      slot.cost = cost;
      slot.seenMs = nowMs;
    } else {
      if (!scope) {
        scope = new TemplateScope(exporter, version, domain, use);
        this.scopes.set(key, scope);
        use.scopes.add(scope);
        this.generation++;
      }
      scope.templates.set(id, { tpl, seenMs: nowMs, cost });
      this.count++;
      use.templates++;
    }
    use.bytes += delta;
    this.tplBytes += delta;
    this.exporters.touch(use, nowMs);
    this.stats.learned++;
    this.changed();
    return tpl;
  }

  /** Evicts other exporters' templates, least recently used first, until `use` may add this much. */
  private makeRoom(use: ExporterUse, addCount: number, addBytes: number): boolean {
    const cfg = this.config;
    if (this.count + addCount <= cfg.maxTemplates && this.tplBytes + addBytes <= cfg.maxBytes) return true;
    // what evicting every other exporter would leave: if even that is too much, evict nothing
    if (this.restoring || use.templates + addCount > cfg.maxTemplates || use.bytes + addBytes > cfg.maxBytes) return false;
    while (this.count + addCount > cfg.maxTemplates || this.tplBytes + addBytes > cfg.maxBytes) {
      const victim = this.exporters.victim(use);
      if (victim === undefined) return false;
      const scope = victim.scopes.values().next().value as TemplateScope;
      const id = scope.templates.keys().next().value as number;
      this.remove(scope.key, scope, id);
      this.stats.evicted++;
      this.exporters.evicted(victim, use, this.count, this.tplBytes);
    }
    return true;
  }

  private changed(): void {
    if (this.gauges === undefined) return;
    this.gauges.templates.set(this.count);
    this.gauges.bytes.set(this.tplBytes);
  }

  withdraw(exporter: string, version: number, domain: number, id: number): boolean {
    const key = scopeKey(exporter, version, domain);
    const scope = this.scopes.get(key);
    if (!scope || !scope.templates.has(id)) return false;
    this.remove(key, scope, id);
    this.stats.withdrawn++;
    return true;
  }

  /** Withdraws every template of one kind (IPFIX template id 2 or 3 with field count 0). */
  withdrawKind(exporter: string, version: number, domain: number, kind: TemplateKind): number {
    const key = scopeKey(exporter, version, domain);
    const scope = this.scopes.get(key);
    if (!scope) return 0;
    let n = 0;
    for (const [id, slot] of scope.templates) {
      if (slot.tpl.kind !== kind) continue;
      this.remove(key, scope, id);
      n++;
    }
    this.stats.withdrawn += n;
    return n;
  }

  private remove(key: string, scope: TemplateScope, id: number): void {
    const slot = scope.templates.get(id)!;
    scope.templates.delete(id);
    const use = scope.use;
    this.count--;
    this.tplBytes -= slot.cost;
    use.templates--;
    use.bytes -= slot.cost;
    if (scope.templates.size === 0) {
      this.scopes.delete(key);
      use.scopes.delete(scope);
      this.generation++;
    }
    this.exporters.release(use);
    this.changed();
  }

  /** Copies a data set whose template is unknown; false when it could not be held (reported as a miss). */
  hold(exporter: string, version: number, domain: number, id: number, data: Uint8Array,
    exportMs: number, sysUptimeMs: number): boolean {
    return this.held.hold(`${scopeKey(exporter, version, domain)}|${id}`, exporter, version, domain, id, data,
      exportMs, sysUptimeMs, this.now());
  }

  /** Hands back (and forgets) the unexpired sets held for a template that has just arrived. */
  takePending(exporter: string, version: number, domain: number, id: number): PendingSet[] | undefined {
    // most templates find nothing waiting: no key is built for them
    if ((this.exporters.get(exporter)?.pendingSets ?? 0) === 0) return undefined;
    return this.held.take(`${scopeKey(exporter, version, domain)}|${id}`, this.now());
  }

  /** Drops expired templates and held sets (the held ones reported as misses). Call periodically. */
  sweep(): void {
    const nowMs = this.now();
    for (const [key, scope] of this.scopes) {
      for (const [id, slot] of scope.templates) {
        if (nowMs - slot.seenMs > this.config.ttlMs) {
          this.remove(key, scope, id);
          this.stats.expired++;
        }
      }
    }
    this.held.sweep(nowMs);
  }

  /** Shutdown: every set still waiting for its template will never see it; each is a counted miss. */
  dropAllPending(): void {
    this.held.dropAll();
  }

  clear(): void {
    this.scopes.clear();
    this.generation++;
    this.held.clear();
    this.exporters.clear();
    this.count = this.tplBytes = 0;
    this.changed();
  }

  /**
   * The templates as saved in the state file, one JSON text each, most recently used exporter first
   * (those whose templates decoded data before those that only taught templates), so a size-capped
   * file keeps the ones that matter and a restore under the quotas brings them back first. Built by
   * hand: JSON.stringify of the same objects takes about four times as long (512-field templates).
   */
  *entryTexts(): Generator<string> {
    for (const use of this.exporters.byRecency()) {
      const exporter = JSON.stringify(use.exporter);
      for (const scope of use.scopes) {
        for (const { tpl, seenMs } of scope.templates.values()) {
          let fields = '';
          for (let i = 0; i < tpl.ids.length; i++) fields += `${i > 0 ? ',' : ''}[${tpl.ids[i]},${tpl.ents[i]},${tpl.lens[i]}]`;
          yield `{"exporter":${exporter},"version":${scope.version},"domain":${scope.domain},"id":${tpl.id},"kind":${tpl.kind},` +
            `"scopeCount":${tpl.scopeCount},"seenMs":${seenMs},"fields":[${fields}]}`;
        }
      }
    }
  }

  serialize(): object {
    return { templates: Array.from(this.entryTexts(), (text) => JSON.parse(text) as object) };
  }

  /**
   * Restores what serialize() wrote, skipping invalid or expired entries, within the quotas and caps
   * (what does not fit is refused and counted, never evicting an entry restored before it). Returns
   * templates restored.
   */
  restore(obj: unknown): number {
    if (typeof obj !== 'object' || obj === null) return 0;
    const list = (obj as { templates?: unknown }).templates;
    if (!Array.isArray(list)) return 0;
    const nowMs = this.now();
    const ids: number[] = [], ents: number[] = [], lens: number[] = [];
    const { learned, refreshed } = this.stats; // a restore is not the wire teaching us templates
    const order = new Set<ExporterUse>(); // first appearance: most recent first
    let n = 0;
    this.restoring = true;
    try {
      for (const item of list) {
        if (typeof item !== 'object' || item === null) continue;
        const { exporter, version, domain, id, kind, scopeCount, seenMs, fields } = item as Record<string, unknown>;
        if (typeof exporter !== 'string' || exporter.length === 0 || exporter.length > 256) continue;
        if (version !== 9 && version !== 10) continue;
        if (!isUint(domain, MAX_U32) || !isUint(id, 65535) || id < 256) continue;
        if (kind !== TemplateKind.Data && kind !== TemplateKind.Options) continue;
        if (!isUint(scopeCount, MAX_TEMPLATE_FIELDS) || typeof seenMs !== 'number' || !Number.isFinite(seenMs)) continue;
        if (nowMs - seenMs > this.config.ttlMs) continue;
        if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_TEMPLATE_FIELDS) continue;
        ids.length = ents.length = lens.length = 0;
        let ok = true;
        for (const f of fields) {
          // Only an IPFIX id with the enterprise bit may carry an enterprise number.
          if (!Array.isArray(f) || f.length !== 3 || !isUint(f[0], 65535) || !isUint(f[1], MAX_U32)
            || !isUint(f[2], VARLEN) || (f[1] !== 0 && (version !== 10 || (f[0] & 0x8000) === 0))) {
            ok = false;
            break;
          }
          ids.push(f[0]); ents.push(f[1]); lens.push(f[2]);
        }
        if (!ok) continue;
        try {
          if (!this.put(exporter, version, domain, id, kind, scopeCount, ids, ents, lens, ids.length)) continue; // over a quota
        } catch {
          continue; // a layout compileTemplate rejects
        }
        // Keep the saved age (clamped to now) so a long outage still expires stale layouts.
        const scope = this.scopes.get(scopeKey(exporter, version, domain))!;
        scope.templates.get(id)!.seenMs = Math.min(seenMs, nowMs);
        order.add(scope.use);
        n++;
      }
    } finally {
      this.restoring = false;
    }
    // The file lists the most recently used exporters first; their recency is kept.
    for (const u of order) {
      let last = 0;
      for (const sc of u.scopes) for (const slot of sc.templates.values()) last = Math.max(last, slot.seenMs);
      u.lastMs = last;
    }
    this.exporters.reorder([...order]);
    this.stats.learned = learned;
    this.stats.refreshed = refreshed;
    return n;
  }
}

function isUint(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}
