// Information elements flowbridge reads (IANA ids; v9 field types share the numbers below 128) and
// the decode action each gets for its length and template kind. Everything else is skipped.
export const enum TemplateKind { Data = 0, Options = 1 }

/** IPFIX variable-length marker (RFC 7011 §7); accepted in v9 too, where no exporter should send it. */
export const VARLEN = 65535;

/** IANA information element ids (v9 field types share the numbers below 128). */
export const enum Ie {
  OctetDeltaCount = 1, PacketDeltaCount = 2, ProtocolIdentifier = 4, IpClassOfService = 5,
  TcpControlBits = 6, SourceTransportPort = 7, SourceIPv4Address = 8, IngressInterface = 10,
  DestinationTransportPort = 11, DestinationIPv4Address = 12, EgressInterface = 14, IpNextHopIPv4Address = 15,
  BgpSourceAsNumber = 16, BgpDestinationAsNumber = 17, BgpNextHopIPv4Address = 18,
  FlowEndSysUpTime = 21, FlowStartSysUpTime = 22, PostOctetDeltaCount = 23, PostPacketDeltaCount = 24,
  SourceIPv6Address = 27, DestinationIPv6Address = 28, IcmpTypeCodeIPv4 = 32, SamplingInterval = 34,
  SamplingAlgorithm = 35, SamplerId = 48, SamplerMode = 49, SamplerRandomInterval = 50, VlanId = 58,
  PostVlanId = 59, IpVersion = 60, FlowDirection = 61, IpNextHopIPv6Address = 62, BgpNextHopIPv6Address = 63,
  InterfaceName = 82, InterfaceDescription = 83, OctetTotalCount = 85, PacketTotalCount = 86, FlowEndReason = 136,
  IcmpTypeCodeIPv6 = 139, FlowStartSeconds = 150, FlowEndSeconds = 151, FlowStartMilliseconds = 152,
  FlowEndMilliseconds = 153, FlowStartMicroseconds = 154, FlowEndMicroseconds = 155,
  FlowStartNanoseconds = 156, FlowEndNanoseconds = 157, FlowStartDeltaMicroseconds = 158,
  FlowEndDeltaMicroseconds = 159, SystemInitTimeMilliseconds = 160, IcmpTypeIPv4 = 176,
  IcmpCodeIPv4 = 177, IcmpTypeIPv6 = 178, IcmpCodeIPv6 = 179, Dot1qVlanId = 243, SelectorId = 302,
  SamplingPacketInterval = 305, SamplingPacketSpace = 306, SamplingSize = 309, SamplingPopulation = 310,
  IpTotalLength = 224, NatEvent = 230, FirewallEvent = 233, DataLinkFrameSize = 312,
  IpHeaderPacketSection = 313, DataLinkFrameSection = 315, SectionOffset = 409, SectionExportedOctets = 410,
}

/** RFC 5103: the reverse counterpart of IANA element N is element N of this enterprise. */
export const REVERSE_PEN = 29305;
/** CERT (YAF): reverseFlowDeltaMilliseconds, the reverse half's first packet after the flow start. */
export const CERT_PEN = 6871;
const CERT_REVERSE_FLOW_DELTA_MS = 21;
/** Cisco ASA NSEL v9 vendor field NF_F_FW_EVENT (v9 has no enterprise bit: plain type number). */
const NSEL_FW_EVENT = 40005;
const ENTERPRISE_BIT = 0x8000;
/** RFC 3954 §6.1 scope field type "Interface": its value is an ifIndex. */
const V9_SCOPE_INTERFACE = 2;

/** What the decode loop does with one field. */
export const enum Act {
  Skip, Bytes, Packets, BytesTotal, PacketsTotal, OutBytes, OutPackets, Protocol, Tos, TcpFlags,
  SrcPort, DstPort, Src4, Dst4, Src6, Dst6, InIf, OutIf, EndUptime, StartUptime, IcmpTypeCode,
  IcmpType, IcmpCode, SamplingInterval, SamplerId, RandomInterval, Vlan, IpVer, Direction, EndReason,
  StartSec, EndSec, StartMs, EndMs, StartNtp, EndNtp, StartDeltaUs, EndDeltaUs, SysInitMs,
  PktInterval, PktSpace, SampleSize, SamplePopulation,
  // routing: AS numbers, next hop (IE 15/62, or BGP's 18/63 in templates without them), egress VLAN
  SrcAs, DstAs, NextHop4, NextHop6, PostVlan,
  // RFC 5103 reverse half (biflow templates only)
  RevBytes, RevPackets, RevBytesTotal, RevPacketsTotal, RevTcpFlags, RevVlan, RevStartSec, RevEndSec,
  RevStartMs, RevEndMs, RevStartNtp, RevEndNtp, RevStartUptime, RevEndUptime, RevStartDeltaUs, RevEndDeltaUs,
  RevTos, RevDeltaMs,
  // packet sections (PSAMP): the section's bytes, and what frames it (kept only in section templates)
  FrameSection, IpSection, FrameSize, SectionOffset, SectionOctets, IpTotalLength,
  // options data only (interface names): the ifIndex it names (ingress or v9 scope, egress) and the texts
  OptIfIndex, OptEgressIf, IfName, IfDesc,
}

/** Actions of the reverse half: a template with any of them is a biflow template. */
export function isReverseAct(a: number): boolean {
  return a >= Act.RevBytes && a <= Act.RevDeltaMs;
}

/** Traffic counters, either direction: a template with none carries no traffic by itself. */
export function isCounterAct(a: number): boolean {
  return (a >= Act.Bytes && a <= Act.OutPackets) || (a >= Act.RevBytes && a <= Act.RevPacketsTotal);
}

/** Section framing fields: read only in templates that carry a section (else skipped). */
export function isSectionMetaAct(a: number): boolean {
  return a >= Act.FrameSize && a <= Act.IpTotalLength;
}

/** IP next-hop elements: a data template with one reads no BGP next hop (Template.prepare). */
export function isIpNextHop(id: number, ent: number): boolean {
  return ent === 0 && (id === Ie.IpNextHopIPv4Address || id === Ie.IpNextHopIPv6Address);
}

/** NAT event logging (RFC 8158) and firewall events (NSEL): what makes a counter-less record an event. */
export function isEventField(version: number, id: number, ent: number): boolean {
  if (ent !== 0) return false;
  if (id === Ie.NatEvent || id === Ie.FirewallEvent) return true;
  return version === 9 && id === NSEL_FW_EVENT;
}

/** The action for one field, or Skip when the element is unknown or its length is not one we read. */
export function actionFor(version: number, kind: TemplateKind, isScope: boolean, id: number, ent: number, len: number): Act {
  if (len === 0) return Act.Skip;
  if (ent !== 0) return kind === TemplateKind.Data ? enterpriseAction(id, ent, len) : Act.Skip;
  if (kind === TemplateKind.Data && (id === Ie.DataLinkFrameSection || id === Ie.IpHeaderPacketSection)) {
    // octetArray, usually variable-length: the only fields read at any length
    return id === Ie.DataLinkFrameSection ? Act.FrameSection : Act.IpSection;
  }
  // v9 scope field types (RFC 3954 §6.1: 1 system, 2 interface, ...) reuse element numbers with another meaning.
  const v9Scope = isScope && version === 9;
  if (kind === TemplateKind.Options && !v9Scope && (id === Ie.InterfaceName || id === Ie.InterfaceDescription)) {
    // strings, fixed or variable length: where they are is kept, the text is decoded by the options path only
    return id === Ie.InterfaceName ? Act.IfName : Act.IfDesc;
  }
  if (len === VARLEN) return Act.Skip;
  if (v9Scope) return id === V9_SCOPE_INTERFACE && len <= 8 ? Act.OptIfIndex : Act.Skip;
  const uint = len <= 8;
  switch (id) {
    case Ie.SourceIPv4Address: return len === 4 ? Act.Src4 : Act.Skip;
    case Ie.DestinationIPv4Address: return len === 4 ? Act.Dst4 : Act.Skip;
    case Ie.SourceIPv6Address: return len === 16 ? Act.Src6 : Act.Skip;
    case Ie.DestinationIPv6Address: return len === 16 ? Act.Dst6 : Act.Skip;
    case Ie.FlowStartMicroseconds: case Ie.FlowStartNanoseconds: return len === 8 ? Act.StartNtp : Act.Skip;
    case Ie.FlowEndMicroseconds: case Ie.FlowEndNanoseconds: return len === 8 ? Act.EndNtp : Act.Skip;
  }
  if (kind === TemplateKind.Data) {
    // the BGP next hop stands in for the IP one only where a template has none (Template.prepare)
    switch (id) {
      case Ie.IpNextHopIPv4Address: case Ie.BgpNextHopIPv4Address: return len === 4 ? Act.NextHop4 : Act.Skip;
      case Ie.IpNextHopIPv6Address: case Ie.BgpNextHopIPv6Address: return len === 16 ? Act.NextHop6 : Act.Skip;
    }
  }
  if (!uint) return Act.Skip;
  if (kind === TemplateKind.Options) {
    // Options records only feed the sampling table, the IPFIX uptime base and interface names.
    switch (id) {
      case Ie.IngressInterface: return Act.OptIfIndex;
      case Ie.EgressInterface: return Act.OptEgressIf;
      case Ie.SamplingInterval: return Act.SamplingInterval;
      case Ie.SamplerId: case Ie.SelectorId: return Act.SamplerId;
      case Ie.SamplerRandomInterval: return Act.RandomInterval;
      case Ie.SamplingPacketInterval: return Act.PktInterval;
      case Ie.SamplingPacketSpace: return Act.PktSpace;
      case Ie.SamplingSize: return Act.SampleSize;
      case Ie.SamplingPopulation: return Act.SamplePopulation;
      case Ie.SystemInitTimeMilliseconds: return Act.SysInitMs;
    }
    return Act.Skip;
  }
  switch (id) {
    case Ie.OctetDeltaCount: return Act.Bytes;
    case Ie.PacketDeltaCount: return Act.Packets;
    case Ie.OctetTotalCount: return Act.BytesTotal;
    case Ie.PacketTotalCount: return Act.PacketsTotal;
    case Ie.PostOctetDeltaCount: return Act.OutBytes;
    case Ie.PostPacketDeltaCount: return Act.OutPackets;
    case Ie.ProtocolIdentifier: return Act.Protocol;
    case Ie.IpClassOfService: return Act.Tos;
    case Ie.TcpControlBits: return Act.TcpFlags;
    case Ie.SourceTransportPort: return Act.SrcPort;
    case Ie.DestinationTransportPort: return Act.DstPort;
    case Ie.IngressInterface: return Act.InIf;
    case Ie.EgressInterface: return Act.OutIf;
    case Ie.FlowEndSysUpTime: return Act.EndUptime;
    case Ie.FlowStartSysUpTime: return Act.StartUptime;
    case Ie.IcmpTypeCodeIPv4: case Ie.IcmpTypeCodeIPv6: return Act.IcmpTypeCode;
    case Ie.IcmpTypeIPv4: case Ie.IcmpTypeIPv6: return Act.IcmpType;
    case Ie.IcmpCodeIPv4: case Ie.IcmpCodeIPv6: return Act.IcmpCode;
    case Ie.SamplingInterval: return Act.SamplingInterval;
    case Ie.SamplerId: case Ie.SelectorId: return Act.SamplerId;
    case Ie.SamplerRandomInterval: return Act.RandomInterval;
    case Ie.VlanId: case Ie.Dot1qVlanId: return Act.Vlan;
    case Ie.PostVlanId: return Act.PostVlan;
    case Ie.BgpSourceAsNumber: return len <= 4 ? Act.SrcAs : Act.Skip;
    case Ie.BgpDestinationAsNumber: return len <= 4 ? Act.DstAs : Act.Skip;
    case Ie.IpVersion: return Act.IpVer;
    case Ie.FlowDirection: return Act.Direction;
    case Ie.FlowEndReason: return Act.EndReason;
    case Ie.FlowStartSeconds: return Act.StartSec;
    case Ie.FlowEndSeconds: return Act.EndSec;
    case Ie.FlowStartMilliseconds: return Act.StartMs;
    case Ie.FlowEndMilliseconds: return Act.EndMs;
    case Ie.FlowStartDeltaMicroseconds: return Act.StartDeltaUs;
    case Ie.FlowEndDeltaMicroseconds: return Act.EndDeltaUs;
    case Ie.SystemInitTimeMilliseconds: return Act.SysInitMs;
    case Ie.SamplingPacketInterval: return Act.PktInterval;
    case Ie.SamplingPacketSpace: return Act.PktSpace;
    case Ie.SamplingSize: return Act.SampleSize;
    case Ie.SamplingPopulation: return Act.SamplePopulation;
    case Ie.DataLinkFrameSize: return Act.FrameSize;
    case Ie.SectionOffset: return Act.SectionOffset;
    case Ie.SectionExportedOctets: return Act.SectionOctets;
    case Ie.IpTotalLength: return Act.IpTotalLength;
  }
  return Act.Skip;
}

/** Data-template enterprise fields read: RFC 5103 reverse elements and YAF's reverse start offset. */
function enterpriseAction(id16: number, ent: number, len: number): Act {
  const id = id16 & ~ENTERPRISE_BIT;
  if (ent === CERT_PEN) return id === CERT_REVERSE_FLOW_DELTA_MS && len <= 8 && len !== VARLEN ? Act.RevDeltaMs : Act.Skip;
  if (ent !== REVERSE_PEN || len === VARLEN) return Act.Skip;
  if (id === Ie.FlowStartMicroseconds || id === Ie.FlowStartNanoseconds) return len === 8 ? Act.RevStartNtp : Act.Skip;
  if (id === Ie.FlowEndMicroseconds || id === Ie.FlowEndNanoseconds) return len === 8 ? Act.RevEndNtp : Act.Skip;
  if (len > 8) return Act.Skip;
  switch (id) {
    case Ie.OctetDeltaCount: return Act.RevBytes;
    case Ie.PacketDeltaCount: return Act.RevPackets;
    case Ie.OctetTotalCount: return Act.RevBytesTotal;
    case Ie.PacketTotalCount: return Act.RevPacketsTotal;
    case Ie.TcpControlBits: return Act.RevTcpFlags;
    case Ie.IpClassOfService: return Act.RevTos;
    case Ie.VlanId: case Ie.Dot1qVlanId: return Act.RevVlan;
    case Ie.FlowStartSeconds: return Act.RevStartSec;
    case Ie.FlowEndSeconds: return Act.RevEndSec;
    case Ie.FlowStartMilliseconds: return Act.RevStartMs;
    case Ie.FlowEndMilliseconds: return Act.RevEndMs;
    case Ie.FlowStartSysUpTime: return Act.RevStartUptime;
    case Ie.FlowEndSysUpTime: return Act.RevEndUptime;
    case Ie.FlowStartDeltaMicroseconds: return Act.RevStartDeltaUs;
    case Ie.FlowEndDeltaMicroseconds: return Act.RevEndDeltaUs;
  }
  return Act.Skip;
}

