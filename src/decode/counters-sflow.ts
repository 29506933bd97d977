// sFlow counter samples: the latest generic interface counters (sFlow v5, counter record 0:1) per
// agent|sub-agent|ifIndex. Agents poll every 20-30 s per interface, so this is not a hot path, but the
// key space comes from the wire: the map is capped and refused new keys are counted.
import type { Reader } from '../lib/reader.js';

export const SFLOW_COUNTER_DEFAULTS = {
  /** Distinct agent|sub-agent|ifIndex keys kept; new keys past this are dropped and counted. */
  maxEntries: 10_000,
} as const;

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
  inUcastPkts = 0;
  inMulticastPkts = 0;
  inBroadcastPkts = 0;
  inDiscards = 0;
  inErrors = 0;
  inUnknownProtos = 0;
  outOctets = 0;
  outUcastPkts = 0;
  outMulticastPkts = 0;
  outBroadcastPkts = 0;
  outDiscards = 0;
  outErrors = 0;
  promiscuousMode = 0;
  /** Epoch ms at which the datagram carrying this sample was received. */
  receivedMs = 0;

  copyFrom(o: IfCounters): this {
    this.agent = o.agent;
    this.subAgent = o.subAgent;
    this.ifIndex = o.ifIndex;
    this.ifType = o.ifType;
    this.ifSpeed = o.ifSpeed;
    this.ifDirection = o.ifDirection;
    this.ifStatus = o.ifStatus;
    this.inOctets = o.inOctets;
    this.inUcastPkts = o.inUcastPkts;
    this.inMulticastPkts = o.inMulticastPkts;
    this.inBroadcastPkts = o.inBroadcastPkts;
    this.inDiscards = o.inDiscards;
    this.inErrors = o.inErrors;
    this.inUnknownProtos = o.inUnknownProtos;
    this.outOctets = o.outOctets;
    this.outUcastPkts = o.outUcastPkts;
    this.outMulticastPkts = o.outMulticastPkts;
    this.outBroadcastPkts = o.outBroadcastPkts;
    this.outDiscards = o.outDiscards;
    this.outErrors = o.outErrors;
    this.promiscuousMode = o.promiscuousMode;
    this.receivedMs = o.receivedMs;
    return this;
  }
}

/**
 * Reads the 88-byte generic interface counters record (sFlow v5 "if_counters") into `into`
 * (agent, subAgent and receivedMs are the caller's). Throws TruncatedError if the record is short.
 */
export function readGenericIfCounters(r: Reader, into: IfCounters): void {
  into.ifIndex = r.u32();
  into.ifType = r.u32();
  into.ifSpeed = r.u64();
  into.ifDirection = r.u32();
  into.ifStatus = r.u32();
  into.inOctets = r.u64();
  into.inUcastPkts = r.u32();
  into.inMulticastPkts = r.u32();
  into.inBroadcastPkts = r.u32();
  into.inDiscards = r.u32();
  into.inErrors = r.u32();
  into.inUnknownProtos = r.u32();
  into.outOctets = r.u64();
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

export class SflowCounterStore {
  private readonly map = new Map<string, IfCounters>();
  /** Samples refused because the map was full and their key was new. */
  overflow = 0;

  constructor(readonly maxEntries: number = SFLOW_COUNTER_DEFAULTS.maxEntries) {}

  get size(): number {
    return this.map.size;
  }

  /** Keeps a copy of `c` as the latest sample of its key; false if refused (map full, new key). */
  put(c: IfCounters): boolean {
    const key = counterKey(c.agent, c.subAgent, c.ifIndex);
    const old = this.map.get(key);
    if (old) {
      old.copyFrom(c);
      return true;
    }
    if (this.map.size >= this.maxEntries) {
      this.overflow++;
      return false;
    }
    this.map.set(key, new IfCounters().copyFrom(c));
    return true;
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
