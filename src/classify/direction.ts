// Direction and home-network group of a flow, from the `networks` configuration. One Classifier per
// pipeline; classify() writes the groups of the last record into fields so nothing is allocated.
import { IpVersion, type FlowRecord } from '../flow/record.js';
import { PrefixTable } from './prefixes.js';

/** Seen from the home networks: In = towards them, Out = leaving them. */
export const enum Direction {
  In = 0,
  Out = 1,
  Internal = 2,
  External = 3,
}

/** Label text by Direction value. */
export const DIRECTION_NAMES: readonly string[] = ['in', 'out', 'internal', 'external'];

/** Group name → prefixes, as in the validated `networks` configuration. */
export type NetworkGroups = Readonly<Record<string, readonly string[]>>;

export class Classifier {
  /** Group names in configuration order; srcGroup/dstGroup index into it. */
  readonly groupNames: readonly string[];
  /** Group of the last classified record's source / destination, -1 when outside every group. */
  srcGroup = -1;
  dstGroup = -1;
  private readonly table = new PrefixTable<number>();

  /** Each prefix maps to its group; a host belongs to the group of its longest matching prefix. */
  constructor(networks: NetworkGroups) {
    this.groupNames = Object.keys(networks);
    for (let g = 0; g < this.groupNames.length; g++) {
      for (const p of networks[this.groupNames[g]!]!) this.table.insert(p, g);
    }
  }

  classify(rec: FlowRecord): Direction {
    let s: number | undefined;
    let d: number | undefined;
    if (rec.ipVersion === IpVersion.V4) {
      s = this.table.lookup4(rec.src4);
      d = this.table.lookup4(rec.dst4);
    } else if (rec.ipVersion === IpVersion.V6) {
      s = this.table.lookup6(rec.src6);
      d = this.table.lookup6(rec.dst6);
    }
    // A record without addresses (ipVersion 0) finds nothing and is external.
    const sg = s === undefined ? -1 : s;
    const dg = d === undefined ? -1 : d;
    this.srcGroup = sg;
    this.dstGroup = dg;
    if (sg >= 0) return dg >= 0 ? Direction.Internal : Direction.Out;
    return dg >= 0 ? Direction.In : Direction.External;
  }

  /** Group index of one IPv4 address (unsigned 32-bit), -1 when outside. */
  group4(addr: number): number {
    const g = this.table.lookup4(addr);
    return g === undefined ? -1 : g;
  }

  /** Group index of one 16-byte IPv6 address, -1 when outside. */
  group6(addr: Uint8Array): number {
    const g = this.table.lookup6(addr);
    return g === undefined ? -1 : g;
  }
}
