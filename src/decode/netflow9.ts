// NetFlow v9 (RFC 3954): the header and the template sets of version 9; the set walking is shared with
// IPFIX in templated.ts.
import { DecodeError } from '../lib/errors.js';
import type { RecordHandler } from '../flow/record.js';
import { MAX_TEMPLATE_FIELDS } from './fields.js';
import { TemplateKind } from './elements.js';
import { TemplatedDecoder } from './templated.js';

export type { NetflowDecoderDeps } from './templated.js';

const enum V9 { Version = 9, HeaderLen = 20, TemplateSet = 0, OptionsTemplateSet = 1 }

export class Netflow9Decoder extends TemplatedDecoder {
  protected readonly version = 9;

  protected header(receivedMs: number): void {
    const r = this.r;
    const version = r.u16();
    if (version !== V9.Version) throw new DecodeError('unknown_version', `not NetFlow v9: version ${version}`);
    r.u16(); // record count: informational only, the set lengths frame the datagram
    const sysUptime = r.u32();
    const unixSecs = r.u32();
    r.u32(); // sequence
    this.domain = r.u32();
    this.ctx.exportMs = unixSecs > 0 ? unixSecs * 1000 : receivedMs;
    this.ctx.sysUptimeMs = sysUptime;
  }

  protected controlSet(setId: number, emit: RecordHandler): number {
    if (setId === V9.TemplateSet) return this.templateSet(emit);
    if (setId === V9.OptionsTemplateSet) return this.optionsTemplateSet(emit);
    return 0; // 2..255 reserved
  }

  private templateSet(emit: RecordHandler): number {
    const r = this.r;
    let n = 0;
    while (r.left() >= 4) {
      const id = r.u16();
      const count = r.u16();
      if (id === 0 && count === 0) break; // zero padding to the set's end
      if (id < 256 || count === 0 || count > MAX_TEMPLATE_FIELDS) {
        throw new DecodeError('bad_template', `v9 template ${id} with ${count} fields`);
      }
      for (let i = 0; i < count; i++) {
        this.ids[i] = r.u16();
        this.lens[i] = r.u16();
        this.ents[i] = 0; // v9 has no enterprise bit: types >= 32768 are vendor types, skipped by length
      }
      n += this.learn(id, TemplateKind.Data, 0, count, emit);
    }
    return n;
  }

  /** RFC 3954 §6.1: scope and option lengths are in bytes (4 per field), then padding to the set end. */
  private optionsTemplateSet(emit: RecordHandler): number {
    const r = this.r;
    let n = 0;
    while (r.left() >= 6) {
      const id = r.u16();
      const scopeLen = r.u16();
      const optLen = r.u16();
      if (id === 0 && scopeLen === 0 && optLen === 0) break;
      const fields = (scopeLen + optLen) / 4;
      if (id < 256 || scopeLen % 4 !== 0 || optLen % 4 !== 0 || fields < 1 || fields > MAX_TEMPLATE_FIELDS) {
        throw new DecodeError('bad_template', `v9 options template ${id}: scope ${scopeLen} B, options ${optLen} B`);
      }
      for (let i = 0; i < fields; i++) {
        this.ids[i] = r.u16();
        this.lens[i] = r.u16();
        this.ents[i] = 0;
      }
      n += this.learn(id, TemplateKind.Options, scopeLen / 4, fields, emit);
    }
    return n;
  }
}
