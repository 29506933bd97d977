// Information elements shared by NetFlow v9 (RFC 3954) and IPFIX (RFC 7011): a template is compiled
// once into a plan (one action code per field) so decoding a data record is a tight loop over numbers.
import { DecodeError, TruncatedError } from '../lib/errors.js';
import type { Reader } from '../lib/reader.js';
import { FlowRecord, IpVersion, type RecordHandler } from '../flow/record.js';
import {
  Act, actionFor, isCounterAct, isEventField, isIpNextHop, isReverseAct, isSectionMetaAct, TemplateKind, VARLEN,
} from './elements.js';
import { compilePlan, type FixedPlan } from './fixed.js';
import { reverseHalf, type ForwardHalf } from './biflow.js';
import { ntpToMs, uptimeToMs } from './time.js';
import { DataContext, FieldState } from './field-state.js';
import { nonZero16 } from './wire.js';
import { applySection } from './section.js';

export const MAX_TEMPLATE_FIELDS = 512;
/** No record can exceed a set (16-bit length), so a longer fixed layout is a broken template. */
export const MAX_RECORD_LEN = 65535 - 4;

const NO_ACTS = new Uint8Array(0);

/**
 * A template: the wire layout (kept for comparison and persistence) plus the decode plan, which
 * prepare() builds when the template first meets a data set, so a template that never does (a
 * spoofed flood of them) costs its layout only.
 */
export class Template {
  /** Sum of fixed lengths; every variable-length field adds at least one length byte to minLen. */
  readonly fixedLen: number;
  readonly minLen: number;
  // the plan, set by prepare()
  acts: Uint8Array = NO_ACTS;
  hasV4 = false;
  hasV6 = false;
  /** Data templates without variable-length fields: the fixed-offset plan (fixed.ts). */
  plan: FixedPlan | undefined = undefined;
  /** RFC 5103 reverse elements: each record is two (biflow.ts). */
  biflow = false;
  /** A packet section (dataLinkFrameSection / ipHeaderPacketSection): parsed as a sampled packet (section.ts). */
  section = false;
  /** NAT or firewall events without counters: counted apart, never emitted as flows. */
  events = false;
  /** Any of the three: decoded by FieldDecoder.decodeChecked, so other templates pay one test per set. */
  special = false;
  private prepared = false;

  constructor(
    readonly version: number, readonly id: number, readonly kind: TemplateKind, readonly scopeCount: number,
    readonly ids: Uint16Array, readonly ents: Uint32Array, readonly lens: Uint16Array,
  ) {
    let fixed = 0, vars = 0;
    for (let i = 0; i < lens.length; i++) {
      if (lens[i] === VARLEN) vars++;
      else fixed += lens[i]!;
    }
    this.fixedLen = fixed;
    this.minLen = fixed + vars;
  }

  /** Builds the decode plan, once; every decode of a data or options set calls it first. */
  prepare(): this {
    if (this.prepared) return this;
    const { version, kind, scopeCount, ids, ents, lens } = this, n = ids.length;
    const acts = new Uint8Array(n);
    let v4 = false, v6 = false, biflow = false, section = false, counters = false, event = false, ipNextHop = false;
    for (let i = 0; i < n; i++) {
      const a = actionFor(version, kind, i < scopeCount, ids[i]!, ents[i]!, lens[i]!);
      acts[i] = a;
      if (a === Act.Src4 || a === Act.Dst4) v4 = true;
      if (a === Act.Src6 || a === Act.Dst6) v6 = true;
      if (isReverseAct(a)) biflow = true;
      if (a === Act.FrameSection || a === Act.IpSection) section = true;
      if (isCounterAct(a)) counters = true;
      if (kind === TemplateKind.Data && isEventField(version, ids[i]!, ents[i]!)) event = true;
      if (isIpNextHop(ids[i]!, ents[i]!)) ipNextHop = true;
    }
    // the BGP next hop (IE 18/63) only where the template has no IP next hop (IE 15/62)
    if (ipNextHop) {
      for (let i = 0; i < n; i++) {
        if ((acts[i] === Act.NextHop4 || acts[i] === Act.NextHop6) && !isIpNextHop(ids[i]!, ents[i]!)) acts[i] = Act.Skip;
      }
    }
    // framing of a section means nothing without one: skipped, so such templates read as before
    if (!section) for (let i = 0; i < n; i++) if (isSectionMetaAct(acts[i]!)) acts[i] = Act.Skip;
    this.acts = acts;
    this.hasV4 = v4;
    this.hasV6 = v6;
    this.biflow = biflow;
    this.section = section;
    this.events = event && !counters && !section;
    this.special = biflow || section || this.events;
    // sections (any length) go through the checked reader
    this.plan = kind === TemplateKind.Data && !section ? compilePlan(acts, lens, VARLEN) : undefined;
    this.prepared = true;
    return this;
  }

  /** Whether a re-sent template has the layout already compiled (the usual refresh: no allocation). */
  sameLayout(kind: TemplateKind, scopeCount: number, ids: ArrayLike<number>, ents: ArrayLike<number>,
    lens: ArrayLike<number>, n: number): boolean {
    if (kind !== this.kind || scopeCount !== this.scopeCount || n !== this.ids.length) return false;
    for (let i = 0; i < n; i++) {
      if (ids[i] !== this.ids[i] || ents[i] !== this.ents[i] || lens[i] !== this.lens[i]) return false;
    }
    return true;
  }
}

/** Validates and compiles the first n fields of a layout; throws DecodeError 'bad_template'. */
export function compileTemplate(version: number, id: number, kind: TemplateKind, scopeCount: number,
  ids: ArrayLike<number>, ents: ArrayLike<number>, lens: ArrayLike<number>, n: number): Template {
  if (n < 1 || n > MAX_TEMPLATE_FIELDS) throw new DecodeError('bad_template', `template ${id}: ${n} fields`);
  if (id < 256 || id > 65535) throw new DecodeError('bad_template', `template id ${id} is reserved`);
  if (scopeCount < 0 || scopeCount > n || (kind === TemplateKind.Data && scopeCount !== 0)) {
    throw new DecodeError('bad_template', `template ${id}: scope count ${scopeCount} of ${n} fields`);
  }
  const tIds = new Uint16Array(n), tEnts = new Uint32Array(n), tLens = new Uint16Array(n);
  for (let i = 0; i < n; i++) { tIds[i] = ids[i]!; tEnts[i] = ents[i]!; tLens[i] = lens[i]!; }
  const t = new Template(version, id, kind, scopeCount, tIds, tEnts, tLens);
  if (t.minLen === 0) throw new DecodeError('bad_template', `template ${id}: records of length 0`);
  if (t.fixedLen > MAX_RECORD_LEN) throw new DecodeError('bad_template', `template ${id}: ${t.fixedLen}-byte records`);
  return t;
}

/** Decodes records of one template into a reused FlowRecord; owns the per-record scratch state. */
export class FieldDecoder {
  readonly s = new FieldState();
  /** Set when part of a set could not be decoded (by decodeDataSet, checkPadding); the caller reports it. */
  error: DecodeError | undefined = undefined;
  /** Records of event templates (no counters) met since the owner last zeroed it: counted, not emitted. */
  events = 0;
  /** Throwaway record for options data, whose fields never reach the caller. */
  private readonly optRec = new FlowRecord();
  /** The forward half of a biflow record as it was before normalization could change it. */
  private readonly fwd: ForwardHalf = { startMs: 0, endMs: 0, samplingRate: 0 };

  /** Reads one record's fields: plain values straight into rec, the rest into this.s. */
  readFields(r: Reader, tpl: Template, rec: FlowRecord): void {
    const s = this.s, acts = tpl.acts, lens = tpl.lens, n = acts.length;
    s.reset();
    for (let i = 0; i < n; i++) {
      let len = lens[i]!;
      if (len === VARLEN) {
        len = r.u8();
        if (len === 255) len = r.u16();
        // only packet sections are read at a variable length
        if (acts[i] === Act.Skip) { r.skip(len); continue; }
      }
      switch (acts[i]) {
        case Act.Skip: r.skip(len); break;
        case Act.Src4: rec.src4 = r.u32(); break;
        case Act.Dst4: rec.dst4 = r.u32(); break;
        case Act.Src6: r.copyTo(rec.src6, 16); break;
        case Act.Dst6: r.copyTo(rec.dst6, 16); break;
        case Act.StartNtp: s.startMs = ntpToMs(r.u32(), r.u32()); break;
        case Act.EndNtp: s.endMs = ntpToMs(r.u32(), r.u32()); break;
        case Act.Bytes: s.bytes = r.uint(len); break;
        case Act.Packets: s.packets = r.uint(len); break;
        case Act.BytesTotal: s.bytesTotal = r.uint(len); break;
        case Act.PacketsTotal: s.packetsTotal = r.uint(len); break;
        case Act.OutBytes: s.outBytes = r.uint(len); break;
        case Act.OutPackets: s.outPackets = r.uint(len); break;
        case Act.Protocol: rec.protocol = r.uint(len); break;
        case Act.Tos: rec.tos = r.uint(len) & 0xff; break;
        case Act.TcpFlags: rec.tcpFlags = r.uint(len) & 0xff; break;
        case Act.SrcPort: rec.srcPort = r.uint(len); break;
        case Act.DstPort: rec.dstPort = r.uint(len); break;
        case Act.InIf: rec.inIf = r.uint(len); break;
        case Act.OutIf: rec.outIf = r.uint(len); break;
        case Act.EndUptime: s.endUp = r.uint(len); break;
        case Act.StartUptime: s.startUp = r.uint(len); break;
        case Act.IcmpTypeCode: s.icmpTypeCode = r.uint(len); break;
        case Act.IcmpType: s.icmpType = r.uint(len); break;
        case Act.IcmpCode: s.icmpCode = r.uint(len); break;
        case Act.SamplingInterval: s.samplingInterval = r.uint(len); break;
        case Act.SamplerId: s.samplerId = r.uint(len); break;
        case Act.RandomInterval: s.randomInterval = r.uint(len); break;
        case Act.Vlan: { const v = r.uint(len) & 0xfff; if (v !== 0) rec.vlan = v; break; }
        // postVlanId fills in only: a non-zero vlanId/dot1qVlanId overwrites it, in either order
        case Act.PostVlan: { const v = r.uint(len) & 0xfff; if (rec.vlan === 0) rec.vlan = v; break; }
        case Act.SrcAs: rec.srcAs = r.uint(len); break;
        case Act.DstAs: rec.dstAs = r.uint(len); break;
        case Act.NextHop4: { const v = r.u32(); if (v !== 0) { rec.nextHop4 = v; rec.nextHopVersion = IpVersion.V4; } break; }
        case Act.NextHop6: { r.copyTo(rec.nextHop6, 16); if (nonZero16(rec.nextHop6)) rec.nextHopVersion = IpVersion.V6; break; }
        case Act.IpVer: s.ipVersion = r.uint(len); break;
        case Act.Direction: s.direction = r.uint(len); break;
        case Act.EndReason: s.endReason = r.uint(len); break;
        case Act.StartSec: s.startMs = r.uint(len) * 1000; break;
        case Act.EndSec: s.endMs = r.uint(len) * 1000; break;
        case Act.StartMs: s.startMs = r.uint(len); break;
        case Act.EndMs: s.endMs = r.uint(len); break;
        case Act.StartDeltaUs: s.startDeltaUs = r.uint(len); break;
        case Act.EndDeltaUs: s.endDeltaUs = r.uint(len); break;
        case Act.SysInitMs: s.sysInitMs = r.uint(len); break;
        case Act.PktInterval: s.pktInterval = r.uint(len); break;
        case Act.PktSpace: s.pktSpace = r.uint(len); break;
        case Act.SampleSize: s.sampleSize = r.uint(len); break;
        case Act.SamplePopulation: s.samplePopulation = r.uint(len); break;
        case Act.RevBytes: s.rBytes = r.uint(len); break;
        case Act.RevPackets: s.rPackets = r.uint(len); break;
        case Act.RevBytesTotal: s.rBytesTotal = r.uint(len); break;
        case Act.RevPacketsTotal: s.rPacketsTotal = r.uint(len); break;
        case Act.RevTcpFlags: s.rTcpFlags = r.uint(len) & 0xff; break;
        case Act.RevTos: s.rTos = r.uint(len) & 0xff; break;
        case Act.RevVlan: s.rVlan = r.uint(len) & 0xfff; break;
        case Act.RevStartSec: s.rStartMs = r.uint(len) * 1000; break;
        case Act.RevEndSec: s.rEndMs = r.uint(len) * 1000; break;
        case Act.RevStartMs: s.rStartMs = r.uint(len); break;
        case Act.RevEndMs: s.rEndMs = r.uint(len); break;
        case Act.RevStartNtp: s.rStartMs = ntpToMs(r.u32(), r.u32()); break;
        case Act.RevEndNtp: s.rEndMs = ntpToMs(r.u32(), r.u32()); break;
        case Act.RevStartUptime: s.rStartUp = r.uint(len); break;
        case Act.RevEndUptime: s.rEndUp = r.uint(len); break;
        case Act.RevStartDeltaUs: s.rStartDeltaUs = r.uint(len); break;
        case Act.RevEndDeltaUs: s.rEndDeltaUs = r.uint(len); break;
        case Act.RevDeltaMs: s.rDeltaMs = r.uint(len); break;
        case Act.FrameSection: case Act.IpSection:
          // the first section of a record wins; its bytes stay in the reader's buffer
          if (s.secLen < 0) { s.secAt = r.pos; s.secLen = len; s.secIp = acts[i] === Act.IpSection; }
          r.skip(len);
          break;
        case Act.FrameSize: s.frameSize = r.uint(len); break;
        case Act.SectionOffset: s.secOffset = r.uint(len); break;
        case Act.SectionOctets: s.secOctets = r.uint(len); break;
        case Act.IpTotalLength: s.ipTotalLen = r.uint(len); break;
        case Act.OptIfIndex: s.optIf = r.uint(len); break;
        case Act.OptEgressIf: s.optEgressIf = r.uint(len); break;
        // the texts stay in the reader's buffer: the options path decodes them (interface-names.ts)
        case Act.IfName: s.nameAt = r.pos; s.nameLen = len; r.skip(len); break;
        case Act.IfDesc: s.descAt = r.pos; s.descLen = len; r.skip(len); break;
        default: r.skip(len);
      }
    }
  }

  /**
   * Decodes every record of a data set (the reader is the set's window) and returns how many were
   * emitted. A record cut short, or non-zero bytes after the last whole record, leave `error` set for
   * the caller to report: the records before it still count.
   */
  decodeDataSet(r: Reader, tpl: Template, ctx: DataContext, rec: FlowRecord, emit: RecordHandler): number {
    const plan = tpl.plan;
    if (tpl.special || plan === undefined) return this.decodeChecked(r, tpl, ctx, rec, emit);
    // fixed layout (minLen === plan.len): each record is checked whole, then read at fixed offsets
    let n = 0;
    const min = tpl.minLen, b = r.buf, s = this.s;
    this.error = undefined;
    while (r.left() >= min) {
      const p = r.pos;
      r.skip(min);
      rec.clear();
      s.reset();
      plan.read(b, p, s, rec);
      this.finish(rec, tpl, ctx);
      emit(rec);
      n++;
    }
    this.checkPadding(r, min);
    return n;
  }

  /**
   * decodeDataSet for variable-length layouts and for biflow, packet-section and event templates, whose
   * records may be cut short inside: the same framing, and such a record ends the set with `error` set.
   */
  private decodeChecked(r: Reader, tpl: Template, ctx: DataContext, rec: FlowRecord, emit: RecordHandler): number {
    let n = 0;
    const min = tpl.minLen, plan = tpl.plan, s = this.s, fwd = this.fwd;
    this.error = undefined;
    try {
      while (r.left() >= min) {
        if (tpl.events) {
          // only the framing matters: each record is checked whole, then skipped
          if (plan !== undefined) r.skip(min);
          else this.readFields(r, tpl, this.optRec);
          this.events++;
          continue;
        }
        rec.clear();
        if (tpl.biflow) s.resetReverse();
        if (tpl.section) s.resetSection();
        if (plan !== undefined) {
          const p = r.pos;
          r.skip(min);
          s.reset();
          plan.read(r.buf, p, s, rec);
        } else {
          this.readFields(r, tpl, rec);
        }
        this.finish(rec, tpl, ctx);
        if (tpl.section) applySection(r.buf, s, rec);
        if (tpl.biflow) {
          // before emit(): normalization may change them in rec
          fwd.startMs = rec.startMs;
          fwd.endMs = rec.endMs;
          fwd.samplingRate = rec.samplingRate;
        }
        emit(rec);
        n++;
        if (tpl.biflow && reverseHalf(rec, s, ctx, fwd)) {
          emit(rec);
          n++;
        }
      }
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.error = err;
      return n;
    }
    this.checkPadding(r, min);
    return n;
  }

  /**
   * Fewer bytes than the shortest record left at the end of a set are padding (RFC 7011 §3.3.1), which
   * exporters fill with zeros; anything else there is the start of a record cut short.
   */
  checkPadding(r: Reader, min: number): void {
    const left = r.left();
    if (left === 0) return;
    const b = r.buf;
    for (let i = r.pos; i < r.end; i++) {
      if (b[i] !== 0) {
        this.error = new TruncatedError(r.pos, min, left);
        return;
      }
    }
  }

  /** Reads one options record into this.s (returned) for the caller to apply to its tables. */
  readOptions(r: Reader, tpl: Template): FieldState {
    this.s.resetOptions();
    this.readFields(r, tpl, this.optRec);
    return this.s;
  }

  private finish(rec: FlowRecord, tpl: Template, ctx: DataContext): void {
    const s = this.s;
    // Delta counters first; totals when an exporter sends only those; post (egress) counters only when
    // nothing else is there, so a record carrying both directions' counters is never counted twice.
    rec.bytes = s.bytes >= 0 ? s.bytes : s.bytesTotal >= 0 ? s.bytesTotal : s.outBytes >= 0 ? s.outBytes : 0;
    rec.packets = s.packets >= 0 ? s.packets : s.packetsTotal >= 0 ? s.packetsTotal
      : s.outPackets >= 0 ? s.outPackets : 0;

    if (tpl.hasV4 && (s.ipVersion === 4 || !tpl.hasV6)) rec.ipVersion = IpVersion.V4;
    else if (tpl.hasV6) rec.ipVersion = IpVersion.V6;
    else if (s.ipVersion === 4) rec.ipVersion = IpVersion.V4;
    else if (s.ipVersion === 6) rec.ipVersion = IpVersion.V6;

    this.times(rec, ctx);

    const p = rec.protocol;
    if (p === 1 || p === 58) {
      if (s.icmpTypeCode >= 0) {
        rec.icmpType = (s.icmpTypeCode >>> 8) & 255;
        rec.icmpCode = s.icmpTypeCode & 255;
      } else if (s.icmpType >= 0) {
        rec.icmpType = s.icmpType & 255;
        rec.icmpCode = s.icmpCode >= 0 ? s.icmpCode & 255 : 0;
      } else {
        // Many exporters (pmacctd, softflowd, v5 routers) put type*256+code in the destination port.
        rec.icmpType = rec.dstPort >>> 8;
        rec.icmpCode = rec.dstPort & 255;
      }
    }

    let rate = s.ownRate();
    if (rate === 0 && s.samplerId >= 0 && ctx.samplers !== undefined) rate = ctx.samplers.get(s.samplerId) ?? 0;
    if (rate === 0) rate = ctx.exporterRate;
    rec.samplingRate = rate;
  }

  private times(rec: FlowRecord, ctx: DataContext): void {
    const s = this.s;
    // An absolute time of 0 is an exporter saying "unknown", not 1970.
    let start = s.startMs > 0 ? s.startMs : -1, end = s.endMs > 0 ? s.endMs : -1;
    if (s.startUp >= 0 || s.endUp >= 0) {
      if (ctx.sysUptimeMs >= 0) {
        if (start < 0 && s.startUp >= 0) start = uptimeToMs(ctx.exportMs, ctx.sysUptimeMs, s.startUp);
        if (end < 0 && s.endUp >= 0) end = uptimeToMs(ctx.exportMs, ctx.sysUptimeMs, s.endUp);
      } else {
        // IPFIX: flow*SysUpTime count from systemInitTimeMilliseconds, in the record or options data.
        const init = s.sysInitMs >= 0 ? s.sysInitMs : ctx.sysInitMs;
        if (init >= 0) {
          if (start < 0 && s.startUp >= 0) start = init + s.startUp;
          if (end < 0 && s.endUp >= 0) end = init + s.endUp;
        }
      }
    }
    if (start < 0 && s.startDeltaUs >= 0) start = ctx.exportMs - Math.floor(s.startDeltaUs / 1000);
    if (end < 0 && s.endDeltaUs >= 0) end = ctx.exportMs - Math.floor(s.endDeltaUs / 1000);
    if (start < 0 && end < 0) start = end = ctx.exportMs;
    else if (start < 0) start = end;
    else if (end < 0) end = start;
    // An inverted pair is an exporter bug, left for normalization to count (flow/normalize.ts).
    rec.startMs = start;
    rec.endMs = end;
  }
}
