// sFlow counter samples: the latest generic interface counters (sFlow v5, counter record 0:1) per
// agent|sub-agent|ifIndex. Agents poll every 20-30 s per interface, so this is not a hot path, but the
// key space comes from the wire: the map is capped and refused new keys are counted.
// Given an `onDelta`, each sample that follows one of the same key also yields the counters' increase
// since it (IfCounterDelta): 32-bit counters may wrap once, and a counter reset (agent restart, the
// counter sample's sequence number or the agent's uptime going backwards, an increase no link could
// carry) starts a new baseline and is counted instead of giving a negative or absurd delta.
import type { Reader } from '../lib/reader.js';
import type { Metrics } from '../lib/counters.js';

export const SFLOW_COUNTER_DEFAULTS = {
  /** Distinct agent|sub-agent|ifIndex keys kept; new keys past this are dropped and counted. */
  maxEntries: 10_000,
  /**
   * Samples of one interface further apart than this (ms) give no delta but a new baseline (counted as
   * a reset, reason "gap"): the increase of a long silence does not belong to the interval it ends in.
   */
  maxGapMs: 15 * 60_000,
} as const;

const TWO32 = 2 ** 32;
/** An unsupported 32-bit counter is sent as all ones (2^32 - 1): it gives no delta. */
const UNKNOWN32 = TWO32 - 1;
/** Smallest frame a packet counter can count: bounds how many packets a link carries per second. */
const MIN_FRAME_BITS = 64 * 8;

/** Why a sample started a new baseline instead of giving a delta. */
export type CounterResetReason = 'sequence' | 'uptime' | 'counter' | 'gap';

/** One interface's counters as its last counter sample gave them (u64 octet counters as doubles). */
export class IfCounters {
  agent = '';
  subAgent = 0;
  ifIndex = 0;
  ifType = 0;
  ifSpeed = 0;
  /** 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out. */
  ifDirection = 0;
  /** bit 0 admin up, bit 1 operational up. */
  ifStatus = 0;
  inOctets = 0;
  /** ifInOctets as its two 32-bit halves: the delta stays exact above 2^53 */
  inOctetsHi = 0;
  inOctetsLo = 0;
  inUcastPkts = 0;
  inMulticastPkts = 0;
  inBroadcastPkts = 0;
  inDiscards = 0;
  inErrors = 0;
  inUnknownProtos = 0;
  outOctets = 0;
  outOctetsHi = 0;
  outOctetsLo = 0;
  outUcastPkts = 0;
  outMulticastPkts = 0;
  outBroadcastPkts = 0;
  outDiscards = 0;
  outErrors = 0;
  promiscuousMode = 0;
  /** Epoch ms at which the datagram carrying this sample was received. */
  receivedMs = 0;
  /** The counter sample's sequence_number (reset with the counters, sFlow v5 §5); -1 unknown. */
  sequence = -1;
  /** The datagram's uptime (ms since the agent booted, wraps at 2^32); -1 unknown. */
  uptimeMs = -1;

  copyFrom(o: IfCounters): this {
    // every field is a plain value of the same class: one call copies them all, none forgotten
    return Object.assign(this, o);
  }
}

/**
 * Reads the 88-byte generic interface counters record (sFlow v5 "if_counters") into `into`
 * (agent, subAgent, receivedMs, sequence and uptimeMs are the caller's). Throws TruncatedError if the
 * record is short.
 */
export function readGenericIfCounters(r: Reader, into: IfCounters): void {
  into.ifIndex = r.u32();
  into.ifType = r.u32();
  into.ifSpeed = r.u64();
  into.ifDirection = r.u32();
  into.ifStatus = r.u32();
  into.inOctetsHi = r.u32();
  into.inOctetsLo = r.u32();
  into.inOctets = into.inOctetsHi * TWO32 + into.inOctetsLo;
  into.inUcastPkts = r.u32();
  into.inMulticastPkts = r.u32();
  into.inBroadcastPkts = r.u32();
  into.inDiscards = r.u32();
  into.inErrors = r.u32();
  into.inUnknownProtos = r.u32();
  into.outOctetsHi = r.u32();
  into.outOctetsLo = r.u32();
  into.outOctets = into.outOctetsHi * TWO32 + into.outOctetsLo;
  into.outUcastPkts = r.u32();
  into.outMulticastPkts = r.u32();
  into.outBroadcastPkts = r.u32();
  into.outDiscards = r.u32();
  into.outErrors = r.u32();
  into.promiscuousMode = r.u32();
}

export function counterKey(agent: string, subAgent: number, ifIndex: number): string {
  return `${agent}|${subAgent}|${ifIndex}`;
}

/**
 * What one interface's counters rose by between two of its samples (octets exact below 2^53, the rest
 * 32-bit). One object, refilled for each sample: a listener copies what it keeps.
 */
export class IfCounterDelta {
  agent = '';
  ifIndex = 0;
  /** bits per second, as the later sample gave it */
  ifSpeed = 0;
  /** when the later sample arrived (epoch ms) */
  receivedMs = 0;
  inOctets = 0;
  inUcastPkts = 0;
  inErrors = 0;
  inDiscards = 0;
  outOctets = 0;
  outUcastPkts = 0;
  outErrors = 0;
  outDiscards = 0;
}

export interface CounterDeltaOptions {
  onDelta: (d: IfCounterDelta) => void;
  /**
   * The fastest link believed (bits/s; aggregate.maxLinkGbps): an increase beyond what it carries in
   * twice the time between the samples, plus 2 s, is a reset, not traffic. A 32-bit counter that went
   * down is a wrap only if the link (ifSpeed, when the agent gives one below this) could have carried
   * the wrapped increase in that time.
   */
  maxLinkBps: number;
  maxGapMs?: number;
  /** where sflow_counter_resets_total{exporter,reason} is counted (besides the `resets` field) */
  metrics?: Metrics;
}

/** A 64-bit counter's increase from its halves; -1 when it went down or rose more than `limit`. */
function rise64(oldHi: number, oldLo: number, hi: number, lo: number, limit: number): number {
  if (hi === UNKNOWN32 && lo === UNKNOWN32) return 0;
  if (oldHi === UNKNOWN32 && oldLo === UNKNOWN32) return 0;
  const d = (hi - oldHi) * TWO32 + (lo - oldLo);
  return d < 0 || d > limit ? -1 : d;
}

/** A 32-bit counter's increase, one wrap allowed when the link could carry it; -1 when implausible. */
function rise32(old: number, now: number, limit: number, wrapLimit: number): number {
  if (now === UNKNOWN32 || old === UNKNOWN32) return 0;
  if (now >= old) return now - old <= limit ? now - old : -1;
  const d = now + TWO32 - old;
  return d <= wrapLimit ? d : -1;
}

export class SflowCounterStore {
  private readonly map = new Map<string, IfCounters>();
  /** Samples refused because the map was full and their key was new. */
  overflow = 0;
  /** when the full store last dropped its stale entries */
  private sweptMs = -Infinity;
  /** Samples that started a new baseline instead of giving a delta (all reasons). */
  resets = 0;
  private readonly deltas: CounterDeltaOptions | undefined;
  private readonly maxGapMs: number;
  private readonly delta = new IfCounterDelta();

  constructor(readonly maxEntries: number = SFLOW_COUNTER_DEFAULTS.maxEntries, deltas?: CounterDeltaOptions) {
    this.deltas = deltas;
    this.maxGapMs = deltas?.maxGapMs ?? SFLOW_COUNTER_DEFAULTS.maxGapMs;
  }

  get size(): number {
    return this.map.size;
  }

  /**
   * Keeps a copy of `c` as the latest sample of its key; false if refused (map full, new key). With an
   * `onDelta`, a sample following one of its key first yields the rise since it, or counts a reset.
   */
  put(c: IfCounters): boolean {
    const key = counterKey(c.agent, c.subAgent, c.ifIndex);
    const old = this.map.get(key);
    if (old) {
      if (this.deltas !== undefined) this.compare(old, c, this.deltas);
      old.copyFrom(c);
      return true;
    }
    // full: the stale entries go first (at most a pass a second), so agents made up by a spoofed
    // flood hold the places for maxGapMs at most, not for good
    if (this.map.size >= this.maxEntries && c.receivedMs - this.sweptMs >= 1000) {
      this.sweptMs = c.receivedMs;
      this.expire(c.receivedMs - this.maxGapMs);
    }
    if (this.map.size >= this.maxEntries) {
      this.overflow++;
      return false;
    }
    this.map.set(key, new IfCounters().copyFrom(c));
    return true;
  }

  /** Emits the rise from `old` to `c`, or counts why `c` starts a new baseline. */
  private compare(old: IfCounters, c: IfCounters, o: CounterDeltaOptions): void {
    const gapMs = c.receivedMs - old.receivedMs;
    if (gapMs > this.maxGapMs) return this.reset(c, 'gap');
    if (c.sequence >= 0 && old.sequence >= 0 && c.sequence < old.sequence) return this.reset(c, 'sequence');
    // uptime is a u32 of ms: a drop of more than half its range is a wrap (49.7 days), not a reboot
    if (c.uptimeMs >= 0 && old.uptimeMs >= 0 && c.uptimeMs < old.uptimeMs && old.uptimeMs - c.uptimeMs < TWO32 / 2) {
      return this.reset(c, 'uptime');
    }
    // samples arrive out of step with the agent's polling: allow twice the gap, and 2 s more
    const secs = (2 * Math.max(0, gapMs)) / 1000 + 2;
    const octets = (o.maxLinkBps / 8) * secs;
    const packets = (o.maxLinkBps / MIN_FRAME_BITS) * secs;
    const speed = c.ifSpeed > 0 && c.ifSpeed < o.maxLinkBps ? c.ifSpeed : o.maxLinkBps;
    const wrap = (speed / MIN_FRAME_BITS) * secs;
    const d = this.delta;
    if ((d.inOctets = rise64(old.inOctetsHi, old.inOctetsLo, c.inOctetsHi, c.inOctetsLo, octets)) < 0 ||
      (d.outOctets = rise64(old.outOctetsHi, old.outOctetsLo, c.outOctetsHi, c.outOctetsLo, octets)) < 0 ||
      (d.inUcastPkts = rise32(old.inUcastPkts, c.inUcastPkts, packets, wrap)) < 0 ||
      (d.outUcastPkts = rise32(old.outUcastPkts, c.outUcastPkts, packets, wrap)) < 0 ||
      (d.inErrors = rise32(old.inErrors, c.inErrors, packets, wrap)) < 0 ||
      (d.outErrors = rise32(old.outErrors, c.outErrors, packets, wrap)) < 0 ||
      (d.inDiscards = rise32(old.inDiscards, c.inDiscards, packets, wrap)) < 0 ||
      (d.outDiscards = rise32(old.outDiscards, c.outDiscards, packets, wrap)) < 0) {
      return this.reset(c, 'counter');
    }
    d.agent = c.agent;
    d.ifIndex = c.ifIndex;
    d.ifSpeed = c.ifSpeed;
    d.receivedMs = c.receivedMs;
    o.onDelta(d);
  }

  /** Resets are rare (a restart, a lost poll): the registry lookup per reset costs nothing worth caching. */
  private reset(c: IfCounters, reason: CounterResetReason): void {
    this.resets++;
    this.deltas?.metrics?.counter('sflow_counter_resets_total',
      'sFlow counter samples that started a new baseline (agent restart, counter reset, long gap)',
      { exporter: c.agent, reason }).inc();
  }

  get(agent: string, subAgent: number, ifIndex: number): IfCounters | undefined {
    return this.map.get(counterKey(agent, subAgent, ifIndex));
  }

  /** Live entries keyed agent|subAgent|ifIndex; callers must not modify them. */
  entries(): IterableIterator<[string, IfCounters]> {
    return this.map.entries();
  }

  /** Drops entries last received before `beforeMs` (interfaces or agents gone); returns how many. */
  expire(beforeMs: number): number {
    let n = 0;
    for (const [k, v] of this.map) {
      if (v.receivedMs < beforeMs) {
        this.map.delete(k);
        n++;
      }
    }
    return n;
  }
}
