import t from 'tap';
import { compactIndex, Counters, KeyIndex } from '../../src/aggregate/keyindex.js';

t.test('one-word keys: dense ids, found again after growth, -1 past max, tag follows the latest lookup', (t) => {
  const ix = new KeyIndex(1, 5000, 4);
  for (let i = 0; i < 5000; i++) t.equal(ix.find1(i * 7919 - 2_000_000, i & 3, true), i);
  t.equal(ix.size, 5000);
  let same = 0;
  for (let i = 0; i < 5000; i++) if (ix.find1(i * 7919 - 2_000_000, i & 3, true) === i) same++;
  t.equal(same, 5000, 'every key keeps its id through rehashes');
  t.equal(ix.find1(123_456_789, 0, true), -1, 'full: no new id');
  t.equal(ix.find1(7919 * 3 - 2_000_000, 9, false), 3, 'an existing key is still found when full');
  t.equal(ix.tags[3], 9, 'the tag is the latest lookup\'s (a reload may move a host to another group)');
  t.equal(ix.find1(42, 0, false), -1, 'absent and not created');
  t.end();
});

t.test('four-word keys (IPv6) differ in any word', (t) => {
  const ix = new KeyIndex(4, 100, 2);
  const ids = [[1, 2, 3, 4], [1, 2, 3, 5], [0, 2, 3, 4], [-1, -2, -3, -4]].map(([a, b, c, d]) => ix.find4(a!, b!, c!, d!, 0, true));
  t.same(ids, [0, 1, 2, 3]);
  t.equal(ix.find4(1, 2, 3, 5, 1, false), 1);
  t.same([...ix.keys.subarray(12, 16)], [-1, -2, -3, -4]);
  t.end();
});

t.test('retain keeps the used ids in order, renumbered, and shrinks after a flood', (t) => {
  const ix = new KeyIndex(1, 100_000, 4);
  for (let i = 0; i < 100_000; i++) ix.find1(i + 1, i % 5, true);
  const used = new Uint8Array(ix.size);
  for (let i = 0; i < 100_000; i += 1000) used[i] = 1;
  const map = ix.retain(used)!;
  t.equal(ix.size, 100);
  t.equal(map[0], 0);
  t.equal(map[1000], 1);
  t.equal(map[1], -1);
  t.ok(ix.keys.length < 1000, `id arrays shrank to ${ix.keys.length}`);
  for (let j = 0; j < 100; j++) {
    if (ix.find1(j * 1000 + 1, (j * 1000) % 5, false) !== j) return t.fail(`key ${j * 1000 + 1} lost`);
  }
  t.equal(ix.find1(2, 0, false), -1, 'a dropped key is gone');
  t.equal(ix.find1(2, 0, true), 100, 'and gets the next id when it comes back');
  t.equal(ix.retain(new Uint8Array(ix.size).fill(1)), undefined, 'nothing to drop: ids stay');
  t.end();
});

t.test('compaction is due when the index is half full or has doubled since the last one (plus 1,024)', (t) => {
  const ix = new KeyIndex(1, 10_000);
  for (let i = 0; i < 1023; i++) ix.find1(i, 0, true);
  t.notOk(ix.crowded());
  ix.find1(-1, 0, true);
  t.ok(ix.crowded(), '1,024 new ids');
  compactIndex(ix, [Object.assign(new Counters(1), { vals: new Float64Array(1024).fill(1) })]);
  t.equal(ix.kept, 1024);
  t.notOk(ix.crowded());
  for (let i = 2000; ix.size < 3072; i++) ix.find1(i, 0, true);
  t.ok(ix.crowded(), 'doubled + 1,024');
  const small = new KeyIndex(1, 4);
  small.find1(1, 0, true);
  t.notOk(small.crowded());
  small.find1(2, 0, true);
  t.ok(small.crowded(), 'half of max');
  t.end();
});

t.test('counters grow to the highest id touched and follow a compaction', (t) => {
  const ix = new KeyIndex(1, 1000);
  const a = new Counters(6), b = new Counters(6);
  for (let i = 0; i < 300; i++) ix.find1(i, 0, true);
  a.at(5)[5 * 6] = 1;
  a.at(250)[250 * 6 + 4] = 2;
  b.at(7)[7 * 6 + 2] = 3;
  t.equal(a.vals.length, 256 * 6, 'doubling from 64 ids');
  t.equal(b.vals.length, 64 * 6);
  t.ok(a.has(250) && !a.has(6) && !b.has(250), 'has: anything non-zero, and false past the end');
  compactIndex(ix, [a, b]);
  t.equal(ix.size, 3, 'only ids some interval uses stay');
  t.same([...ix.keys.subarray(0, 3)], [5, 7, 250]);
  t.equal(a.vals[0], 1);
  t.equal(a.vals[2 * 6 + 4], 2);
  t.equal(b.vals[1 * 6 + 2], 3);
  t.notOk(b.has(0) || b.has(2) || a.has(1), 'each interval keeps only its own');
  compactIndex(new KeyIndex(1, 10), []);
  t.end();
});

t.test('reset zeroes counters for reuse and lets go of an array far larger than the index needs', (t) => {
  const c = new Counters(6);
  c.at(1000)[1000 * 6] = 5;
  const kept = c.vals;
  c.reset(600); // 1024 ids for 600: kept
  t.equal(c.vals, kept);
  t.notOk(c.has(1000), 'zeroed');
  c.reset(100); // 1024 ids for 100: more than four times, dropped
  t.equal(c.vals.length, 0);
  c.at(3)[3 * 6 + 1] = 1;
  t.equal(c.vals.length, 64 * 6, 'grows again from 64 ids');
  t.end();
});
