// Template cache for NetFlow v9 and IPFIX, keyed exporter|version|domain|templateId so two exporters,
// or one exporter speaking both versions, never share a template. Templates expire after a TTL; data
// sets that arrive before their template are held (copied, bounded) and decoded when it arrives, or
// reported as a template miss when they expire or overflow.
import { TemplateMissingError } from '../lib/errors.js';
import type { Clock, ErrorReporter } from './types.js';
import { compileTemplate, MAX_TEMPLATE_FIELDS, Template, TemplateKind, VARLEN } from './fields.js';

export interface TemplateCacheConfig {
  /** A template not refreshed for this long is dropped (RFC 3954 §9 leaves the timeout to the collector). */
  ttlMs: number;
  /** Templates across all exporters; past this, new ones are refused and counted. */
  maxTemplates: number;
  /** How long a data set may wait for its template. */
  pendingTtlMs: number;
  /** Held sets per exporter|version|domain|templateId; the oldest is dropped past this. */
  pendingMaxSets: number;
  /** Bytes of all held sets (plus a fixed charge per set); the oldest are dropped past this. */
  pendingMaxBytes: number;
}

export const TEMPLATE_CACHE_DEFAULTS: Readonly<TemplateCacheConfig> = Object.freeze({
  ttlMs: 30 * 60_000,
  maxTemplates: 10_000,
  pendingTtlMs: 60_000,
  pendingMaxSets: 64,
  pendingMaxBytes: 8 * 1024 * 1024,
});

/** Charged per held set on top of its bytes, so a flood of tiny sets is bounded too. */
const PENDING_OVERHEAD = 64;

export interface TemplateCacheStats {
  learned: number;
  refreshed: number;
  withdrawn: number;
  expired: number;
  refused: number;
  pendingHeld: number;
  pendingDecoded: number;
  pendingExpired: number;
  pendingDropped: number;
}

/** A data set copied out of its datagram with the header context needed to decode it later. */
export class PendingSet {
  constructor(
    readonly data: Buffer, readonly exportMs: number, readonly sysUptimeMs: number, readonly heldAt: number,
  ) {}
}

class PendingList {
  readonly sets: PendingSet[] = [];
  constructor(readonly exporter: string, readonly version: number, readonly domain: number, readonly id: number) {}
}

interface Slot {
  tpl: Template;
  seenMs: number;
}

/** The templates of one exporter|version|domain (cacheable by decoders, see TemplateCache.generation). */
export class TemplateScope {
  readonly templates = new Map<number, Slot>();
  constructor(readonly exporter: string, readonly version: number, readonly domain: number) {}
}

export interface TemplateCacheOptions extends Partial<TemplateCacheConfig> {
  now?: Clock;
  /** Receives a TemplateMissingError for every held set that expires or is dropped. */
  report?: ErrorReporter;
}

const MAX_U32 = 4294967295;

function scopeKey(exporter: string, version: number, domain: number): string {
  return `${exporter}|${version}|${domain}`;
}

export class TemplateCache {
  readonly config: TemplateCacheConfig;
  readonly stats: TemplateCacheStats = {
    learned: 0, refreshed: 0, withdrawn: 0, expired: 0, refused: 0,
    pendingHeld: 0, pendingDecoded: 0, pendingExpired: 0, pendingDropped: 0,
  };
  private readonly now: Clock;
  private readonly report: ErrorReporter;
  private readonly scopes = new Map<string, TemplateScope>();
  /** Insertion-ordered, so the first list holds (about) the oldest sets when the byte budget overflows. */
  private readonly pending = new Map<string, PendingList>();
  /** Bumped whenever a scope is created or dropped, so a decoder may keep the scope it looked up. */
  generation = 0;
  private count = 0;
  private heldSets = 0;
  private heldBytes = 0;

  constructor(opts: TemplateCacheOptions = {}) {
    const { now, report, ...cfg } = opts;
    this.config = { ...TEMPLATE_CACHE_DEFAULTS, ...cfg };
    this.now = now ?? Date.now;
    this.report = report ?? (() => {});
  }

  /** Templates currently cached. */
  get size(): number {
    return this.count;
  }

  get pendingSets(): number {
    return this.heldSets;
  }

  get pendingBytes(): number {
    return this.heldBytes;
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
      this.remove(scopeKey(scope.exporter, scope.version, scope.domain), scope, id);
      this.stats.expired++;
      return undefined;
    }
    return slot.tpl;
  }

  /**
   * Learns (or refreshes) the layout in the first n entries of ids/ents/lens. Returns the cached
   * template, or undefined when the cache is full. Throws DecodeError 'bad_template' for a bad layout.
   */
  put(exporter: string, version: number, domain: number, id: number, kind: TemplateKind, scopeCount: number,
    ids: ArrayLike<number>, ents: ArrayLike<number>, lens: ArrayLike<number>, n: number): Template | undefined {
    const key = scopeKey(exporter, version, domain);
    let scope = this.scopes.get(key);
    const slot = scope?.templates.get(id);
    const nowMs = this.now();
    if (slot && slot.tpl.sameLayout(kind, scopeCount, ids, ents, lens, n)) {
      slot.seenMs = nowMs;
      this.stats.refreshed++;
      return slot.tpl;
    }
    const tpl = compileTemplate(version, id, kind, scopeCount, ids, ents, lens, n);
    if (slot) {
      slot.tpl = tpl;
      slot.seenMs = nowMs;
      this.stats.learned++;
      return tpl;
    }
    if (this.count >= this.config.maxTemplates) {
      this.stats.refused++;
      return undefined;
    }
    if (!scope) {
      scope = new TemplateScope(exporter, version, domain);
      this.scopes.set(key, scope);
      this.generation++;
    }
    scope.templates.set(id, { tpl, seenMs: nowMs });
    this.count++;
    this.stats.learned++;
    return tpl;
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
    scope.templates.delete(id);
    this.count--;
    if (scope.templates.size === 0) {
      this.scopes.delete(key);
      this.generation++;
    }
  }

  /** Copies a data set whose template is unknown; false when it could not be held (reported as a miss). */
  hold(exporter: string, version: number, domain: number, id: number, data: Uint8Array,
    exportMs: number, sysUptimeMs: number): boolean {
    const key = `${scopeKey(exporter, version, domain)}|${id}`;
    const nowMs = this.now();
    const cost = data.length + PENDING_OVERHEAD;
    let list = this.pending.get(key);
    if (list) this.expireList(key, list, nowMs);
    if (cost > this.config.pendingMaxBytes || this.config.pendingMaxSets < 1) {
      this.stats.pendingDropped++;
      this.miss(exporter, version, domain, id);
      return false;
    }
    list = this.pending.get(key);
    if (!list) {
      list = new PendingList(exporter, version, domain, id);
      this.pending.set(key, list);
    }
    while (list.sets.length >= this.config.pendingMaxSets) this.dropFirst(key, list);
    while (this.heldBytes + cost > this.config.pendingMaxBytes && this.pending.size > 0) {
      const first = this.pending.entries().next().value as [string, PendingList];
      this.dropFirst(first[0], first[1]);
    }
    // dropFirst may have removed an emptied list, this one included: make sure it is registered.
    if (!this.pending.has(key)) this.pending.set(key, list);
    list.sets.push(new PendingSet(Buffer.from(data), exportMs, sysUptimeMs, nowMs));
    this.heldSets++;
    this.heldBytes += cost;
    this.stats.pendingHeld++;
    return true;
  }

  /** Hands back (and forgets) the unexpired sets held for a template that has just arrived. */
  takePending(exporter: string, version: number, domain: number, id: number): PendingSet[] | undefined {
    if (this.heldSets === 0) return undefined;
    const key = `${scopeKey(exporter, version, domain)}|${id}`;
    const list = this.pending.get(key);
    if (!list) return undefined;
    this.expireList(key, list, this.now());
    if (list.sets.length === 0) return undefined;
    this.pending.delete(key);
    for (const p of list.sets) this.heldBytes -= p.data.length + PENDING_OVERHEAD;
    this.heldSets -= list.sets.length;
    this.stats.pendingDecoded += list.sets.length;
    return list.sets;
  }

  private expireList(key: string, list: PendingList, nowMs: number): void {
    const sets = list.sets;
    let i = 0;
    while (i < sets.length && nowMs - sets[i]!.heldAt > this.config.pendingTtlMs) {
      this.heldBytes -= sets[i]!.data.length + PENDING_OVERHEAD;
      i++;
    }
    if (i === 0) return;
    sets.splice(0, i);
    this.heldSets -= i;
    this.stats.pendingExpired += i;
    if (sets.length === 0) this.pending.delete(key);
    for (let k = 0; k < i; k++) this.miss(list.exporter, list.version, list.domain, list.id);
  }

  private dropFirst(key: string, list: PendingList): void {
    const p = list.sets.shift();
    if (p) {
      this.heldBytes -= p.data.length + PENDING_OVERHEAD;
      this.heldSets--;
      this.stats.pendingDropped++;
      this.miss(list.exporter, list.version, list.domain, list.id);
    }
    if (list.sets.length === 0) this.pending.delete(key);
  }

  private miss(exporter: string, version: number, domain: number, id: number): void {
    this.report(new TemplateMissingError(version, domain, id).at(exporter, version, domain, id));
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
    for (const [key, list] of this.pending) this.expireList(key, list, nowMs);
  }

  /** Shutdown: every set still waiting for its template will never see it; each is a counted miss. */
  dropAllPending(): void {
    for (const [key, list] of this.pending) while (list.sets.length) this.dropFirst(key, list);
  }

  clear(): void {
    this.scopes.clear();
    this.generation++;
    this.pending.clear();
    this.count = this.heldSets = this.heldBytes = 0;
  }

  serialize(): object {
    const templates: object[] = [];
    for (const scope of this.scopes.values()) {
      for (const { tpl, seenMs } of scope.templates.values()) {
        const fields: number[][] = [];
        for (let i = 0; i < tpl.ids.length; i++) fields.push([tpl.ids[i]!, tpl.ents[i]!, tpl.lens[i]!]);
        templates.push({
          exporter: scope.exporter, version: scope.version, domain: scope.domain, id: tpl.id,
          kind: tpl.kind, scopeCount: tpl.scopeCount, seenMs, fields,
        });
      }
    }
    return { templates };
  }

  /** Restores what serialize() wrote, skipping invalid or expired entries. Returns templates restored. */
  restore(obj: unknown): number {
    if (typeof obj !== 'object' || obj === null) return 0;
    const list = (obj as { templates?: unknown }).templates;
    if (!Array.isArray(list)) return 0;
    const nowMs = this.now();
    const ids: number[] = [], ents: number[] = [], lens: number[] = [];
    const { learned, refreshed } = this.stats; // a restore is not the wire teaching us templates
    let n = 0;
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
      let tpl: Template | undefined;
      try {
        tpl = this.put(exporter, version, domain, id, kind, scopeCount, ids, ents, lens, ids.length);
      } catch {
        continue; // a layout compileTemplate rejects
      }
      if (!tpl) break; // full
      // Keep the saved age (clamped to now) so a long outage still expires stale layouts.
      const slot = this.scopes.get(scopeKey(exporter, version, domain))!.templates.get(id)!;
      slot.seenMs = Math.min(seenMs, nowMs);
      n++;
    }
    this.stats.learned = learned;
    this.stats.refreshed = refreshed;
    return n;
  }
}

function isUint(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}
