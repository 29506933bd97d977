// Parses a sampled packet header (sFlow raw packet header record, IPFIX packet section) into the
// reused FlowRecord: Ethernet II / 802.3 SNAP with up to four 802.1Q/QinQ tags, an MPLS label stack
// or a PPPoE session, IPv4 (with its ToS) or IPv6 (traffic class; extension headers walked), then
// TCP/UDP/SCTP ports, TCP flags, or ICMP/ICMPv6 type and code with the quoted packet of a
// destination-unreachable message. Agents cut headers at 64..256 bytes, so running out of bytes is
// normal here: parsing stops, keeps what it set, and the sample is still counted.
import { Reader } from '../lib/reader.js';
import { DecodeError } from '../lib/errors.js';
import { IpVersion, type FlowRecord } from '../flow/record.js';

/** sFlow header_protocol values this parser understands (sFlow v5 spec, "header_protocol"). */
export const enum HeaderProtocol { Ethernet = 1, Ipv4 = 11, Ipv6 = 12 }

const enum EtherType {
  Ipv4 = 0x0800, Ipv6 = 0x86dd, Dot1Q = 0x8100, Dot1AD = 0x88a8, QinQOld = 0x9100, Mpls = 0x8847, MplsMulticast = 0x8848,
  PppoeSession = 0x8864,
}

/** PPP protocol numbers of IP inside a PPPoE session (RFC 1661 / RFC 5072). */
const enum PppProto { Ipv4 = 0x0021, Ipv6 = 0x0057 }

const enum IpProto {
  HopByHop = 0, Icmp = 1, Tcp = 6, Udp = 17, Routing = 43, Fragment = 44, Ah = 51, Icmp6 = 58,
  DestOpts = 60, Sctp = 132, UdpLite = 136,
}

/** Bounds for loops driven by wire data: more tags or extension headers than this is not real traffic. */
const MAX_VLAN_TAGS = 4;
const MAX_V6_EXT_HEADERS = 8;
const MAX_MPLS_LABELS = 8;
const ETH_HEADER = 14;

// One reader for the module: parsing is synchronous and never re-entered, so nothing is allocated
// per call. It is cleared after each call so it does not keep the datagram alive.
const hr = new Reader();
/** Set by walkV6Ext: the walk ended at a non-first fragment, which carries no L4 header. */
let v6LaterFragment = false;
/**
 * Link-layer bytes before the network header, as far as ethernet() saw them: a tag, a label or a
 * PPPoE header counts once its type says it is there, so a header cut inside it still counts it.
 */
let linkLen = 0;

/**
 * Parses the header bytes buf[start, end) of protocol `proto` into rec (addresses, protocol, ToS, ports,
 * flags, ICMP fields, vlan, and `bytes` = the IP-layer length the IP header states, when it states a
 * usable one). Returns the link-layer header length found before the network header (0 for IPv4/
 * IPv6 header protocols and for unknown ones), which the caller needs for its byte-count fallback.
 * rec.ipVersion stays None when no IP header was found; truncation is not an error here.
 */
export function parsePacketHeader(buf: Buffer, start: number, end: number, proto: number, rec: FlowRecord): number {
  if (end > buf.length) end = buf.length;
  if (start < 0 || start > end) return 0;
  const r = hr.reset(buf, start, end);
  let l2 = 0;
  try {
    if (proto === HeaderProtocol.Ethernet) {
      linkLen = ETH_HEADER;
      const type = ethernet(r, rec);
      if (type === EtherType.Ipv4) ipv4(r, rec);
      else if (type === EtherType.Ipv6) ipv6(r, rec);
    } else if (proto === HeaderProtocol.Ipv4) {
      ipv4(r, rec);
    } else if (proto === HeaderProtocol.Ipv6) {
      ipv6(r, rec);
    }
  } catch (e) {
    // Only the reader's TruncatedError is expected: the header was cut where the agent stopped copying.
    if (!(e instanceof DecodeError)) throw e;
  } finally {
    hr.clear();
  }
  if (proto === HeaderProtocol.Ethernet) l2 = linkLen;
  return l2;
}

/** Reads MACs, tags and the EtherType; returns the EtherType of the network layer (0 if none). */
function ethernet(r: Reader, rec: FlowRecord): number {
  r.skip(12);
  let type = r.u16();
  if (type <= 1500) {
    // IEEE 802.3 length field: only LLC/SNAP (AA AA 03, OUI) carries an EtherType for IP.
    if (r.left() < 8 || r.u16() !== 0xaaaa || r.u8() !== 0x03) return 0;
    linkLen += 8;
    r.skip(3);
    type = r.u16();
  }
  // The first (outermost) tag is the VLAN the sampling port sees, as an extended switch record
  // would report it; inner QinQ tags belong to the customer and are skipped.
  for (let tags = 0; tags < MAX_VLAN_TAGS; tags++) {
    if (type !== EtherType.Dot1Q && type !== EtherType.Dot1AD && type !== EtherType.QinQOld) break;
    linkLen += 4;
    const tci = r.u16();
    if (tags === 0) rec.vlan = tci & 0x0fff;
    type = r.u16();
  }
  if (type === EtherType.Mpls || type === EtherType.MplsMulticast) return mpls(r);
  if (type === EtherType.PppoeSession) {
    // version/type, code, session id, length; then the PPP protocol
    linkLen += 8;
    r.skip(6);
    const ppp = r.u16();
    return ppp === PppProto.Ipv4 ? EtherType.Ipv4 : ppp === PppProto.Ipv6 ? EtherType.Ipv6 : 0;
  }
  return type;
}

/** Pops an MPLS label stack; the payload has no type field, so IPv4/IPv6 is told by its version nibble. */
function mpls(r: Reader): number {
  for (let i = 0; i < MAX_MPLS_LABELS; i++) {
    linkLen += 4;
    const entry = r.u32();
    if ((entry & 0x100) === 0) continue; // not the bottom of the stack
    if (r.left() < 1) return 0;
    const v = r.buf[r.pos]! >> 4;
    return v === 4 ? EtherType.Ipv4 : v === 6 ? EtherType.Ipv6 : 0;
  }
  return 0;
}

function ipv4(r: Reader, rec: FlowRecord): void {
  const start = r.pos;
  const vihl = r.u8();
  const ihl = (vihl & 15) * 4;
  if (vihl >> 4 !== 4 || ihl < 20) return;
  const tos = r.u8();
  const total = r.u16();
  r.skip(2); // identification
  const frag = r.u16() & 0x1fff;
  r.skip(1); // TTL
  const proto = r.u8();
  r.skip(2); // checksum
  const src = r.u32();
  const dst = r.u32();
  rec.ipVersion = IpVersion.V4;
  rec.src4 = src;
  rec.dst4 = dst;
  rec.protocol = proto;
  rec.tos = tos;
  // A total length shorter than the header is corrupt: leave bytes 0 so the caller falls back.
  if (total >= ihl) rec.bytes = total;
  r.skip(start + ihl - r.pos); // options
  if (frag !== 0) return; // later fragments carry no L4 header
  transport(r, proto, rec);
}

function ipv6(r: Reader, rec: FlowRecord): void {
  const first = r.u32(); // version, traffic class, flow label
  if (first >>> 28 !== 6) return;
  const payload = r.u16();
  const next = r.u8();
  r.skip(1); // hop limit
  r.copyTo(rec.src6, 16);
  r.copyTo(rec.dst6, 16);
  rec.ipVersion = IpVersion.V6;
  rec.protocol = next;
  rec.tos = (first >>> 20) & 0xff;
  // Payload length 0 is a jumbogram (or corrupt): leave bytes 0 so the caller falls back.
  if (payload > 0) rec.bytes = payload + 40;
  const proto = walkV6Ext(r, next, rec);
  if (v6LaterFragment) return;
  transport(r, proto, rec);
}

/**
 * Skips IPv6 extension headers starting at next-header `next`; returns the upper-layer protocol and
 * sets v6LaterFragment. `rec` (optional) gets the protocol as it is learned, so a cut header keeps
 * the last one known.
 */
function walkV6Ext(r: Reader, next: number, rec: FlowRecord | null): number {
  v6LaterFragment = false;
  for (let i = 0; i < MAX_V6_EXT_HEADERS; i++) {
    if (next === IpProto.HopByHop || next === IpProto.Routing || next === IpProto.DestOpts) {
      const nh = r.u8();
      r.skip(r.u8() * 8 + 6); // length in 8-octet units, not counting the first 8
      next = nh;
    } else if (next === IpProto.Fragment) {
      const nh = r.u8();
      r.skip(1);
      const offset = r.u16() >> 3;
      r.skip(4); // identification
      next = nh;
      if (offset !== 0) v6LaterFragment = true;
    } else if (next === IpProto.Ah) {
      const nh = r.u8();
      r.skip(r.u8() * 4 + 6); // length in 4-octet units minus 2 (RFC 4302)
      next = nh;
    } else {
      break;
    }
    if (rec !== null) rec.protocol = next;
    if (v6LaterFragment) break;
  }
  return next;
}

function transport(r: Reader, proto: number, rec: FlowRecord): void {
  switch (proto) {
    case IpProto.Tcp: {
      const sport = r.u16();
      const dport = r.u16();
      rec.srcPort = sport;
      rec.dstPort = dport;
      r.skip(8); // sequence, acknowledgement
      rec.tcpFlags = r.u16() & 0xff; // the classic 8 flag bits NetFlow reports (CWR..FIN)
      return;
    }
    case IpProto.Udp:
    case IpProto.Sctp:
    case IpProto.UdpLite: {
      const sport = r.u16();
      const dport = r.u16();
      rec.srcPort = sport;
      rec.dstPort = dport;
      return;
    }
    case IpProto.Icmp:
    case IpProto.Icmp6: {
      const type = r.u8();
      const code = r.u8();
      rec.icmpType = type;
      rec.icmpCode = code;
      // Destination unreachable quotes the offending packet after checksum and 4 unused bytes.
      if ((proto === IpProto.Icmp && type === 3) || (proto === IpProto.Icmp6 && type === 1)) {
        r.skip(6);
        quoted(r, rec);
      }
      return;
    }
  }
}

/** The packet quoted by an ICMP unreachable: its protocol and destination port (sFlow-RT's icmpunreachableport). */
function quoted(r: Reader, rec: FlowRecord): void {
  const start = r.pos;
  const first = r.u8();
  let proto: number;
  if (first >> 4 === 4) {
    const ihl = (first & 15) * 4;
    if (ihl < 20) return;
    r.skip(5);
    const frag = r.u16() & 0x1fff;
    r.skip(1);
    proto = r.u8();
    rec.unreachProto = proto;
    if (frag !== 0) return;
    r.skip(start + ihl - r.pos);
  } else if (first >> 4 === 6) {
    r.skip(5);
    const next = r.u8();
    r.skip(33); // hop limit, addresses
    proto = walkV6Ext(r, next, null);
    rec.unreachProto = proto;
    if (v6LaterFragment) return;
  } else {
    return;
  }
  if (proto === IpProto.Tcp || proto === IpProto.Udp || proto === IpProto.Sctp || proto === IpProto.UdpLite) {
    r.skip(2);
    rec.unreachPort = r.u16();
  }
}
