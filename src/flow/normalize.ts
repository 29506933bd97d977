// Every decoded record passes here before it is counted, so aggregation and alerts see the same
// plausible numbers whatever arrived on the wire: the sampling rate resolved and bounded, the times
// and counters checked against what one real flow can be, and the record renormalized into exact
// integers. Nothing is dropped: what cannot be is adjusted and counted, so one crafted record can
// neither cost more work than a real one nor poison a total.
import type { FlowRecord } from './record.js';

/** What was wrong with a record: bits of normalize()'s result. */
export const enum Bad { None = 0, Time = 1, Counter = 2, Sampling = 4 }

/** The kinds as counted and logged, by bit. */
export const BAD_KINDS: readonly [Bad, string][] = [[Bad.Time, 'bad_time'], [Bad.Counter, 'bad_counter'], [Bad.Sampling, 'bad_sampling']];

export interface RecordLimits {
  /** rate for records whose exporter says nothing (1 = unsampled) */
  defaultRate: number;
  /** exporter address → rate; wins over what the exporter says */
  overrides: Readonly<Record<string, number>>;
  /** a rate above this (or below 1) is refused and counted; the default rate applies instead */
  maxRate: number;
  /**
   * A [start, end] longer than this, an end before its start, or an end this far past the datagram's
   * arrival is no flow an exporter can have seen: the record counts at its end (at its arrival when the
   * end is what is wrong), as `assign: end` would count it.
   */
  maxFlowDurationMs: number;
  /** IP bytes per packet above this cannot be: 65,535 is the largest IP packet, above any jumbo frame, and what a host capture sees with GRO/TSO */
  maxPacketBytes: number;
  /** the fastest link (bits/s): no record carries more bytes, or more minimum-size packets, than it could over its span */
  maxLinkBps: number;
}

export const RECORD_LIMITS_DEFAULTS: Readonly<RecordLimits> = Object.freeze({
  defaultRate: 1,
  overrides: {},
  maxRate: 1_000_000,
  maxFlowDurationMs: 2 * 3_600_000,
  maxPacketBytes: 65_535,
  maxLinkBps: 1e12,
});

/** A record with no span (a sFlow sample, start = end) is checked as if it lasted this long: exporters' clocks tick in seconds at worst. */
const MIN_SPAN_MS = 1000;
/** Bits of the smallest Ethernet frame: the most packets a link can carry per bit of its rate. */
const MIN_FRAME_BITS = 64 * 8;
/** Exporters whose fractional-rate remainders are carried; past this the carries start over (under one unit each is lost). */
const MAX_CARRIES = 10_000;
const FLOOR_SLACK = 1e-6;

export class RecordNormalizer {
  readonly limits: RecordLimits;
  // the limits as plain numbers, read per record
  private readonly hasOverrides: boolean;
  private readonly defaultRate: number;
  private readonly maxRate: number;
  private readonly maxDur: number;
  private readonly maxPacket: number;
  private readonly bytesPerMs: number;
  private readonly packetsPerMs: number;
  /** exporter → the fractions of bytes, packets and flows that fractional rates have not yet counted */
  private readonly carries = new Map<string, Float64Array>();

  constructor(limits: Partial<RecordLimits> = {}) {
    const l = (this.limits = { ...RECORD_LIMITS_DEFAULTS, ...limits });
    this.hasOverrides = Object.keys(l.overrides).length > 0;
    this.defaultRate = l.defaultRate;
    this.maxRate = l.maxRate;
    this.maxDur = l.maxFlowDurationMs;
    this.maxPacket = l.maxPacketBytes;
    this.bytesPerMs = l.maxLinkBps / 8 / 1000;
    this.packetsPerMs = l.maxLinkBps / MIN_FRAME_BITS / 1000;
  }

  /**
   * Normalizes `rec` in place; `arrivalMs` is when its datagram arrived (capture time in replay).
   * Returns the Bad bits of what had to be adjusted: 0 for a sound record, the usual and cheap path
   * (each test is written so that NaN fails it).
   */
  normalize(rec: FlowRecord, arrivalMs: number): number {
    let bad = 0;
    let r = rec.samplingRate;
    if (this.hasOverrides) {
      const o = this.limits.overrides[rec.exporter];
      if (o !== undefined) r = o;
    }
    if (r === 0) r = this.defaultRate;
    else if (!(r >= 1 && r <= this.maxRate)) {
      bad = Bad.Sampling;
      r = this.defaultRate;
    }
    rec.samplingRate = r;

    const s = rec.startMs, e = rec.endMs, d = e - s, maxDur = this.maxDur;
    let span = d;
    if (!(s >= 0 && d >= 0 && d <= maxDur && e <= arrivalMs + maxDur)) {
      bad |= Bad.Time;
      const end = e <= arrivalMs + maxDur && e >= 0 ? e : arrivalMs;
      rec.startMs = rec.endMs = end;
      span = 0;
    }
    if (span < MIN_SPAN_MS) span = MIN_SPAN_MS;

    const b = rec.bytes, p = rec.packets;
    if (!(b * r <= span * this.bytesPerMs && p * r <= span * this.packetsPerMs && (p === 0 || b <= p * this.maxPacket))) {
      bad |= Bad.Counter;
      this.clamp(rec, r, span);
    }

    if (r === 1) {
      rec.scaledBytes = rec.bytes;
      rec.scaledPackets = rec.packets;
      rec.scaledFlows = 1;
    } else if (r % 1 === 0) {
      // below 2^53 by the bounds above, so exact
      rec.scaledBytes = rec.bytes * r;
      rec.scaledPackets = rec.packets * r;
      rec.scaledFlows = r;
    } else {
      this.fractional(rec, rec.bytes, rec.packets, r);
    }
    return bad;
  }

  /** Counters past what one flow can carry: at most line rate over the span, at most a largest packet per packet. */
  private clamp(rec: FlowRecord, r: number, span: number): void {
    let b = rec.bytes, p = rec.packets;
    const maxB = span * this.bytesPerMs, maxP = span * this.packetsPerMs;
    if (!(b * r <= maxB)) b = b >= 0 ? Math.floor(maxB / r) : 0;
    if (!(p * r <= maxP)) p = p >= 0 ? Math.floor(maxP / r) : 0;
    if (p > 0 && b > p * this.maxPacket) b = p * this.maxPacket;
    rec.bytes = b;
    rec.packets = p;
  }

  /**
   * A fractional rate (samplingPacketInterval/Space, population/size) renormalized into integers: the
   * fractions are carried per exporter, so its scaled counters add up to the exact products within one
   * unit.
   */
  private fractional(rec: FlowRecord, b: number, p: number, r: number): void {
    let c = this.carries.get(rec.exporter);
    if (c === undefined) {
      if (this.carries.size >= MAX_CARRIES) this.carries.clear();
      c = new Float64Array(3);
      this.carries.set(rec.exporter, c);
    }
    const xb = b * r + c[0]!, xp = p * r + c[1]!, xf = r + c[2]!;
    // a whole number that floating point left a hair below must not lose its unit (4/3 × 3 = 3.9999…)
    rec.scaledBytes = Math.floor(xb + FLOOR_SLACK);
    rec.scaledPackets = Math.floor(xp + FLOOR_SLACK);
    rec.scaledFlows = Math.floor(xf + FLOOR_SLACK);
    c[0] = xb - rec.scaledBytes;
    c[1] = xp - rec.scaledPackets;
    c[2] = xf - rec.scaledFlows;
  }
}
