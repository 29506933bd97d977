// The fast path for data templates without variable-length fields (nearly all of them: softflowd,
// pmacctd, routers): every field sits at a fixed offset, so a record is bounds-checked once as a whole
// and its fields are read at precomputed offsets, skipping what the plan ignores, with no per-field
// checks or method calls. Each distinct layout is compiled once into straight-line code (a loop over
// a switch costs about three times as much per record); the generated source is built from the plan's
// numbers only (action codes, offsets, lengths), never from wire text.
import { Act } from './elements.js';
import type { FieldState } from './field-state.js';
import { IpVersion, type FlowRecord } from '../flow/record.js';
import { nonZero16, u32at as u32 } from './wire.js';
import { NTP_UNIX_OFFSET_S } from './time.js';

const TWO32 = 4294967296;

/** Reads one record at b[p, p + len) into the record and the field state (s reset by the caller). */
export type FixedReader = (b: Uint8Array, p: number, s: FieldState, rec: FlowRecord) => void;

/** Records a layout reads through the interpreter before it is compiled. */
export const COMPILE_AFTER = 64;

/**
 * The fields a fixed-length layout reads (Skip removed), with their offsets in the record. A layout is
 * compiled once it has carried a few records: a template that never sees data (a spoofed flood of
 * them) costs no compilation.
 */
export class FixedPlan {
  read: FixedReader;
  private uses = 0;
  constructor(
    /** record length in bytes */
    readonly len: number,
    readonly acts: Uint8Array,
    readonly offs: Uint16Array,
    readonly lens: Uint8Array,
  ) {
    this.read = (b, p, s, rec) => {
      if (++this.uses >= COMPILE_AFTER) this.read = compiledReader(this);
      readFixed(b, p, this, s, rec);
    };
  }
}

/** Layouts compiled so far, shared by every exporter sending the same layout; bounded. */
const compiled = new Map<string, FixedReader>();
const MAX_COMPILED = 512;

/** Straight-line reader of a plan; past MAX_COMPILED distinct layouts, the interpreting readFixed. */
function compiledReader(plan: FixedPlan): FixedReader {
  const key = `${plan.len}:${Array.from(plan.acts).join(',')}:${Array.from(plan.offs).join(',')}:${Array.from(plan.lens).join(',')}`;
  let f = compiled.get(key);
  if (f !== undefined) return f;
  if (compiled.size >= MAX_COMPILED) return (b, p, s, rec) => readFixed(b, p, plan, s, rec);
  const lines: string[] = [];
  for (let i = 0; i < plan.acts.length; i++) {
    const line = fieldSource(plan.acts[i]!, plan.offs[i]!, plan.lens[i]!);
    if (line !== '') lines.push(line);
  }
  f = new Function('b', 'p', 's', 'rec', `'use strict';\n${lines.join('\n')}`) as FixedReader;
  compiled.set(key, f);
  return f;
}

const byte = (o: number) => `b[p + ${o}]`;
const u32Src = (o: number) => `((${byte(o)} << 24) | (${byte(o + 1)} << 16) | (${byte(o + 2)} << 8) | ${byte(o + 3)}) >>> 0`;

/** Source of the unsigned value of len bytes at o, computed exactly as uint() does. */
function uintSrc(o: number, len: number): string {
  switch (len) {
    case 1: return byte(o);
    case 2: return `((${byte(o)} << 8) | ${byte(o + 1)})`;
    case 4: return `(${u32Src(o)})`;
    case 8: return `((${u32Src(o)}) * ${TWO32} + (${u32Src(o + 4)}))`;
  }
  let v = '0';
  for (let i = 0; i < len; i++) v = `(${v} * 256 + ${byte(o + i)})`;
  return v;
}

/** One field's statement, mirroring readFixed's switch. */
function fieldSource(act: number, o: number, len: number): string {
  const u = uintSrc(o, len);
  const copy = (dst: string) => Array.from({ length: 16 }, (_, i) => `${dst}[${i}] = ${byte(o + i)};`).join(' ');
  const ntp = `((${u32Src(o)}) - ${NTP_UNIX_OFFSET_S}) * 1000 + Math.floor(((${u32Src(o + 4)}) * 1000) / ${TWO32})`;
  switch (act) {
    case Act.Src4: return `rec.src4 = ${u32Src(o)};`;
    case Act.Dst4: return `rec.dst4 = ${u32Src(o)};`;
    case Act.Src6: return `{ const d = rec.src6; ${copy('d')} }`;
    case Act.Dst6: return `{ const d = rec.dst6; ${copy('d')} }`;
    case Act.StartNtp: return `s.startMs = ${ntp};`;
    case Act.EndNtp: return `s.endMs = ${ntp};`;
    case Act.Bytes: return `s.bytes = ${u};`;
    case Act.Packets: return `s.packets = ${u};`;
    case Act.BytesTotal: return `s.bytesTotal = ${u};`;
    case Act.PacketsTotal: return `s.packetsTotal = ${u};`;
    case Act.OutBytes: return `s.outBytes = ${u};`;
    case Act.OutPackets: return `s.outPackets = ${u};`;
    case Act.Protocol: return `rec.protocol = ${u};`;
    case Act.Tos: return `rec.tos = ${u} & 255;`;
    case Act.TcpFlags: return `rec.tcpFlags = ${u} & 255;`;
    case Act.SrcPort: return `rec.srcPort = ${u};`;
    case Act.DstPort: return `rec.dstPort = ${u};`;
    case Act.InIf: return `rec.inIf = ${u};`;
    case Act.OutIf: return `rec.outIf = ${u};`;
    case Act.EndUptime: return `s.endUp = ${u};`;
    case Act.StartUptime: return `s.startUp = ${u};`;
    case Act.IcmpTypeCode: return `s.icmpTypeCode = ${u};`;
    case Act.IcmpType: return `s.icmpType = ${u};`;
    case Act.IcmpCode: return `s.icmpCode = ${u};`;
    case Act.SamplingInterval: return `s.samplingInterval = ${u};`;
    case Act.SamplerId: return `s.samplerId = ${u};`;
    case Act.RandomInterval: return `s.randomInterval = ${u};`;
    case Act.Vlan: return `{ const v = ${u} & 4095; if (v !== 0) rec.vlan = v; }`;
    case Act.PostVlan: return `if (rec.vlan === 0) rec.vlan = ${u} & 4095;`;
    case Act.SrcAs: return `rec.srcAs = ${u};`;
    case Act.DstAs: return `rec.dstAs = ${u};`;
    case Act.NextHop4: return `{ const v = ${u32Src(o)}; if (v !== 0) { rec.nextHop4 = v; rec.nextHopVersion = ${IpVersion.V4}; } }`;
    case Act.NextHop6: {
      const any = Array.from({ length: 16 }, (_, i) => `d[${i}]`).join(' | ');
      return `{ const d = rec.nextHop6; ${copy('d')} if ((${any}) !== 0) rec.nextHopVersion = ${IpVersion.V6}; }`;
    }
    case Act.IpVer: return `s.ipVersion = ${u};`;
    case Act.Direction: return `s.direction = ${u};`;
    case Act.EndReason: return `s.endReason = ${u};`;
    case Act.StartSec: return `s.startMs = ${u} * 1000;`;
    case Act.EndSec: return `s.endMs = ${u} * 1000;`;
    case Act.StartMs: return `s.startMs = ${u};`;
    case Act.EndMs: return `s.endMs = ${u};`;
    case Act.StartDeltaUs: return `s.startDeltaUs = ${u};`;
    case Act.EndDeltaUs: return `s.endDeltaUs = ${u};`;
    case Act.SysInitMs: return `s.sysInitMs = ${u};`;
    case Act.PktInterval: return `s.pktInterval = ${u};`;
    case Act.PktSpace: return `s.pktSpace = ${u};`;
    case Act.SampleSize: return `s.sampleSize = ${u};`;
    case Act.SamplePopulation: return `s.samplePopulation = ${u};`;
    case Act.RevBytes: return `s.rBytes = ${u};`;
    case Act.RevPackets: return `s.rPackets = ${u};`;
    case Act.RevBytesTotal: return `s.rBytesTotal = ${u};`;
    case Act.RevPacketsTotal: return `s.rPacketsTotal = ${u};`;
    case Act.RevTcpFlags: return `s.rTcpFlags = ${u} & 255;`;
    case Act.RevTos: return `s.rTos = ${u} & 255;`;
    case Act.RevVlan: return `s.rVlan = ${u} & 4095;`;
    case Act.RevStartSec: return `s.rStartMs = ${u} * 1000;`;
    case Act.RevEndSec: return `s.rEndMs = ${u} * 1000;`;
    case Act.RevStartMs: return `s.rStartMs = ${u};`;
    case Act.RevEndMs: return `s.rEndMs = ${u};`;
    case Act.RevStartNtp: return `s.rStartMs = ${ntp};`;
    case Act.RevEndNtp: return `s.rEndMs = ${ntp};`;
    case Act.RevStartUptime: return `s.rStartUp = ${u};`;
    case Act.RevEndUptime: return `s.rEndUp = ${u};`;
    case Act.RevStartDeltaUs: return `s.rStartDeltaUs = ${u};`;
    case Act.RevEndDeltaUs: return `s.rEndDeltaUs = ${u};`;
    case Act.RevDeltaMs: return `s.rDeltaMs = ${u};`;
  }
  // section acts never reach a plan (section templates have none)
  return '';
}

/** A plan for the layout, or undefined when it has a variable-length field (the checked path reads it). */
export function compilePlan(acts: Uint8Array, lens: Uint16Array, varLen: number): FixedPlan | undefined {
  let len = 0, used = 0;
  for (let i = 0; i < lens.length; i++) {
    if (lens[i] === varLen) return undefined;
    if (acts[i] !== Act.Skip) used++;
  }
  const pa = new Uint8Array(used), po = new Uint16Array(used), pl = new Uint8Array(used);
  let j = 0;
  for (let i = 0; i < lens.length; i++) {
    // actionFor() maps every field it reads to a length of 1..16, so the Uint8Array holds it
    if (acts[i] !== Act.Skip) { pa[j] = acts[i]!; po[j] = len; pl[j] = lens[i]!; j++; }
    len += lens[i]!;
  }
  return new FixedPlan(len, pa, po, pl);
}


/** Unsigned big-endian integer of 1..8 bytes at o (reduced-size encoding), exact below 2^53. */
function uint(b: Uint8Array, o: number, len: number): number {
  switch (len) {
    case 1: return b[o]!;
    case 2: return (b[o]! << 8) | b[o + 1]!;
    case 4: return u32(b, o);
    case 8: return u32(b, o) * TWO32 + u32(b, o + 4);
  }
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[o + i]!;
  return v;
}

function copy16(b: Uint8Array, o: number, dst: Uint8Array): void {
  for (let i = 0; i < 16; i++) dst[i] = b[o + i]!;
}

function ntpToMs(b: Uint8Array, o: number): number {
  return (u32(b, o) - NTP_UNIX_OFFSET_S) * 1000 + Math.floor((u32(b, o + 4) * 1000) / TWO32);
}

/**
 * Reads one record at b[p, p + plan.len) (the caller has checked it is there) into rec and s, exactly
 * as FieldDecoder.readFields would; s must have been reset.
 */
export function readFixed(b: Uint8Array, p: number, plan: FixedPlan, s: FieldState, rec: FlowRecord): void {
  const acts = plan.acts, offs = plan.offs, lens = plan.lens, n = acts.length;
  for (let i = 0; i < n; i++) {
    const o = p + offs[i]!, len = lens[i]!, act = acts[i]!;
    switch (act) {
      case Act.Src4: rec.src4 = u32(b, o); break;
      case Act.Dst4: rec.dst4 = u32(b, o); break;
      case Act.Src6: copy16(b, o, rec.src6); break;
      case Act.Dst6: copy16(b, o, rec.dst6); break;
      case Act.StartNtp: s.startMs = ntpToMs(b, o); break;
      case Act.EndNtp: s.endMs = ntpToMs(b, o); break;
      case Act.Bytes: s.bytes = uint(b, o, len); break;
      case Act.Packets: s.packets = uint(b, o, len); break;
      case Act.BytesTotal: s.bytesTotal = uint(b, o, len); break;
      case Act.PacketsTotal: s.packetsTotal = uint(b, o, len); break;
      case Act.OutBytes: s.outBytes = uint(b, o, len); break;
      case Act.OutPackets: s.outPackets = uint(b, o, len); break;
      case Act.Protocol: rec.protocol = uint(b, o, len); break;
      case Act.Tos: rec.tos = uint(b, o, len) & 0xff; break;
      case Act.TcpFlags: rec.tcpFlags = uint(b, o, len) & 0xff; break;
      case Act.SrcPort: rec.srcPort = uint(b, o, len); break;
      case Act.DstPort: rec.dstPort = uint(b, o, len); break;
      case Act.InIf: rec.inIf = uint(b, o, len); break;
      case Act.OutIf: rec.outIf = uint(b, o, len); break;
      case Act.EndUptime: s.endUp = uint(b, o, len); break;
      case Act.StartUptime: s.startUp = uint(b, o, len); break;
      case Act.IcmpTypeCode: s.icmpTypeCode = uint(b, o, len); break;
      case Act.IcmpType: s.icmpType = uint(b, o, len); break;
      case Act.IcmpCode: s.icmpCode = uint(b, o, len); break;
      case Act.SamplingInterval: s.samplingInterval = uint(b, o, len); break;
      case Act.SamplerId: s.samplerId = uint(b, o, len); break;
      case Act.RandomInterval: s.randomInterval = uint(b, o, len); break;
      case Act.Vlan: { const v = uint(b, o, len) & 0xfff; if (v !== 0) rec.vlan = v; break; }
      case Act.PostVlan: if (rec.vlan === 0) rec.vlan = uint(b, o, len) & 0xfff; break;
      case Act.SrcAs: rec.srcAs = uint(b, o, len); break;
      case Act.DstAs: rec.dstAs = uint(b, o, len); break;
      case Act.NextHop4: { const v = u32(b, o); if (v !== 0) { rec.nextHop4 = v; rec.nextHopVersion = IpVersion.V4; } break; }
      case Act.NextHop6: copy16(b, o, rec.nextHop6); if (nonZero16(rec.nextHop6)) rec.nextHopVersion = IpVersion.V6; break;
      case Act.IpVer: s.ipVersion = uint(b, o, len); break;
      case Act.Direction: s.direction = uint(b, o, len); break;
      case Act.EndReason: s.endReason = uint(b, o, len); break;
      case Act.StartSec: s.startMs = uint(b, o, len) * 1000; break;
      case Act.EndSec: s.endMs = uint(b, o, len) * 1000; break;
      case Act.StartMs: s.startMs = uint(b, o, len); break;
      case Act.EndMs: s.endMs = uint(b, o, len); break;
      case Act.StartDeltaUs: s.startDeltaUs = uint(b, o, len); break;
      case Act.EndDeltaUs: s.endDeltaUs = uint(b, o, len); break;
      case Act.SysInitMs: s.sysInitMs = uint(b, o, len); break;
      case Act.PktInterval: s.pktInterval = uint(b, o, len); break;
      case Act.PktSpace: s.pktSpace = uint(b, o, len); break;
      case Act.SampleSize: s.sampleSize = uint(b, o, len); break;
      case Act.SamplePopulation: s.samplePopulation = uint(b, o, len); break;
      default: if (act >= Act.RevBytes) readReverse(b, o, len, act, s);
    }
  }
}

/** readFixed's reverse-half fields (biflow templates), out of the common switch. */
function readReverse(b: Uint8Array, o: number, len: number, act: number, s: FieldState): void {
  switch (act) {
    case Act.RevBytes: s.rBytes = uint(b, o, len); break;
    case Act.RevPackets: s.rPackets = uint(b, o, len); break;
    case Act.RevBytesTotal: s.rBytesTotal = uint(b, o, len); break;
    case Act.RevPacketsTotal: s.rPacketsTotal = uint(b, o, len); break;
    case Act.RevTcpFlags: s.rTcpFlags = uint(b, o, len) & 0xff; break;
    case Act.RevTos: s.rTos = uint(b, o, len) & 0xff; break;
    case Act.RevVlan: s.rVlan = uint(b, o, len) & 0xfff; break;
    case Act.RevStartSec: s.rStartMs = uint(b, o, len) * 1000; break;
    case Act.RevEndSec: s.rEndMs = uint(b, o, len) * 1000; break;
    case Act.RevStartMs: s.rStartMs = uint(b, o, len); break;
    case Act.RevEndMs: s.rEndMs = uint(b, o, len); break;
    case Act.RevStartNtp: s.rStartMs = ntpToMs(b, o); break;
    case Act.RevEndNtp: s.rEndMs = ntpToMs(b, o); break;
    case Act.RevStartUptime: s.rStartUp = uint(b, o, len); break;
    case Act.RevEndUptime: s.rEndUp = uint(b, o, len); break;
    case Act.RevStartDeltaUs: s.rStartDeltaUs = uint(b, o, len); break;
    case Act.RevEndDeltaUs: s.rEndDeltaUs = uint(b, o, len); break;
    case Act.RevDeltaMs: s.rDeltaMs = uint(b, o, len); break;
  }
}
