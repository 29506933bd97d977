// The interface name store: wire texts cleaned, configured names win, a description never replaces a
// name, and what options data can make it hold is bounded per exporter and in total, and counted.
import t from 'tap';
import { cleanName, InterfaceNames, MAX_IF_NAME, wireName } from '../../src/decode/interface-names.js';
import { Metrics } from '../../src/lib/counters.js';

const buf = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

t.test('wireName: NUL padding, space padding, controls, UTF-8, caps', async (t) => {
  const b = buf([0xaa, 0xbb], 'xe-0/0/1', [0, 0, 0, 0, 0x41, 0x42]);
  t.equal(wireName(b, 2, 14), 'xe-0/0/1', 'cut at the first NUL; what follows it is ignored');
  t.equal(wireName(b, 2, 4), 'xe-0', 'never past the field');
  t.equal(wireName(buf('  ge-0/0/0   '), 0, 13), 'ge-0/0/0', 'space padding trimmed');
  t.equal(wireName(buf('eth\x1b[31m0\x7f\t1'), 0, 13), 'eth_[31m0__1', 'C0 controls and DEL become _');
  t.equal(wireName(buf('a\u202eb\u2028c\u0085d'), 0, Buffer.byteLength('a\u202eb\u2028c\u0085d')), 'a_b_c_d', 'bidi override, line separator, C1');
  t.equal(wireName(buf('Ethernet1/1 – Übergabe'), 0, Buffer.byteLength('Ethernet1/1 – Übergabe')), 'Ethernet1/1 – Übergabe', 'UTF-8 kept');
  t.equal(wireName(buf([0, 0x41, 0x42]), 0, 3), '', 'a leading NUL: no name');
  t.equal(wireName(buf('   '), 0, 3), '', 'blanks only: no name');
  t.equal(wireName(buf([0xff, 0xfe, 0x41]), 0, 3), '\ufffd\ufffdA', 'invalid UTF-8 becomes U+FFFD, not an error');
  const long = Buffer.alloc(60_000, 0x61);
  t.equal(wireName(long, 0, long.length), 'a'.repeat(MAX_IF_NAME), 'a 60,000-byte name is cut to 64 characters');
  const emoji = '😀'.repeat(100);
  const e = wireName(buf(emoji), 0, Buffer.byteLength(emoji));
  t.equal(Array.from(e).length, MAX_IF_NAME, '64 characters outside the BMP');
  t.equal(e, '😀'.repeat(MAX_IF_NAME), 'no surrogate cut in half');
  t.equal(cleanName(` ${'b'.repeat(70)} `), 'b'.repeat(64));
});

t.test('learn: configured names win, a description never replaces a name, counted when new or changed', async (t) => {
  const m = new Metrics();
  const n = new InterfaceNames({ metrics: m });
  t.equal(n.size, 0);
  t.equal(n.learn('192.0.2.1', 3, 'uplink to core', true), true, 'a description');
  t.equal(n.name('192.0.2.1', 3), 'uplink to core');
  t.equal(n.learn('192.0.2.1', 3, 'xe-0/0/1', false), true, 'then a name: it replaces the description');
  t.equal(n.name('192.0.2.1', 3), 'xe-0/0/1');
  n.learn('192.0.2.1', 3, 'another description', true);
  t.equal(n.name('192.0.2.1', 3), 'xe-0/0/1', 'a later description does not replace the name');
  n.learn('192.0.2.1', 3, 'xe-0/0/1', false);
  t.equal(m.total('interface_names_learned_total'), 2, 'the refresh and the ignored description are not learning');
  t.equal(n.name('192.0.2.2', 3), undefined, 'per exporter');
  t.equal(n.name('192.0.2.1', 4), undefined, 'per ifIndex');
  for (const bad of [0, -1, 2 ** 32, 1.5, NaN]) t.equal(n.learn('192.0.2.1', bad, 'x', false), false, `ifIndex ${bad} refused`);
  t.equal(n.learn('192.0.2.1', 5, '', false), false, 'an empty name is none');
  n.configure({ '192.0.2.1': { 3: 'core-uplink' }, '2001:db8::1': { 4294967295: 'last' } });
  t.equal(n.name('192.0.2.1', 3), 'core-uplink', 'configured wins');
  t.equal(n.name('2001:db8::1', 4294967295), 'last');
  t.equal(n.size, 3);
  n.configure({});
  t.equal(n.name('192.0.2.1', 3), 'xe-0/0/1', 'a reload without it: the learned name again');
  t.equal(m.total('interface_names_held'), 1);
});

t.test('bounds: an exporter past its share is refused, past the total the oldest is forgotten; both counted', async (t) => {
  const m = new Metrics();
  const n = new InterfaceNames({ metrics: m, maxNames: 100, maxPerExporter: 40 });
  for (let i = 1; i <= 1000; i++) n.learn('198.51.100.66', i, `spoof${i}`, false);
  t.equal(n.learnedSize, 40, 'one source: its share only');
  t.equal(m.total('interface_names_dropped_total', { reason: 'exporter' }), 960);
  t.equal(n.name('198.51.100.66', 40), 'spoof40');
  t.equal(n.name('198.51.100.66', 41), undefined);
  n.learn('192.0.2.1', 1, 'real', false);
  // many sources: the total cap holds and the oldest go first
  for (let s = 0; s < 10; s++) for (let i = 1; i <= 10; i++) n.learn(`203.0.113.${s}`, i, 'x', false);
  t.equal(n.learnedSize, 100, 'never more than maxNames');
  t.equal(m.total('interface_names_held'), 100);
  t.equal(m.total('interface_names_dropped_total', { reason: 'evicted' }), 41, '141 learned, 100 held');
  t.equal(n.name('198.51.100.66', 1), undefined, 'the oldest forgotten first');
  t.equal(n.name('192.0.2.1', 1), undefined, 'so is a real one that came before the flood');
  t.equal(n.name('203.0.113.9', 10), 'x');
  // an evicted exporter's share is given back: it may learn again
  for (let i = 1; i <= 40; i++) n.learn('198.51.100.66', 2000 + i, 'again', false);
  t.equal(n.name('198.51.100.66', 2040), 'again', 'its share counts what it holds now');
  t.equal(m.total('interface_names_learned_total'), 40 + 1 + 100 + 40);
  // relearning moves a name to the newest: it outlives those learned after it once
  n.learn('203.0.113.9', 10, 'x', false);
  for (let i = 1; i <= 99; i++) n.learn('192.0.2.50', i, 'y', false);
  t.equal(n.name('203.0.113.9', 10), 'x', 'refreshed, so not among the oldest');
  n.clear();
  t.equal(n.learnedSize, 0);
  t.equal(m.total('interface_names_held'), 0);
});
