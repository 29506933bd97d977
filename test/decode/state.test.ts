import t from 'tap';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadState, saveState, STATE_FORMAT, STATE_VERSION } from '../../src/decode/state.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { TemplateKind } from '../../src/decode/elements.js';
import { InterfaceNames } from '../../src/decode/interface-names.js';

const now = () => 1_800_000_000_000;

function parts() {
  return { templates: new TemplateCache({ now }), sampling: new SamplingTable() };
}

function filled() {
  const p = parts();
  p.templates.put('10.0.0.1', 9, 0, 256, TemplateKind.Data, 0, [8, 12, 1], [0, 0, 0], [4, 4, 4], 3);
  p.templates.put('10.0.0.1', 10, 3, 257, TemplateKind.Options, 1, [149, 34], [0, 0], [4, 4], 2);
  p.sampling.setRate('10.0.0.1', 9, 0, 64);
  p.sampling.setSamplerRate('10.0.0.1', 10, 3, 2, 1000);
  return p;
}

t.test('save then load restores templates and sampling; the write leaves no temp file', (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'state.json');
  saveState(file, filled());
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  t.equal(doc.format, STATE_FORMAT);
  t.equal(doc.version, STATE_VERSION);
  const p = parts();
  const res = loadState(file, p);
  t.same(res, { loaded: true, missing: false, templates: 2, sampling: 2, interfaceNames: 0 });
  t.equal(p.templates.get('10.0.0.1', 9, 0, 256)!.minLen, 12);
  t.equal(p.sampling.lookup('10.0.0.1', 9, 0), 64);
  t.equal(p.sampling.lookup('10.0.0.1', 10, 3, 2), 1000);
  // Saving again replaces the file atomically; only the state file is ever left in the directory.
  p.sampling.setRate('10.0.0.9', 10, 0, 8);
  saveState(file, p);
  t.same(readdirSync(dir), ['state.json']);
  t.equal((loadState(file, parts())).sampling, 3);
  t.end();
});

t.test('a missing file is fine', (t) => {
  const res = loadState(path.join(t.testdir({}), 'nope.json'), parts());
  t.same(res, { loaded: false, missing: true, templates: 0, sampling: 0, interfaceNames: 0 });
  t.end();
});

t.test('corrupt, truncated or foreign files are reported and ignored', (t) => {
  const dir = t.testdir({});
  const good = path.join(dir, 'good.json');
  saveState(good, filled());
  const text = readFileSync(good, 'utf8');
  const cases: Record<string, string> = {
    truncated: text.slice(0, Math.floor(text.length / 2)),
    corrupt: '{"format": garbage',
    array: '[1,2,3]',
    foreign: JSON.stringify({ format: 'something-else', version: 1, templates: {} }),
    future: JSON.stringify({ format: STATE_FORMAT, version: 99 }),
    empty: '',
  };
  for (const [name, body] of Object.entries(cases)) {
    const f = path.join(dir, `${name}.json`);
    writeFileSync(f, body);
    const p = parts();
    const res = loadState(f, p);
    t.equal(res.loaded, false, name);
    t.equal(res.missing, false, name);
    t.ok(res.error instanceof Error, `${name}: ${res.error?.message}`);
    t.match(res.error?.message, f, 'the message names the file');
    t.equal(p.templates.size + p.sampling.size, 0, `${name}: nothing restored`);
  }
  const res = loadState(dir, parts());
  t.match(res.error?.message, /not a regular file/);
  t.end();
});

t.test('valid envelope with bad entries restores only the good ones', (t) => {
  const dir = t.testdir({});
  const f = path.join(dir, 's.json');
  const snap = filled().templates.serialize() as { templates: unknown[] };
  writeFileSync(f, JSON.stringify({
    format: STATE_FORMAT, version: STATE_VERSION,
    templates: { templates: [...snap.templates, { id: 'x' }] }, sampling: { entries: 'nope' },
  }));
  const res = loadState(f, parts());
  t.same(res, { loaded: true, missing: false, templates: 2, sampling: 0, interfaceNames: 0 });
  t.end();
});

t.test('a save creates a missing directory; one that cannot be created throws and leaves nothing behind', (t) => {
  const dir = t.testdir({ file: 'not a directory' });
  saveState(path.join(dir, 'new', 'state.json'), filled());
  t.same(readdirSync(path.join(dir, 'new')), ['state.json']);
  t.throws(() => saveState(path.join(dir, 'file', 'state.json'), filled()));
  t.same(readdirSync(dir).sort(), ['file', 'new']);
  t.end();
});

t.test('the file never exceeds maxBytes: the least recently used exporters are left out first', (t) => {
  const file = path.join(t.testdir({}), 'state.json');
  let ms = now();
  const p = { templates: new TemplateCache({ now: () => ms }), sampling: new SamplingTable() };
  for (let e = 0; e < 20; e++) {
    ms += 1000;
    for (let id = 256; id < 266; id++) p.templates.put(`10.0.0.${e}`, 9, 0, id, TemplateKind.Data, 0, [8, 12, 1], [0, 0, 0], [4, 4, 4], 3);
  }
  const full = saveState(file, p, 1 << 20);
  t.same({ templates: full.templates, skipped: full.skipped }, { templates: 200, skipped: 0 });
  const cap = Math.floor(full.bytes / 3);
  const r = saveState(file, p, cap);
  t.ok(r.bytes <= cap && readFileSync(file).length === r.bytes, `${r.bytes} bytes written, cap ${cap}`);
  t.equal(r.templates + r.skipped, 200);
  const back = parts();
  t.equal(loadState(file, back).templates, r.templates);
  t.ok(back.templates.exporterUse('10.0.0.19'), 'the most recent exporter is kept');
  t.equal(back.templates.exporterUse('10.0.0.0'), undefined, 'the least recent is left out');
  t.match(loadState(file, parts(), r.bytes - 1).error?.message, /is more than/, 'a file over the read limit is ignored');
  t.end();
});

t.test('a directory that cannot be made under /proc fails the save at once (mkdir -p would loop forever there)', (t) => {
  const started = Date.now();
  t.throws(() => saveState('/proc/self/flowbridge/sub/state.json', filled()));
  t.ok(Date.now() - started < 1000);
  t.end();
});

t.test('learned interface names survive a restart, within the same bounds and cleaning as from the wire', (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'state.json');
  const names = new InterfaceNames();
  names.learn('10.0.0.1', 3, 'xe-0/0/3', false);
  names.learn('10.0.0.1', 4, 'uplink to core', true);
  names.learn('2001:db8::1', 7, 'et-7', false);
  names.configure({ '10.0.0.1': { 5: 'configured, not saved' } });
  saveState(file, { ...parts(), names });
  const restored = new InterfaceNames();
  t.same(loadState(file, { ...parts(), names: restored }), { loaded: true, missing: false, templates: 0, sampling: 0, interfaceNames: 3 });
  t.same([restored.name('10.0.0.1', 3), restored.name('10.0.0.1', 4), restored.name('2001:db8::1', 7), restored.name('10.0.0.1', 5)],
    ['xe-0/0/3', 'uplink to core', 'et-7', undefined]);
  // a description stays one: a name learned later replaces it, as it would have without the restart
  restored.learn('10.0.0.1', 4, 'xe-0/0/4', false);
  t.equal(restored.name('10.0.0.1', 4), 'xe-0/0/4');
  // an edited or damaged file: bad entries skipped, names cleaned, the per-exporter bound kept
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { interfaceNames: { entries: unknown[] } };
  doc.interfaceNames.entries = [['10.0.0.2', 1, 'ok\u0007name', 0], ['10.0.0.2', 0, 'index 0', 0], ['10.0.0.2', '2', 'text index', 0],
    'junk', null, ['10.0.0.2', 3, 42, 0], ['10.0.0.3', 1, 'a', 0], ['10.0.0.3', 2, 'b', 0]];
  writeFileSync(file, JSON.stringify(doc));
  const bounded = new InterfaceNames({ maxPerExporter: 1 });
  t.equal(loadState(file, { ...parts(), names: bounded }).interfaceNames, 2);
  t.same([bounded.name('10.0.0.2', 1), bounded.name('10.0.0.3', 1), bounded.name('10.0.0.3', 2)], ['ok_name', 'a', undefined]);
  // a file of an earlier release, without names, loads as before
  delete (doc as Partial<typeof doc>).interfaceNames;
  writeFileSync(file, JSON.stringify(doc));
  t.match(loadState(file, { ...parts(), names: new InterfaceNames() }), { loaded: true, interfaceNames: 0 });
  t.end();
});

t.test('names are left out whole when they alone would pass maxBytes', (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'state.json');
  const names = new InterfaceNames();
  for (let i = 1; i <= 200; i++) names.learn('10.0.0.1', i, `port-${i}`.padEnd(60, 'x'), false);
  const small = saveState(file, { ...filled(), names }, 4096);
  t.ok(small.bytes <= 4096 && small.templates === 2, `${small.bytes} bytes: the templates, without the names`);
  t.equal(loadState(file, { ...parts(), names: new InterfaceNames() }).interfaceNames, 0, 'names left out whole');
  const fits = saveState(file, { ...filled(), names }, 64 * 1024);
  t.equal(fits.templates, 2);
  t.equal(loadState(file, { ...parts(), names: new InterfaceNames() }).interfaceNames, 200);
  t.end();
});
