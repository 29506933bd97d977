// Flow keys of alert definitions (sFlow-RT's names where one exists), read from a classified FlowRecord.
// A record that lacks one of a definition's keys (an ICMP key on a TCP record, a port on ICMP) does not
// count for that definition, as in sFlow-RT, where a flow is only defined when every key has a value.
import { hasPorts } from '../aggregate/summary.js';
import { DIRECTION_NAMES } from '../classify/direction.js';
import { IpVersion, ipv4ToString, ipv6ToString, type FlowRecord } from '../flow/record.js';

export const KEY_NAMES = [
  'ipsource', 'ipdestination', 'sourceport', 'destinationport', 'protocol', 'direction', 'group',
  'sourcegroup', 'destinationgroup', 'exporter', 'icmptype', 'icmpcode', 'icmpunreachableport', 'vlan',
  'tcpflags',
] as const;
export type KeyName = (typeof KEY_NAMES)[number];

/** Index of each key in KEY_NAMES: the engine and filters switch on these numbers, not strings. */
export const enum Key {
  IpSource, IpDestination, SourcePort, DestinationPort, Protocol, Direction, Group, SourceGroup,
  DestinationGroup, Exporter, IcmpType, IcmpCode, IcmpUnreachablePort, Vlan, TcpFlags,
}

/** Index of a key name, -1 when unknown. */
export function keyIndex(name: string): number {
  return (KEY_NAMES as readonly string[]).indexOf(name);
}

/**
 * Group of the home end of a record: the destination's for in and internal traffic (what the group
 * receives), the source's for out; none for external (transit) traffic.
 */
export function localGroup(direction: number, srcGroup: number, dstGroup: number): number {
  return direction === 1 ? srcGroup : direction === 3 ? -1 : dstGroup;
}

/**
 * Numeric value of a key for filters, -1 when the record lacks it. Address, group and exporter keys
 * are matched by their own comparisons; here they only report presence (0) or absence (-1).
 */
export function numericKey(k: number, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number): number {
  switch (k) {
    case Key.IpSource:
    case Key.IpDestination: return rec.ipVersion === IpVersion.None ? -1 : 0;
    case Key.SourcePort: return hasPorts(rec.protocol) ? rec.srcPort : -1;
    case Key.DestinationPort: return hasPorts(rec.protocol) ? rec.dstPort : -1;
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
    default: return -1;
  }
}

/** Whether the record has every key of `keys` (no allocation). */
export function hasKeys(keys: Uint8Array, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number): boolean {
  for (let i = 0; i < keys.length; i++) if (numericKey(keys[i]!, rec, direction, srcGroup, dstGroup) < 0) return false;
  return true;
}

/** Value of one key as it appears in alerts: addresses, names and the exporter as text, the rest as numbers. */
export function keyValue(k: number, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number,
  groupNames: readonly string[]): string | number {
  switch (k) {
    case Key.IpSource: return rec.ipVersion === IpVersion.V6 ? ipv6ToString(rec.src6) : ipv4ToString(rec.src4);
    case Key.IpDestination: return rec.ipVersion === IpVersion.V6 ? ipv6ToString(rec.dst6) : ipv4ToString(rec.dst4);
    case Key.Direction: return DIRECTION_NAMES[direction] ?? String(direction);
    case Key.Group:
    case Key.SourceGroup:
    case Key.DestinationGroup: {
      const g = numericKey(k, rec, direction, srcGroup, dstGroup);
      return groupNames[g] ?? String(g);
    }
    case Key.Exporter: return rec.exporter;
    default: return numericKey(k, rec, direction, srcGroup, dstGroup);
  }
}

/**
 * The identity of a record's key tuple as one string (the table key). Only built for records that
 * passed the filter and have every key; addresses are written in hex to avoid formatting them.
 */
export function tupleText(keys: Uint8Array, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number): string {
  let s = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) s += '|';
    if (k === Key.IpSource || k === Key.IpDestination) {
      const src = k === Key.IpSource;
      if (rec.ipVersion === IpVersion.V6) s += (src ? rec.src6 : rec.dst6).toString('hex');
      else s += (src ? rec.src4 : rec.dst4).toString(16);
    } else if (k === Key.Exporter) {
      s += rec.exporter;
    } else {
      s += numericKey(k, rec, direction, srcGroup, dstGroup);
    }
  }
  return s;
}

/** The key tuple's values, in definition order (built once per new tuple). */
export function tupleValues(keys: Uint8Array, rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number,
  groupNames: readonly string[]): (string | number)[] {
  const out: (string | number)[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = keyValue(keys[i]!, rec, direction, srcGroup, dstGroup, groupNames);
  return out;
}
