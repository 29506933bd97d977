// IPFIX (RFC 7011): the v9 set walking with a 16-byte header carrying the message length, enterprise
// field specifiers, variable-length fields (handled in fields.ts) and template withdrawal.
import { DecodeError } from '../lib/errors.js';
import type { RecordHandler } from '../flow/record.js';
import { MAX_TEMPLATE_FIELDS } from './fields.js';
import { TemplateKind } from './elements.js';
import { TemplatedDecoder } from './templated.js';

export type { NetflowDecoderDeps } from './templated.js';

const enum Ipfix {
  Version = 10, HeaderLen = 16, TemplateSet = 2, OptionsTemplateSet = 3, EnterpriseBit = 0x8000,
}

export class IpfixDecoder extends TemplatedDecoder {
  protected readonly version = 10;

  protected header(receivedMs: number): void {
    const r = this.r;
    const version = r.u16();
    if (version !== Ipfix.Version) throw new DecodeError('unknown_version', `not IPFIX: version ${version}`);
    const length = r.u16();
    if (length < Ipfix.HeaderLen) throw new DecodeError('bad_length', `IPFIX message length ${length}`);
    const exportS = r.u32();
    r.u32(); // sequence
    this.domain = r.u32();
    // The message may be shorter than the datagram (trailing bytes ignored) or claim more than arrived:
    // trust the smaller; a set running past it is then a bad_length.
    if (length < r.end) r.end = length;
    this.ctx.exportMs = exportS > 0 ? exportS * 1000 : receivedMs;
    this.ctx.sysUptimeMs = -1;
  }

  protected controlSet(setId: number, emit: RecordHandler): number {
    if (setId === Ipfix.TemplateSet) return this.templateSet(TemplateKind.Data, emit);
    if (setId === Ipfix.OptionsTemplateSet) return this.templateSet(TemplateKind.Options, emit);
    return 0; // 0, 1 (v9 ids, not valid in IPFIX) and 4..255 reserved: skipped by length
  }

  private templateSet(kind: TemplateKind, emit: RecordHandler): number {
    const r = this.r;
    let n = 0;
    while (r.left() >= 4) {
      const id = r.u16();
      const count = r.u16();
      if (count === 0) {
        // RFC 7011 §8.1 withdrawal; id 2 (template set) / 3 (options set) withdraws all of that kind.
        if (id === 0) break; // zero padding
        if (id === (kind === TemplateKind.Data ? Ipfix.TemplateSet : Ipfix.OptionsTemplateSet)) {
          this.templates.withdrawKind(this.exporter, this.version, this.domain, kind);
        } else if (id >= 256) {
          this.templates.withdraw(this.exporter, this.version, this.domain, id);
        } else {
          throw new DecodeError('bad_template', `withdrawal of reserved template id ${id}`);
        }
        continue;
      }
      if (id < 256 || count > MAX_TEMPLATE_FIELDS) {
        throw new DecodeError('bad_template', `IPFIX template ${id} with ${count} fields`);
      }
      let scopeCount = 0;
      if (kind === TemplateKind.Options) {
        scopeCount = r.u16();
        if (scopeCount === 0 || scopeCount > count) {
          throw new DecodeError('bad_template', `IPFIX options template ${id}: ${scopeCount} scope of ${count} fields`);
        }
      }
      for (let i = 0; i < count; i++) {
        // The enterprise bit stays in the id, so an enterprise field can never pass for an IANA one
        // (even with enterprise number 0): kept in the layout for its length, never interpreted.
        const id16 = r.u16();
        this.ids[i] = id16;
        this.lens[i] = r.u16();
        this.ents[i] = id16 & Ipfix.EnterpriseBit ? r.u32() : 0;
      }
      n += this.learn(id, kind, scopeCount, count, emit);
    }
    return n;
  }
}
