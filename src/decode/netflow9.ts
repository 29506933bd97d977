// NetFlow v9 (RFC 3954), plus the set walking it shares with IPFIX (RFC 7011): both are a header then
// sets framed by {id, length}, templates learned into the cache, data decoded through compiled plans.
import { DecodeError } from '../lib/errors.js';
import { Reader } from '../lib/reader.js';
import { FlowRecord, type RecordHandler } from '../flow/record.js';
import type { DatagramDecoder, ErrorReporter } from './types.js';
import { DataContext, FieldDecoder, MAX_TEMPLATE_FIELDS, type Template, TemplateKind } from './fields.js';
import type { PendingSet, TemplateCache, TemplateScope } from './templates.js';
import type { SamplingEntry, SamplingTable } from './sampling.js';

export interface NetflowDecoderDeps {
  templates: TemplateCache;
  sampling: SamplingTable;
  report: ErrorReporter;
}

/**
 * Set walking, data sets, held sets and options data, shared by v9 and IPFIX. Subclasses read the
 * header and the template sets of their version.
 */
export abstract class TemplatedDecoder implements DatagramDecoder {
  protected abstract readonly version: 9 | 10;
  protected readonly r = new Reader();
  protected readonly ctx = new DataContext();
  /** Scratch layout of the template being read (capped at MAX_TEMPLATE_FIELDS before reading). */
  protected readonly ids = new Uint16Array(MAX_TEMPLATE_FIELDS);
  protected readonly ents = new Uint32Array(MAX_TEMPLATE_FIELDS);
  protected readonly lens = new Uint16Array(MAX_TEMPLATE_FIELDS);
  protected exporter = '';
  protected domain = -1;
  private readonly heldReader = new Reader();
  private readonly rec = new FlowRecord();
  private readonly fd = new FieldDecoder();
  protected readonly templates: TemplateCache;
  private readonly sampling: SamplingTable;
  private readonly report: ErrorReporter;
  // Scope and sampling entry of the last exporter+domain, kept while the tables' generations hold:
  // most datagrams come from the exporter before them, so no key string is built per datagram.
  private cacheExporter = '';
  private cacheDomain = -1;
  private scopeGen = -1;
  private scope: TemplateScope | undefined;
  private samplingGen = -1;
  private samplingEntry: SamplingEntry | undefined;

  constructor(deps: NetflowDecoderDeps) {
    this.templates = deps.templates;
    this.sampling = deps.sampling;
    this.report = deps.report;
  }

  /** Event records (no counters) of the last decode(), counted apart from flows by the dispatcher. */
  get events(): number {
    return this.fd.events;
  }

  /** Reads the header from this.r (reset on the datagram), sets domain and ctx times, narrows r.end. */
  protected abstract header(receivedMs: number): void;

  /** A set with id below 256: template, options template, or reserved (skipped). */
  protected abstract controlSet(setId: number, emit: RecordHandler): number;

  decode(buf: Buffer, exporter: string, receivedMs: number, emit: RecordHandler): number {
    const r = this.r;
    r.reset(buf);
    this.exporter = exporter;
    this.domain = -1;
    this.fd.events = 0;
    try {
      this.header(receivedMs);
      const rec = this.rec;
      rec.exporter = exporter;
      rec.source = this.version;
      rec.domain = this.domain;
      this.refreshSampling();
      let n = 0;
      // Fewer than 4 bytes after the last set are padding; a set header needs 4.
      while (r.left() >= 4) {
        const setId = r.u16();
        const setLen = r.u16();
        if (setLen < 4 || setLen - 4 > r.left()) {
          throw new DecodeError('bad_length', `set ${setId} length ${setLen} with ${r.left() + 4} bytes left`);
        }
        const saved = r.enter(setLen - 4);
        try {
          n += setId >= 256 ? this.dataSet(setId, emit) : this.controlSet(setId, emit);
        } catch (err) {
          // A broken set inside a sound frame costs only that set.
          if (!(err instanceof DecodeError)) throw err;
          this.report(err.at(exporter, this.version, this.domain, setId >= 256 ? setId : -1));
        }
        r.leave(saved);
      }
      return n;
    } catch (err) {
      if (err instanceof DecodeError) err.at(exporter, this.version, this.domain);
      throw err;
    } finally {
      r.clear();
      this.ctx.samplers = undefined;
    }
  }

  /** Drops the cached scope and entry when the datagram is from another exporter or domain. */
  private sameSource(): boolean {
    if (this.exporter === this.cacheExporter && this.domain === this.cacheDomain) return true;
    this.cacheExporter = this.exporter;
    this.cacheDomain = this.domain;
    this.scopeGen = this.samplingGen = -1;
    return false;
  }

  private refreshSampling(): void {
    const t = this.sampling;
    if (!this.sameSource() || this.samplingGen !== t.generation) {
      this.samplingEntry = t.entry(this.exporter, this.version, this.domain);
      this.samplingGen = t.generation;
    }
    const e = this.samplingEntry;
    const ctx = this.ctx;
    ctx.exporterRate = e ? e.rate : 0;
    ctx.sysInitMs = e ? e.sysInitMs : -1;
    ctx.samplers = e && e.samplers.size > 0 ? e.samplers : undefined;
  }

  private dataSet(setId: number, emit: RecordHandler): number {
    const r = this.r;
    const t = this.templates;
    if (!this.sameSource() || this.scopeGen !== t.generation) {
      this.scope = t.scope(this.exporter, this.version, this.domain);
      this.scopeGen = t.generation;
    }
    const tpl = this.scope === undefined ? undefined : t.getIn(this.scope, setId);
    if (tpl === undefined) {
      // Not fatal: held until the template arrives; a miss is reported only if it never does.
      this.templates.hold(this.exporter, this.version, this.domain, setId, r.bytes(r.left()),
        this.ctx.exportMs, this.ctx.sysUptimeMs);
      return 0;
    }
    return this.records(r, tpl, emit);
  }

  private records(r: Reader, tpl: Template, emit: RecordHandler): number {
    const fd = this.fd;
    tpl.prepare();
    let n = 0;
    if (tpl.kind === TemplateKind.Data) {
      n = fd.decodeDataSet(r, tpl, this.ctx, this.rec, emit);
    } else {
      this.options(r, tpl);
    }
    if (fd.error !== undefined) {
      this.report(fd.error.at(this.exporter, this.version, this.domain, tpl.id));
      fd.error = undefined;
    }
    return n;
  }

  /**
   * Options data: sampling rates per sampler id or for the whole exporter+domain, and the uptime base.
   * Other scopes (interface, line card) are not told apart: their rate applies to the exporter+domain.
   */
  private options(r: Reader, tpl: Template): void {
    const ex = this.exporter, v = this.version, d = this.domain, fd = this.fd;
    fd.error = undefined;
    try {
      while (r.left() >= tpl.minLen) {
        const s = fd.readOptions(r, tpl);
        const rate = s.ownRate();
        if (rate > 0) {
          if (s.samplerId >= 0) this.sampling.setSamplerRate(ex, v, d, s.samplerId, rate);
          else this.sampling.setRate(ex, v, d, rate);
        }
        if (s.sysInitMs >= 0) this.sampling.setSystemInit(ex, v, d, s.sysInitMs);
      }
      fd.checkPadding(r, tpl.minLen);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      fd.error = err;
    }
    this.refreshSampling();
  }

  /**
   * Caches the layout held in ids/ents/lens, then decodes the data sets that were waiting for it
   * (their records go out through this datagram's emit). Returns the records emitted.
   */
  protected learn(id: number, kind: TemplateKind, scopeCount: number, count: number, emit: RecordHandler): number {
    const tpl = this.templates.put(this.exporter, this.version, this.domain, id, kind, scopeCount,
      this.ids, this.ents, this.lens, count);
    if (tpl === undefined) return 0;
    const held = this.templates.takePending(this.exporter, this.version, this.domain, id);
    return held === undefined ? 0 : this.replay(tpl, held, emit);
  }

  private replay(tpl: Template, held: PendingSet[], emit: RecordHandler): number {
    const ctx = this.ctx, exportMs = ctx.exportMs, sysUptimeMs = ctx.sysUptimeMs, hr = this.heldReader;
    let n = 0;
    try {
      for (const p of held) {
        ctx.exportMs = p.exportMs;
        ctx.sysUptimeMs = p.sysUptimeMs;
        hr.reset(p.data);
        try {
          n += this.records(hr, tpl, emit);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          this.report(err.at(this.exporter, this.version, this.domain, tpl.id));
        }
      }
    } finally {
      ctx.exportMs = exportMs;
      ctx.sysUptimeMs = sysUptimeMs;
      hr.clear();
    }
    return n;
  }
}

const enum V9 { Version = 9, HeaderLen = 20, TemplateSet = 0, OptionsTemplateSet = 1 }

export class Netflow9Decoder extends TemplatedDecoder {
  protected readonly version = 9;

  protected header(receivedMs: number): void {
    const r = this.r;
    const version = r.u16();
    if (version !== V9.Version) throw new DecodeError('unknown_version', `not NetFlow v9: version ${version}`);
    r.u16(); // record count: informational only, the set lengths frame the datagram
    const sysUptime = r.u32();
    const unixSecs = r.u32();
    r.u32(); // sequence
    this.domain = r.u32();
    this.ctx.exportMs = unixSecs > 0 ? unixSecs * 1000 : receivedMs;
    this.ctx.sysUptimeMs = sysUptime;
  }

  protected controlSet(setId: number, emit: RecordHandler): number {
    if (setId === V9.TemplateSet) return this.templateSet(emit);
    if (setId === V9.OptionsTemplateSet) return this.optionsTemplateSet(emit);
    return 0; // 2..255 reserved
  }

  private templateSet(emit: RecordHandler): number {
    const r = this.r;
    let n = 0;
    while (r.left() >= 4) {
      const id = r.u16();
      const count = r.u16();
      if (id === 0 && count === 0) break; // zero padding to the set's end
      if (id < 256 || count === 0 || count > MAX_TEMPLATE_FIELDS) {
        throw new DecodeError('bad_template', `v9 template ${id} with ${count} fields`);
      }
      for (let i = 0; i < count; i++) {
        this.ids[i] = r.u16();
        this.lens[i] = r.u16();
        this.ents[i] = 0; // v9 has no enterprise bit: types >= 32768 are vendor types, skipped by length
      }
      n += this.learn(id, TemplateKind.Data, 0, count, emit);
    }
    return n;
  }

  /** RFC 3954 §6.1: scope and option lengths are in bytes (4 per field), then padding to the set end. */
  private optionsTemplateSet(emit: RecordHandler): number {
    const r = this.r;
    let n = 0;
    while (r.left() >= 6) {
      const id = r.u16();
      const scopeLen = r.u16();
      const optLen = r.u16();
      if (id === 0 && scopeLen === 0 && optLen === 0) break;
      const fields = (scopeLen + optLen) / 4;
      if (id < 256 || scopeLen % 4 !== 0 || optLen % 4 !== 0 || fields < 1 || fields > MAX_TEMPLATE_FIELDS) {
        throw new DecodeError('bad_template', `v9 options template ${id}: scope ${scopeLen} B, options ${optLen} B`);
      }
      for (let i = 0; i < fields; i++) {
        this.ids[i] = r.u16();
        this.lens[i] = r.u16();
        this.ents[i] = 0;
      }
      n += this.learn(id, TemplateKind.Options, scopeLen / 4, fields, emit);
    }
    return n;
  }
}
