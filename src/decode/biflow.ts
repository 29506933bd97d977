// RFC 5103 biflows: one record carries both directions, the reverse half in elements of PEN 29305.
// The reverse half becomes a record of its own, in the same reused FlowRecord after the forward half
// was emitted: endpoints, interfaces and AS numbers swapped, its own counters, flags and (when given)
// times, ToS and VLAN; no next hop.
import { IpVersion, type FlowRecord } from '../flow/record.js';
import type { DataContext, FieldState } from './field-state.js';
import { uptimeToMs } from './time.js';

/** The forward half's resolved values that normalization may since have changed in the record. */
export interface ForwardHalf { startMs: number; endMs: number; samplingRate: number }

/**
 * Turns rec (the forward half, already emitted) into the reverse half. Returns false, leaving rec as
 * it is, when the reverse direction carried nothing (a uniflow in a biflow template).
 */
export function reverseHalf(rec: FlowRecord, s: FieldState, ctx: DataContext, fwd: ForwardHalf): boolean {
  const bytes = s.rBytes >= 0 ? s.rBytes : s.rBytesTotal;
  const packets = s.rPackets >= 0 ? s.rPackets : s.rPacketsTotal;
  if (bytes <= 0 && packets <= 0) return false;
  const a4 = rec.src4;
  rec.src4 = rec.dst4;
  rec.dst4 = a4;
  const s6 = rec.src6, d6 = rec.dst6;
  for (let i = 0; i < 16; i++) {
    const b = s6[i]!;
    s6[i] = d6[i]!;
    d6[i] = b;
  }
  const port = rec.srcPort;
  rec.srcPort = rec.dstPort;
  rec.dstPort = port;
  const inIf = rec.inIf;
  rec.inIf = rec.outIf;
  rec.outIf = inIf;
  const as = rec.srcAs;
  rec.srcAs = rec.dstAs;
  rec.dstAs = as;
  // the forward half's next hop leads to its destination, not back to its source
  rec.nextHopVersion = IpVersion.None;
  if (s.rTos >= 0) rec.tos = s.rTos;
  rec.bytes = bytes > 0 ? bytes : 0;
  rec.packets = packets > 0 ? packets : 0;
  rec.tcpFlags = s.rTcpFlags >= 0 ? s.rTcpFlags : 0;
  if (s.rVlan > 0) rec.vlan = s.rVlan;
  rec.frameBytes = rec.scaledBytes = rec.scaledPackets = rec.scaledFlows = 0;
  rec.samplingRate = fwd.samplingRate;
  const init = s.sysInitMs >= 0 ? s.sysInitMs : ctx.sysInitMs;
  let start = when(s.rStartMs, s.rStartUp, s.rStartDeltaUs, ctx, init);
  let end = when(s.rEndMs, s.rEndUp, s.rEndDeltaUs, ctx, init);
  // YAF: the reverse half's first packet as an offset from the flow's start
  if (start < 0 && s.rDeltaMs >= 0) start = fwd.startMs + s.rDeltaMs;
  // a time not given is the biflow's own
  if (start < 0) start = fwd.startMs;
  if (end < 0) end = fwd.endMs;
  if (end < start) end = start === fwd.startMs ? fwd.endMs : start;
  rec.startMs = start;
  rec.endMs = end;
  return true;
}

/** Epoch ms of one reverse time from its absolute, uptime or delta form, as fields.ts times() resolves them; -1 none. */
function when(abs: number, up: number, deltaUs: number, ctx: DataContext, init: number): number {
  if (abs > 0) return abs; // 0 is "unknown", not 1970
  if (up >= 0) {
    if (ctx.sysUptimeMs >= 0) return uptimeToMs(ctx.exportMs, ctx.sysUptimeMs, up);
    if (init >= 0) return init + up;
  }
  if (deltaUs >= 0) return ctx.exportMs - Math.floor(deltaUs / 1000);
  return -1;
}
