// sFlow v5 flow samples' routing records (extended router and gateway), held until the sample's end.
import type { Reader } from '../lib/reader.js';
import { DecodeError } from '../lib/errors.js';
import { IpVersion, type FlowRecord } from '../flow/record.js';
import { nonZero16 } from './wire.js';

/** sFlow address types (agent, next hop) */
export const enum AddrType { Unknown = 0, V4 = 1, V6 = 2 }

/**
 * The routing records of one flow sample: extended router (0:1002, the next hop) and extended gateway
 * (0:1003, BGP: its next hop, source AS, destination AS). Both may come before a raw header, whose
 * parse clears the record, so they are held here and applied last. The router's next hop wins over
 * the gateway's, as NetFlow's IP next hop does over its BGP one.
 */
export class SampleRouting {
  private routerNh: IpVersion = IpVersion.None;
  private routerNh4 = 0;
  private readonly routerNh6 = new Uint8Array(16);
  private gatewayNh: IpVersion = IpVersion.None;
  private gatewayNh4 = 0;
  private readonly gatewayNh6 = new Uint8Array(16);
  private haveGateway = false;
  private srcAs = 0;
  private dstAs = 0;
  /** IPv4 address read by the last nextHop(). */
  private nh4 = 0;

  reset(): void {
    this.routerNh = this.gatewayNh = IpVersion.None;
    this.haveGateway = false;
  }

  /** extended_router: next_hop, src_mask_len, dst_mask_len (the masks are not kept). */
  router(r: Reader): void {
    this.routerNh = this.nextHop(r, this.routerNh6);
    this.routerNh4 = this.nh4;
  }

  /**
   * extended_gateway: next_hop, as, src_as, src_peer_as, dst_as_path<> of (type, as<>) segments, then
   * communities and localpref (not read). The destination AS is the path's last; an empty path means
   * the destination is in the router's own AS (`as`).
   */
  gateway(r: Reader): void {
    this.gatewayNh = this.nextHop(r, this.gatewayNh6);
    this.gatewayNh4 = this.nh4;
    const own = r.u32();
    const src = r.u32();
    r.skip(4); // src_peer_as
    const segments = r.u32();
    if (segments * 8 > r.left()) throw new DecodeError('bad_count', `${segments} AS path segments in ${r.left()} bytes`);
    let dst = own;
    for (let i = 0; i < segments; i++) {
      r.skip(4); // AS_SET / AS_SEQUENCE
      const n = r.u32();
      if (n * 4 > r.left()) throw new DecodeError('bad_count', `${n} AS numbers in ${r.left()} bytes`);
      if (n === 0) continue;
      r.skip((n - 1) * 4);
      dst = r.u32();
    }
    this.srcAs = src;
    this.dstAs = dst;
    this.haveGateway = true;
  }

  apply(rec: FlowRecord): void {
    if (this.haveGateway) {
      rec.srcAs = this.srcAs;
      rec.dstAs = this.dstAs;
    }
    const router = this.routerNh !== IpVersion.None;
    const v = router ? this.routerNh : this.gatewayNh;
    if (v === IpVersion.V4) rec.nextHop4 = router ? this.routerNh4 : this.gatewayNh4;
    else if (v === IpVersion.V6) rec.nextHop6.set(router ? this.routerNh6 : this.gatewayNh6);
    rec.nextHopVersion = v;
  }

  /** An sFlow address into nh4 or a6; returns its version, None for the unknown type or a zero address. */
  private nextHop(r: Reader, a6: Uint8Array): IpVersion {
    const type = r.u32();
    if (type === AddrType.V4) {
      this.nh4 = r.u32();
      return this.nh4 === 0 ? IpVersion.None : IpVersion.V4;
    }
    if (type === AddrType.V6) {
      r.copyTo(a6, 16);
      return nonZero16(a6) ? IpVersion.V6 : IpVersion.None;
    }
    if (type === AddrType.Unknown) return IpVersion.None;
    throw new DecodeError('unsupported_format', `sFlow next hop address type ${type}`);
  }
}
