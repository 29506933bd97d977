// Packet-section records (PSAMP, RFC 5476/5477): an exporter samples packets and sends the first bytes
// of each (dataLinkFrameSection from the frame start, ipHeaderPacketSection from the IP header) with
// the frame's length. Each record is one sampled packet, parsed as sFlow's raw headers are (packet.ts).
import { IpVersion, type FlowRecord } from '../flow/record.js';
import type { FieldState } from './field-state.js';
import { HeaderProtocol, parsePacketHeader } from './packet.js';

const ETH_HEADER = 14;

/**
 * Fills rec (already finished from the record's own fields) from the section in buf: endpoints, ports,
 * flags, and the packet's IP-layer length; packets 1. Counters the record carries itself win.
 */
export function applySection(buf: Uint8Array, s: FieldState, rec: FlowRecord): void {
  const ownBytes = s.bytes >= 0 || s.bytesTotal >= 0 || s.outBytes >= 0;
  const ownPackets = s.packets >= 0 || s.packetsTotal >= 0 || s.outPackets >= 0;
  const bytes = rec.bytes, packets = rec.packets;
  let len = s.secLen;
  // sectionExportedOctets: the bytes of the field that are packet (the rest would be padding)
  if (s.secOctets >= 0 && s.secOctets < len) len = s.secOctets;
  // a frame section's link header is at least Ethernet's, even when it cannot be parsed
  let l2 = s.secIp ? 0 : ETH_HEADER;
  rec.bytes = 0;
  // a section that does not start at its layer's first byte cannot be parsed
  if (len > 0 && s.secOffset <= 0) {
    let proto: number = HeaderProtocol.Ethernet;
    if (s.secIp) proto = buf[s.secAt]! >> 4 === 6 ? HeaderProtocol.Ipv6 : HeaderProtocol.Ipv4;
    rec.icmpType = rec.icmpCode = -1;
    l2 = parsePacketHeader(buf as Buffer, s.secAt, s.secAt + len, proto, rec);
  }
  if (rec.ipVersion === IpVersion.None || rec.bytes === 0) {
    // no IP length in the section: what the exporter says, else the frame less its link header
    if (s.ipTotalLen > 0) rec.bytes = s.ipTotalLen;
    else if (s.frameSize > l2) rec.bytes = s.frameSize - l2;
    else rec.bytes = 0;
  }
  if (s.frameSize > 0) rec.frameBytes = s.frameSize;
  if (ownBytes) rec.bytes = bytes;
  rec.packets = ownPackets ? packets : 1;
}
