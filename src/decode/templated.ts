// The set walking v9 (RFC 3954) and IPFIX (RFC 7011) share: a header then sets framed by {id, length},
// templates learned into the cache, data decoded through compiled plans. Its own file so neither format
// imports the other.
import { DecodeError } from '../lib/errors.js';
import { Reader } from '../lib/reader.js';
import { FlowRecord, type RecordHandler } from '../flow/record.js';
import type { DatagramDecoder, ErrorReporter } from './types.js';
import { FieldDecoder, MAX_TEMPLATE_FIELDS, type Template } from './fields.js';
import { DataContext } from './field-state.js';
import { TemplateKind } from './elements.js';
import type { TemplateCache } from './templates.js';
import type { PendingSet, TemplateScope } from './template-scope.js';
import type { SamplingEntry, SamplingTable } from './sampling.js';
import type { FieldState } from './field-state.js';
import { wireName, type InterfaceNames } from './interface-names.js';

export interface NetflowDecoderDeps {
  templates: TemplateCache;
  sampling: SamplingTable;
  report: ErrorReporter;
  /** where interface names from options data go; none learned without it */
  names?: InterfaceNames;
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
  private readonly names: InterfaceNames | undefined;
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
    this.names = deps.names;
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
   * Options data: sampling rates per sampler id or for the whole exporter+domain, the uptime base and
   * interface names. Other scopes (interface, line card) are not told apart for rates: theirs applies
   * to the exporter+domain.
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
        if (s.nameLen > 0 || s.descLen > 0) this.learnName(r.buf, s);
      }
      fd.checkPadding(r, tpl.minLen);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      fd.error = err;
    }
    this.refreshSampling();
  }

  /** interfaceName, else interfaceDescription, of the ifIndex the record names (ingress or v9 scope, else egress). */
  private learnName(buf: Buffer, s: FieldState): void {
    const ifIndex = s.optIf > 0 ? s.optIf : s.optEgressIf;
    if (this.names === undefined || ifIndex <= 0) return;
    let name = s.nameLen > 0 ? wireName(buf, s.nameAt, s.nameLen) : '';
    const fromDescription = name === '';
    if (fromDescription && s.descLen > 0) name = wireName(buf, s.descAt, s.descLen);
    if (name !== '') this.names.learn(this.exporter, ifIndex, name, fromDescription);
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
