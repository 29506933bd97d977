// Direction and home-network group of a flow, from the `networks` configuration. One Classifier per
// pipeline; classify() writes the groups of the last record into fields so nothing is allocated.
import { IpVersion, type FlowRecord } from '../flow/record.js';
import { GroupRegistry } from './groups.js';
import { PrefixTable } from './prefixes.js';

/** Seen from the home networks: In = towards them, Out = leaving them. */
export const enum Direction {
  In = 0,
  Out = 1,
  Internal = 2,
  External = 3,
}

export type DirectionName = 'in' | 'out' | 'internal' | 'external';

/** Label text by Direction value; the one list of direction words (summaries, sinks, alert keys). */
export const DIRECTION_NAMES: readonly DirectionName[] = ['in', 'out', 'internal', 'external'];

/** Group name → prefixes, as in the validated `networks` configuration. */
export type NetworkGroups = Readonly<Record<string, readonly string[]>>;

export class Classifier {
  /** Group of the last classified record's source / destination, -1 when outside every group. */
  srcGroup = -1;
  dstGroup = -1;
  private readonly table = new PrefixTable<number>();
  /** group by the table's match reference (ref4/ref6): index 0 = no match = -1 */
  private readonly groupOf: Int32Array;

  /**
   * Each prefix maps to its group; a host belongs to the group of its longest matching prefix. Groups
   * index into `groups`, which gains the names it lacks (a reload's new groups come after the old).
   */
  constructor(networks: NetworkGroups, readonly groups = new GroupRegistry()) {
    groups.add(Object.keys(networks));
    const refs = [-1];
    for (const name of Object.keys(networks)) {
      const g = groups.indexOf(name);
      for (const p of networks[name]!) {
        this.table.insert(p, g);
        refs.push(g); // the insert's reference is its position
      }
    }
    this.groupOf = Int32Array.from(refs);
  }

  /** Group names; srcGroup/dstGroup index into it. */
  get groupNames(): readonly string[] {
    return this.groups.names;
  }

  classify(rec: FlowRecord): Direction {
    let sg = -1, dg = -1;
    const t = this.table, groupOf = this.groupOf;
    if (rec.ipVersion === IpVersion.V4) {
      sg = groupOf[t.ref4(rec.src4)]!;
      dg = groupOf[t.ref4(rec.dst4)]!;
    } else if (rec.ipVersion === IpVersion.V6) {
      sg = groupOf[t.ref6(rec.src6)]!;
      dg = groupOf[t.ref6(rec.dst6)]!;
    }
    // A record without addresses (ipVersion 0) finds nothing and is external.
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
