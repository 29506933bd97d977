// Sampling rates (and the IPFIX uptime base) learned from options data, per exporter+version+domain and
// per sampler id within it. A data record without a rate of its own is resolved against this table:
// in-record rate > sampler-id entry > exporter+domain entry > 0 (unknown, left to configuration).

export interface SamplingTableConfig {
  /** Exporter+version+domain entries; past this, new ones are refused and counted. */
  maxEntries: number;
  /** Sampler ids per entry; past this, new ids are refused and counted. */
  maxSamplersPerEntry: number;
}

export const SAMPLING_DEFAULTS: Readonly<SamplingTableConfig> = Object.freeze({
  maxEntries: 10_000,
  maxSamplersPerEntry: 256,
});

export class SamplingEntry {
  /** Exporter-wide rate (options data without a sampler id); 0 unknown. */
  rate = 0;
  /** IPFIX systemInitTimeMilliseconds; -1 unknown. */
  sysInitMs = -1;
  readonly samplers = new Map<number, number>();
  constructor(readonly exporter: string, readonly version: number, readonly domain: number) {}
}

export interface SamplingStats {
  /** rate changes (a periodic refresh with the same rate is not one) */
  updates: number;
  refused: number;
  samplersRefused: number;
}

const MAX_U32 = 4294967295;

function isUint(v: unknown, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

function isRate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_U32;
}

export class SamplingTable {
  readonly config: SamplingTableConfig;
  readonly stats: SamplingStats = { updates: 0, refused: 0, samplersRefused: 0 };
  private readonly entries = new Map<string, SamplingEntry>();
  /** Bumped whenever an entry is created or the table cleared, so a decoder may keep the entry it looked up. */
  generation = 0;

  constructor(config: Partial<SamplingTableConfig> = {}) {
    this.config = { ...SAMPLING_DEFAULTS, ...config };
  }

  get size(): number {
    return this.entries.size;
  }

  static key(exporter: string, version: number, domain: number): string {
    return `${exporter}|${version}|${domain}`;
  }

  /** The entry for an exporter+version+domain, looked up once per datagram by the decoders. */
  entry(exporter: string, version: number, domain: number): SamplingEntry | undefined {
    return this.entries.get(SamplingTable.key(exporter, version, domain));
  }

  private ensure(exporter: string, version: number, domain: number): SamplingEntry | undefined {
    const key = SamplingTable.key(exporter, version, domain);
    let e = this.entries.get(key);
    if (e) return e;
    if (this.entries.size >= this.config.maxEntries) {
      this.stats.refused++;
      return undefined;
    }
    e = new SamplingEntry(exporter, version, domain);
    this.entries.set(key, e);
    this.generation++;
    return e;
  }

  setRate(exporter: string, version: number, domain: number, rate: number): boolean {
    if (!isRate(rate) || rate === 0) return false;
    const e = this.ensure(exporter, version, domain);
    if (!e) return false;
    if (e.rate !== rate) this.stats.updates++; // counts changes, so a periodic refresh is not one
    e.rate = rate;
    return true;
  }

  setSamplerRate(exporter: string, version: number, domain: number, samplerId: number, rate: number): boolean {
    if (!isRate(rate) || rate === 0 || !isUint(samplerId)) return false;
    const e = this.ensure(exporter, version, domain);
    if (!e) return false;
    if (!e.samplers.has(samplerId) && e.samplers.size >= this.config.maxSamplersPerEntry) {
      this.stats.samplersRefused++;
      return false;
    }
    if (e.samplers.get(samplerId) !== rate) this.stats.updates++;
    e.samplers.set(samplerId, rate);
    return true;
  }

  setSystemInit(exporter: string, version: number, domain: number, ms: number): boolean {
    if (!isUint(ms)) return false;
    const e = this.ensure(exporter, version, domain);
    if (!e) return false;
    e.sysInitMs = ms;
    this.stats.updates++;
    return true;
  }

  /** The rate a record without its own would get: sampler entry, else exporter entry, else 0. */
  lookup(exporter: string, version: number, domain: number, samplerId = -1): number {
    const e = this.entry(exporter, version, domain);
    if (!e) return 0;
    if (samplerId >= 0) {
      const r = e.samplers.get(samplerId);
      if (r !== undefined) return r;
    }
    return e.rate;
  }

  clear(): void {
    this.entries.clear();
    this.generation++;
  }

  serialize(): object {
    const entries: object[] = [];
    for (const e of this.entries.values()) {
      entries.push({
        exporter: e.exporter, version: e.version, domain: e.domain, rate: e.rate, sysInitMs: e.sysInitMs,
        samplers: [...e.samplers],
      });
    }
    return { entries };
  }

  /** Restores what serialize() wrote; entries that fail validation are skipped. Returns entries restored. */
  restore(obj: unknown): number {
    if (typeof obj !== 'object' || obj === null) return 0;
    const list = (obj as { entries?: unknown }).entries;
    if (!Array.isArray(list)) return 0;
    let n = 0;
    for (const item of list) {
      if (typeof item !== 'object' || item === null) continue;
      const o = item as Record<string, unknown>;
      const { exporter, version, domain, rate, sysInitMs, samplers } = o;
      if (typeof exporter !== 'string' || exporter.length === 0 || exporter.length > 256) continue;
      if (version !== 9 && version !== 10) continue;
      if (!isUint(domain, MAX_U32) || !isRate(rate)) continue;
      if (!(sysInitMs === -1 || isUint(sysInitMs))) continue;
      if (!Array.isArray(samplers) || samplers.length > this.config.maxSamplersPerEntry) continue;
      const ok = samplers.every((p) => Array.isArray(p) && p.length === 2 && isUint(p[0]) && isRate(p[1]) && p[1] > 0);
      if (!ok) continue;
      const e = this.ensure(exporter, version, domain);
      if (!e) break;
      e.rate = rate;
      e.sysInitMs = sysInitMs;
      for (const [id, r] of samplers as [number, number][]) e.samplers.set(id, r);
      n++;
    }
    return n;
  }
}
