// The normalized flow record. Decoders fill ONE instance per decoder and hand it to a callback, which
// must copy what it keeps: the hot path allocates nothing per record and every instance has one shape.

export const enum IpVersion { None = 0, V4 = 4, V6 = 6 }

/**
 * Wire format of a datagram and source of its records (NetFlow version number; sFlow as 5000 so it
 * never clashes with v5; Unknown = not detected).
 */
export const enum Format { Unknown = 0, NetflowV5 = 5, NetflowV9 = 9, Ipfix = 10, Sflow = 5000 }

export class FlowRecord {
  /** Exporter address as text (agent address for sFlow), set once per datagram. */
  exporter = '';
  source = 0;
  /** v9 source id / IPFIX observation domain / sFlow sub-agent id; -1 when the format has none. */
  domain = -1;
  /** Absolute epoch milliseconds; start <= end once normalized (flow/normalize.ts). */
  startMs = 0;
  endMs = 0;
  ipVersion: IpVersion = IpVersion.None;
  /** IPv4 addresses as unsigned 32-bit integers (valid when ipVersion is 4). */
  src4 = 0;
  dst4 = 0;
  /** IPv6 addresses (valid when ipVersion is 6); preallocated, overwritten per record. */
  readonly src6: Buffer = Buffer.alloc(16);
  readonly dst6: Buffer = Buffer.alloc(16);
  srcPort = 0;
  dstPort = 0;
  protocol = 0;
  tcpFlags = 0;
  /** ICMP/ICMPv6 type and code; -1 when not ICMP. */
  icmpType = -1;
  icmpCode = -1;
  /** For ICMP destination/port unreachable: the quoted packet's protocol and destination port, else -1. */
  unreachProto = -1;
  unreachPort = -1;
  /** As sampled (not renormalized): IP-layer bytes and packets. */
  bytes = 0;
  packets = 0;
  /** Link-layer frame bytes where known (sFlow), else 0. */
  frameBytes = 0;
  /**
   * Sampling rate as the wire gave it (1 = unsampled); 0 = the wire said nothing; negative = the wire
   * gave a rate that cannot be (sFlow's 0). Normalization resolves and bounds it.
   */
  samplingRate = 0;
  /**
   * What the record stands for once renormalized by the sampling rate (flow/normalize.ts): exact
   * integers, bytes and packets bounded by line rate, flows = the rate. Aggregation and alerts count these.
   */
  scaledBytes = 0;
  scaledPackets = 0;
  scaledFlows = 0;
  /** SNMP ifIndex of the input and output interface; 0 = not carried (the value no interface has). */
  inIf = 0;
  outIf = 0;
  /** 802.1Q VLAN id, 0 when untagged/unknown. */
  vlan = 0;
  /** Source and destination AS (v5 header fields, IEs 16/17, sFlow extended gateway); 0 = unknown. */
  srcAs = 0;
  dstAs = 0;
  /** IP ToS / traffic class byte (DSCP = tos >> 2); 0 when not carried. */
  tos = 0;
  /** Next-hop router address: nextHopVersion 4 (nextHop4) or 6 (nextHop6), 0 when not carried. */
  nextHopVersion: IpVersion = IpVersion.None;
  nextHop4 = 0;
  readonly nextHop6: Buffer = Buffer.alloc(16);

  /** Resets every per-record field; exporter/source/domain are per datagram and left alone. */
  clear(): void {
    this.startMs = this.endMs = 0;
    this.ipVersion = IpVersion.None;
    this.src4 = this.dst4 = 0;
    this.srcPort = this.dstPort = this.protocol = this.tcpFlags = 0;
    this.icmpType = this.icmpCode = this.unreachProto = this.unreachPort = -1;
    this.bytes = this.packets = this.frameBytes = 0;
    this.samplingRate = 0;
    this.scaledBytes = this.scaledPackets = this.scaledFlows = 0;
    this.inIf = this.outIf = this.vlan = 0;
    this.srcAs = this.dstAs = this.tos = 0;
    this.nextHopVersion = IpVersion.None;
    this.nextHop4 = 0;
  }
}

export type RecordHandler = (rec: FlowRecord) => void;

/** Dotted quad of an unsigned 32-bit IPv4 address. */
export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** RFC 5952 text of a 16-byte IPv6 address (longest zero run compressed, lower case). */
export function ipv6ToString(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[i]! << 8) | b[i + 1]!);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(w);
  return `${hex(w.slice(0, bestAt))}::${hex(w.slice(bestAt + bestLen))}`;
}

export function srcAddress(r: FlowRecord): string {
  return r.ipVersion === IpVersion.V6 ? ipv6ToString(r.src6) : ipv4ToString(r.src4);
}

export function dstAddress(r: FlowRecord): string {
  return r.ipVersion === IpVersion.V6 ? ipv6ToString(r.dst6) : ipv4ToString(r.dst4);
}
