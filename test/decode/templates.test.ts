import t from 'tap';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { compileTemplate } from '../../src/decode/fields.js';
import { TemplateKind } from '../../src/decode/elements.js';
import { DecodeError, TemplateMissingError } from '../../src/lib/errors.js';

const clock = { ms: 0 };
const now = () => clock.ms;

function cache(opts: ConstructorParameters<typeof TemplateCache>[0] = {}) {
  const misses: DecodeError[] = [];
  const c = new TemplateCache({ now, report: (e) => void misses.push(e), ...opts });
  return { c, misses };
}

const L = { ids: [8, 12, 1], ents: [0, 0, 0], lens: [4, 4, 4] };
const put = (c: TemplateCache, exporter: string, id: number, lens = L.lens, version = 9, domain = 0) =>
  c.put(exporter, version, domain, id, TemplateKind.Data, 0, L.ids, L.ents, lens, 3);

t.beforeEach(() => {
  clock.ms = 1_000_000;
});

t.test('TTL: a refresh resets it; get and sweep expire', (t) => {
  const { c } = cache({ ttlMs: 1000 });
  const tpl = put(c, 'a', 256)!;
  t.equal(tpl.minLen, 12);
  clock.ms += 800;
  t.equal(put(c, 'a', 256), tpl, 'same layout: the compiled template is reused');
  t.equal(c.stats.refreshed, 1);
  clock.ms += 800;
  t.equal(c.get('a', 9, 0, 256), tpl, 'alive thanks to the refresh');
  clock.ms += 201;
  t.equal(c.get('a', 9, 0, 256), undefined);
  t.equal(c.stats.expired, 1);
  put(c, 'a', 257);
  clock.ms += 1001;
  c.sweep();
  t.equal(c.size, 0);
  t.equal(c.stats.expired, 2);
  t.end();
});

t.test('keys never mix exporter, version, domain or id; a new layout replaces the old', (t) => {
  const { c } = cache();
  put(c, 'a', 256);
  put(c, 'b', 256, [4, 4, 8]);
  put(c, 'a', 256, [4, 4, 2], 10);
  put(c, 'a', 256, [4, 4, 1], 9, 1);
  t.equal(c.size, 4);
  t.equal(c.get('a', 9, 0, 256)!.minLen, 12);
  t.equal(c.get('b', 9, 0, 256)!.minLen, 16);
  t.equal(c.get('a', 10, 0, 256)!.minLen, 10);
  t.equal(c.get('a', 9, 1, 256)!.minLen, 9);
  t.equal(c.get('a', 9, 0, 257), undefined);
  put(c, 'a', 256, [4, 4, 8]);
  t.equal(c.get('a', 9, 0, 256)!.minLen, 16);
  t.equal(c.size, 4);
  t.end();
});

t.test('maxTemplates refuses (and counts) new templates, still refreshes known ones', (t) => {
  const { c } = cache({ maxTemplates: 2 });
  t.ok(put(c, 'a', 256));
  t.ok(put(c, 'a', 257));
  t.equal(put(c, 'a', 258), undefined);
  t.equal(c.stats.refused, 1);
  t.ok(put(c, 'a', 257, [4, 4, 2]), 'a new layout for a known id is not a new template');
  t.equal(c.size, 2);
  t.throws(() => put(c, 'a', 259, [0, 0, 0]), DecodeError, 'a zero-length layout is bad_template');
  t.end();
});

t.test('pending: copied, capped per key, expired on access, over budget, oversized', (t) => {
  const { c, misses } = cache({ pendingMaxSets: 2, pendingMaxBytes: 1000, pendingTtlMs: 500 });
  const data = Buffer.alloc(100, 1);
  t.ok(c.hold('a', 9, 7, 300, data, 11, 22));
  data.fill(9);
  c.hold('a', 9, 7, 300, Buffer.alloc(100, 2), 0, 0);
  c.hold('a', 9, 7, 300, Buffer.alloc(100, 3), 0, 0);
  t.equal(c.stats.pendingDropped, 1, 'the oldest of three dropped past 2 per key');
  t.equal(misses.length, 1);
  t.ok(misses[0] instanceof TemplateMissingError);
  t.match(misses[0], { exporter: 'a', version: 9, domain: 7, templateId: 300 });
  const held = c.takePending('a', 9, 7, 300)!;
  t.same(held.map((p) => p.data[0]), [2, 3], 'copies, oldest first');
  t.equal(c.pendingSets, 0);
  t.equal(c.pendingBytes, 0);
  t.equal(c.stats.pendingDecoded, 2);
  t.equal(c.takePending('a', 9, 7, 300), undefined);

  t.ok(c.hold('b', 9, 0, 300, Buffer.alloc(10), 0, 0));
  clock.ms += 501;
  t.equal(c.takePending('b', 9, 0, 300), undefined, 'expired on access');
  t.equal(c.stats.pendingExpired, 1);

  c.hold('c', 10, 0, 300, Buffer.alloc(500), 0, 0);
  c.hold('d', 10, 0, 300, Buffer.alloc(500), 0, 0);
  t.equal(c.pendingSets, 1, 'two 564-byte charges do not fit 1000: the older went');
  t.ok(c.pendingBytes <= 1000);
  t.equal(c.hold('e', 10, 0, 300, Buffer.alloc(2000), 0, 0), false, 'larger than the whole budget');
  t.equal(c.stats.pendingDropped, 3);
  t.same(misses.map((m) => m.exporter), ['a', 'b', 'c', 'e']);
  t.end();
});

t.test('sweep expires held sets as misses', (t) => {
  const { c, misses } = cache({ pendingTtlMs: 100 });
  c.hold('a', 10, 1, 256, Buffer.alloc(4), 0, -1);
  c.hold('a', 10, 1, 257, Buffer.alloc(4), 0, -1);
  clock.ms += 50;
  c.hold('a', 10, 1, 257, Buffer.alloc(4), 0, -1);
  clock.ms += 60;
  c.sweep();
  t.equal(c.pendingSets, 1);
  t.same(misses.map((m) => m.templateId), [256, 257]);
  t.end();
});

t.test('serialize/restore round trip, with validation', (t) => {
  const { c } = cache();
  put(c, '10.0.0.1', 256);
  c.put('10.0.0.1', 10, 5, 300, TemplateKind.Data, 0, [0x8001, 82, 2], [9, 0, 0], [4, 65535, 2], 3);
  c.put('10.0.0.2', 10, 5, 301, TemplateKind.Options, 1, [149, 34], [0, 0], [4, 4], 2);
  const snap = JSON.parse(JSON.stringify(c.serialize())) as { templates: Array<Record<string, unknown>> };
  t.equal(snap.templates.length, 3);
  const good = snap.templates[1]!;
  const bad: unknown[] = [
    null, 7, { ...good, version: 5 }, { ...good, id: 255 }, { ...good, exporter: '' }, { ...good, kind: 2 },
    { ...good, domain: -1 }, { ...good, fields: [] }, { ...good, fields: [[1, 2]] }, { ...good, fields: [[8, 0, 0]] },
    { ...good, fields: [[8, 9, 4]] }, { ...good, scopeCount: 5 }, { ...good, seenMs: clock.ms - 31 * 60_000 },
    { ...good, seenMs: 'x' }, { ...good, fields: Array.from({ length: 513 }, () => [1, 0, 4]) },
  ];
  clock.ms += 1000;
  const { c: c2 } = cache();
  t.equal(c2.restore({ templates: [...snap.templates, ...bad] }), 3);
  t.equal(c2.stats.learned, 0, 'restoring is not learning');
  const tpl = c2.get('10.0.0.1', 10, 5, 300)!;
  t.ok(tpl.sameLayout(TemplateKind.Data, 0, [0x8001, 82, 2], [9, 0, 0], [4, 65535, 2], 3));
  t.equal(tpl.minLen, 7);
  t.equal(c2.get('10.0.0.2', 10, 5, 301)!.kind, TemplateKind.Options);
  t.same(c2.serialize(), snap, 'the saved age is kept');
  t.equal(c2.restore('garbage'), 0);
  t.equal(c2.restore({ templates: 'x' }), 0);
  const { c: small } = cache({ maxTemplates: 1 });
  t.equal(small.restore(snap), 1, 'stops when full');
  clock.ms += 31 * 60_000;
  t.equal(cache().c.restore(snap), 0, 'all older than the TTL');
  t.end();
});

t.test('compileTemplate guards', (t) => {
  t.throws(() => compileTemplate(10, 256, TemplateKind.Data, 0, [], [], [], 0), DecodeError);
  t.throws(() => compileTemplate(10, 100, TemplateKind.Data, 0, [8], [0], [4], 1), DecodeError);
  t.throws(() => compileTemplate(10, 256, TemplateKind.Data, 1, [8], [0], [4], 1), DecodeError);
  t.throws(() => compileTemplate(10, 256, TemplateKind.Data, 0, [1, 2, 3], [0, 0, 0], [65534, 65534, 1], 3), DecodeError);
  const v = compileTemplate(10, 256, TemplateKind.Data, 0, [82], [0], [65535], 1);
  t.equal(v.minLen, 1, 'a variable-length field alone is a valid, non-empty record');
  t.end();
});

t.test('SamplingTable: bounded, validated, serializable', (t) => {
  const s = new SamplingTable({ maxEntries: 2, maxSamplersPerEntry: 1 });
  t.ok(s.setRate('a', 9, 0, 100));
  t.notOk(s.setRate('a', 9, 0, 0), 'zero is not a rate');
  t.notOk(s.setRate('a', 9, 0, Number.NaN));
  t.ok(s.setSamplerRate('a', 9, 0, 3, 10));
  t.notOk(s.setSamplerRate('a', 9, 0, 4, 10));
  t.equal(s.stats.samplersRefused, 1);
  t.ok(s.setSystemInit('b', 10, 1, 12345));
  t.notOk(s.setRate('c', 9, 0, 5));
  t.equal(s.stats.refused, 1);
  t.equal(s.lookup('a', 9, 0, 3), 10);
  t.equal(s.lookup('a', 9, 0, 4), 100);
  t.equal(s.lookup('a', 9, 0), 100);
  t.equal(s.lookup('z', 9, 0), 0);
  const snap = JSON.parse(JSON.stringify(s.serialize())) as { entries: object[] };
  const s2 = new SamplingTable();
  t.equal(s2.restore({ entries: [...snap.entries, { exporter: 'x', version: 9, domain: 0, rate: -1, sysInitMs: -1, samplers: [] }, 5] }), 2);
  t.same(s2.serialize(), snap);
  t.equal(s2.entry('b', 10, 1)!.sysInitMs, 12345);
  t.equal(s2.restore(null), 0);
  t.end();
});
