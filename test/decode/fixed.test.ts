// The fixed-offset fast path (compiled per layout, and its interpreting fallback) must read exactly
// what the checked field-by-field path reads, for every action and every reduced-size length.
import t from 'tap';
import { compileTemplate, FieldDecoder } from '../../src/decode/fields.js';
import { FieldState } from '../../src/decode/field-state.js';
import { TemplateKind } from '../../src/decode/elements.js';
import { COMPILE_AFTER, compilePlan, readFixed } from '../../src/decode/fixed.js';
import { FlowRecord } from '../../src/flow/record.js';
import { Reader } from '../../src/lib/reader.js';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { Sink, ipfix, set, tpl, type Field } from './nf-build.js';

// every element the decoder interprets, with the lengths it accepts (uint elements: 1..8 bytes)
const UINT_IES = [1, 2, 4, 5, 6, 7, 10, 11, 14, 16, 17, 21, 22, 23, 24, 32, 34, 48, 50, 58, 59, 60, 61, 85, 86, 136, 139,
  150, 151, 152, 153, 158, 159, 160, 176, 177, 178, 179, 243, 302, 305, 306, 309, 310];
const FIXED_IES: Field[] = [[8, 4], [12, 4], [27, 16], [28, 16], [154, 8], [155, 8], [156, 8], [157, 8],
  [15, 4], [18, 4], [62, 16], [63, 16]];
// RFC 5103 reverse elements (PEN 29305) the biflow reader interprets, and YAF's reverse start offset
const REV_IES: Field[] = [1, 2, 5, 6, 21, 22, 58, 85, 86, 150, 151, 152, 153, 158, 159, 243].map((id): Field => [id, 4, 29305])
  .concat([[154, 8, 29305], [155, 8, 29305], [21, 4, 6871]]);

function rng(seed: number) {
  let s = seed;
  return (n: number) => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) % n;
  };
}

function snapshot(rec: FlowRecord, s: FieldState): object {
  return { ...rec, src6: rec.src6.toString('hex'), dst6: rec.dst6.toString('hex'), nextHop6: rec.nextHop6.toString('hex'), s: { ...s } };
}

t.test('compiled and interpreted fixed readers equal the checked reader on random layouts', (t) => {
  const r = rng(12345);
  const fd = new FieldDecoder();
  let layouts = 0;
  for (let n = 0; n < 300; n++) {
    const fields: Field[] = [];
    const count = 1 + r(24);
    for (let i = 0; i < count; i++) {
      const k = r(10);
      if (k < 7) fields.push([UINT_IES[r(UINT_IES.length)]!, 1 + r(8)]);
      else if (k < 8) fields.push(FIXED_IES[r(FIXED_IES.length)]!);
      else if (k < 9) fields.push(REV_IES[r(REV_IES.length)]!);
      else fields.push([1000 + r(100), 1 + r(20)]); // unknown: skipped by length
    }
    const tplt = compileTemplate(10, 256, TemplateKind.Data, 0, fields.map((f) => (f.length === 3 ? f[0] | 0x8000 : f[0])),
      fields.map((f) => f[2] ?? 0), fields.map((f) => f[1]), fields.length).prepare();
    const plan = tplt.plan!;
    t.ok(plan, 'a layout without variable-length fields has a plan');
    const buf = Buffer.alloc(plan.len);
    for (let i = 0; i < buf.length; i++) buf[i] = r(4) === 0 ? 0 : r(256);
    const a = new FlowRecord(), b = new FlowRecord(), c = new FlowRecord();
    fd.s.resetReverse();
    fd.readFields(new Reader().reset(buf), tplt, a);
    const want = snapshot(a, fd.s);
    // the layout is compiled once it has carried COMPILE_AFTER records: read past that, check the last
    const first = plan.read;
    let s = new FieldState();
    for (let k = 0; k <= COMPILE_AFTER; k++) {
      s = new FieldState();
      b.clear();
      plan.read(buf, 0, s, b);
    }
    if (plan.read === first) t.fail('compiled after COMPILE_AFTER records');
    const s2 = new FieldState();
    readFixed(buf, 0, compilePlan(tplt.acts, tplt.lens, 65535)!, s2, c);
    if (JSON.stringify(snapshot(b, s)) !== JSON.stringify(want)) t.same(snapshot(b, s), want, `compiled, layout ${JSON.stringify(fields)}`);
    if (JSON.stringify(snapshot(c, s2)) !== JSON.stringify(want)) t.same(snapshot(c, s2), want, `interpreted, layout ${JSON.stringify(fields)}`);
    layouts++;
  }
  t.equal(layouts, 300);
  t.end();
});

t.test('a layout with a variable-length field has no plan and takes the checked path', (t) => {
  const tplt = compileTemplate(10, 300, TemplateKind.Data, 0, [8, 82, 1], [0, 0, 0], [4, 65535, 4], 3).prepare();
  t.equal(tplt.plan, undefined);
  const sink = new Sink();
  const dec = new IpfixDecoder({ templates: new TemplateCache({ now: () => 0 }), sampling: new SamplingTable(), report: sink.report });
  const rec = Buffer.from([10, 1, 0, 1, 3, 0x61, 0x62, 0x63, 0, 0, 0, 100]);
  const msg = ipfix({ exportTime: 1_800_000_000 }, set(2, tpl(300, [[8, 4], [82, 65535], [1, 4]])), set(300, Buffer.concat([rec, rec])));
  t.equal(dec.decode(msg, '192.0.2.1', 0, sink.emit), 2);
  t.same(sink.errors, []);
  t.match(sink.records[1], { src: '10.1.0.1', bytes: 100 });
  t.end();
});
