// Flow keys: the one vocabulary of alert definitions, filters and summary views (sFlow-RT's names where
// one exists), read from a classified FlowRecord. A record that lacks one of a definition's keys (an
// ICMP key on a TCP record, a port on ICMP, an AS the exporter did not send) does not count for that
// definition or view, as in sFlow-RT, where a flow is only defined when every key has a value.
import { Direction, DIRECTION_NAMES } from '../classify/direction.js';
import { IpVersion, ipv4ToString, ipv6ToString, type FlowRecord } from './record.js';

export const KEY_NAMES = [
  'ipsource', 'ipdestination', 'sourceport', 'destinationport', 'protocol', 'direction', 'group',
  'sourcegroup', 'destinationgroup', 'exporter', 'icmptype', 'icmpcode', 'icmpunreachableport', 'vlan',
  'tcpflags', 'inputifindex', 'outputifindex', 'interface', 'localhost', 'remotehost', 'serviceport',
  'srcas', 'dstas', 'remoteas', 'dscp',
] as const;
export type KeyName = (typeof KEY_NAMES)[number];

/** Index of each key in KEY_NAMES: the engine, filters and views switch on these numbers, not strings. */
export const enum Key {
  IpSource, IpDestination, SourcePort, DestinationPort, Protocol, Direction, Group, SourceGroup,
  DestinationGroup, Exporter, IcmpType, IcmpCode, IcmpUnreachablePort, Vlan, TcpFlags, InputIfIndex,
  OutputIfIndex, Interface, LocalHost, RemoteHost, ServicePort, SrcAs, DstAs, RemoteAs, Dscp,
}

/**
 * Keys a filter cannot compare: `interface` gives a record two tuples, one on its input interface and
 * one on its output interface (views and alert definitions count the record once on each).
 */
export const TUPLE_ONLY_KEYS: readonly KeyName[] = ['interface'];

/** Index of a key name, -1 when unknown. */
export function keyIndex(name: string): number {
  return (KEY_NAMES as readonly string[]).indexOf(name);
}

/** Protocols whose records carry ports; the others are counted under port 0. */
export function hasPorts(p: number): boolean {
  return p === 6 || p === 17 || p === 132 || p === 33 || p === 136;
}

/**
 * The service port of a record, documented in docs/output.md: the lower of the two ports (servers
 * listen on the well-known/registered side, clients use ephemeral ports above it); a zero port never
 * wins; protocols without ports give 0.
 */
export function servicePort(protocol: number, srcPort: number, dstPort: number): number {
  if (!hasPorts(protocol)) return 0;
  if (srcPort === 0) return dstPort;
  if (dstPort === 0) return srcPort;
  return srcPort < dstPort ? srcPort : dstPort;
}

/**
 * Group of the home end of a record: the destination's for in and internal traffic (what the group
 * receives), the source's for out; none for external (transit) traffic.
 */
export function localGroup(direction: number, srcGroup: number, dstGroup: number): number {
  return direction === 1 ? srcGroup : direction === 3 ? -1 : dstGroup;
}

/**
 * Which end of a record is the home one: 1 = the source (out), 0 = the destination (in), -1 = neither
 * or both (internal, external): localhost, remotehost and remoteas have no value then.
 */
export function localEnd(direction: number): number {
  return direction === Direction.Out ? 1 : direction === Direction.In ? 0 : -1;
}

/** Whether an address key reads the source (else the destination); -1 when the record lacks it. */
export function addressIsSource(k: number, rec: FlowRecord, direction: number): number {
  if (rec.ipVersion === IpVersion.None) return -1;
  switch (k) {
    case Key.IpSource: return 1;
    case Key.IpDestination: return 0;
    case Key.LocalHost: return localEnd(direction);
    case Key.RemoteHost: { const l = localEnd(direction); return l < 0 ? -1 : 1 - l; }
    default: return -1;
  }
}

/** Whether `k` is a key whose value is an address (ipsource, ipdestination, localhost, remotehost). */
export function isAddressKey(k: number): boolean {
  return k === Key.IpSource || k === Key.IpDestination || k === Key.LocalHost || k === Key.RemoteHost;
}

/**
 * Numeric value of a key for filters, -1 when the record lacks it. Address, group and exporter keys
 * are matched by their own comparisons; here they only report presence (0) or absence (-1).
 * AS numbers and ifIndexes are unsigned 32-bit: compare them as doubles, never as int32.
 */
export function numericKey(k: number, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number): number {
  switch (k) {
    case Key.IpSource:
    case Key.IpDestination:
    case Key.LocalHost:
    case Key.RemoteHost: return addressIsSource(k, rec, direction) < 0 ? -1 : 0;
    case Key.SourcePort: return hasPorts(rec.protocol) ? rec.srcPort : -1;
    case Key.DestinationPort: return hasPorts(rec.protocol) ? rec.dstPort : -1;
    case Key.ServicePort: return hasPorts(rec.protocol) ? servicePort(rec.protocol, rec.srcPort, rec.dstPort) : -1;
    case Key.Protocol: return rec.ipVersion === IpVersion.None ? -1 : rec.protocol;
    case Key.Direction: return direction;
    case Key.Group: return localGroup(direction, srcGroup, dstGroup);
    case Key.SourceGroup: return srcGroup;
    case Key.DestinationGroup: return dstGroup;
    case Key.Exporter: return 0;
    case Key.IcmpType: return rec.icmpType;
    case Key.IcmpCode: return rec.icmpCode;
    case Key.IcmpUnreachablePort: return rec.unreachPort;
    case Key.Vlan: return rec.vlan;
    case Key.TcpFlags: return rec.protocol === 6 ? rec.tcpFlags : -1;
    case Key.InputIfIndex: return rec.inIf > 0 ? rec.inIf : -1;
    case Key.OutputIfIndex: return rec.outIf > 0 ? rec.outIf : -1;
    case Key.Interface: return rec.inIf > 0 || rec.outIf > 0 ? 0 : -1;
    case Key.SrcAs: return rec.srcAs > 0 ? rec.srcAs : -1;
    case Key.DstAs: return rec.dstAs > 0 ? rec.dstAs : -1;
    case Key.RemoteAs: {
      const l = localEnd(direction), as = l === 0 ? rec.srcAs : l === 1 ? rec.dstAs : 0;
      return as > 0 ? as : -1;
    }
    // ToS 0 is also what a record without it holds: DSCP 0 (best effort) includes "not carried"
    case Key.Dscp: return rec.ipVersion === IpVersion.None ? -1 : rec.tos >>> 2;
    default: return -1;
  }
}

/** Whether the record has every key of `keys` (no allocation). */
export function hasKeys(keys: Uint8Array, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number): boolean {
  for (let i = 0; i < keys.length; i++) if (numericKey(keys[i]!, rec, direction, srcGroup, dstGroup) < 0) return false;
  return true;
}

/** Name of a group index, its number as text when unknown. */
export function groupName(g: number, groupNames: readonly string[]): string {
  return groupNames[g] ?? String(g);
}

/** Value of one key as it appears in alerts and views: addresses, names and the exporter as text, the rest as numbers. */
export function keyValue(k: number, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number,
  groupNames: readonly string[], ifIndex = 0): string | number {
  switch (k) {
    case Key.Interface: return ifIndex;
    case Key.IpSource:
    case Key.IpDestination:
    case Key.LocalHost:
    case Key.RemoteHost: {
      const src = addressIsSource(k, rec, direction) === 1;
      return rec.ipVersion === IpVersion.V6 ? ipv6ToString(src ? rec.src6 : rec.dst6) : ipv4ToString(src ? rec.src4 : rec.dst4);
    }
    case Key.Direction: return DIRECTION_NAMES[direction] ?? String(direction);
    case Key.Group:
    case Key.SourceGroup:
    case Key.DestinationGroup: return groupName(numericKey(k, rec, direction, srcGroup, dstGroup), groupNames);
    case Key.Exporter: return rec.exporter;
    default: return numericKey(k, rec, direction, srcGroup, dstGroup);
  }
}

/**
 * The identity of a record's key tuple as one string (the table key). Only built for records that
 * passed the filter and have every key; addresses are written in hex to avoid formatting them.
 */
export function tupleText(keys: Uint8Array, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number,
  ifIndex = 0): string {
  let s = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) s += '|';
    if (isAddressKey(k)) {
      const src = addressIsSource(k, rec, direction) === 1;
      if (rec.ipVersion === IpVersion.V6) s += (src ? rec.src6 : rec.dst6).toString('hex');
      else s += (src ? rec.src4 : rec.dst4).toString(16);
    } else if (k === Key.Exporter) {
      s += rec.exporter;
    } else if (k === Key.Interface) {
      s += ifIndex;
    } else {
      s += numericKey(k, rec, direction, srcGroup, dstGroup);
    }
  }
  return s;
}

/** The key tuple's values, in definition order (built once per new tuple); `ifIndex`: the interface key's side. */
export function tupleValues(keys: Uint8Array, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number,
  groupNames: readonly string[], ifIndex = 0): (string | number)[] {
  const out: (string | number)[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = keyValue(keys[i]!, rec, direction, srcGroup, dstGroup, groupNames, ifIndex);
  return out;
}
