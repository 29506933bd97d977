import t from 'tap';
import { compactIndex, Counters, KeyIndex, PAGE_MASK, PagePool } from '../../src/aggregate/keyindex.js';

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
  const all = new Counters(new PagePool(1, 40));
  for (let id = 0; id < 1024; id++) all.at(id)[id & PAGE_MASK] = 1;
  compactIndex(ix, [all]);
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

t.test('counters take a page when an id in it is first counted, and follow a compaction', (t) => {
  const ix = new KeyIndex(1, 1000);
  const pool = new PagePool(6, 4); // ids 0-1023
  const a = new Counters(pool), b = new Counters(pool);
  const taken = (c: Counters) => c.pages.map((p) => p.length > 0);
  const slot = (id: number) => (id & PAGE_MASK) * 6;
  for (let i = 0; i < 300; i++) ix.find1(i, 0, true);
  a.at(5)[slot(5)] = 1;
  a.at(260)[slot(260) + 4] = 2;
  b.at(7)[slot(7) + 2] = 3;
  t.same(taken(a), [true, true, false, false], 'pages 0 and 1 (ids 256-511)');
  t.same(taken(b), [true, false, false, false], 'only the page it touched');
  t.equal(a.pages[0]!.length, (PAGE_MASK + 1) * 6);
  t.ok(a.has(260) && !a.has(6) && !b.has(260) && !b.has(600), 'has: anything non-zero, false on a page never taken');
  t.same([...a.view(260)!], [0, 0, 0, 0, 2, 0]);
  t.equal(b.view(600), undefined);
  compactIndex(ix, [a, b]);
  t.equal(ix.size, 3, 'only ids some interval uses stay');
  t.same([...ix.keys.subarray(0, 3)], [5, 7, 260]);
  t.equal(a.at(0)[slot(0)], 1);
  t.equal(a.at(2)[slot(2) + 4], 2);
  t.equal(b.at(1)[slot(1) + 2], 3);
  t.same(taken(a), [true, false, false, false], 'renumbered into one page');
  t.notOk(b.has(0) || b.has(2) || a.has(1), 'each interval keeps only its own');
  t.equal(pool.size, 2, 'the old pages went back to the pool');
  compactIndex(new KeyIndex(1, 10), []);
  t.end();
});

t.test('reset gives the pages back, zeroed, for the next interval; the pool is bounded', (t) => {
  const pool = new PagePool(6, 4); // ids 0-1023, at most four pages kept free
  const c = new Counters(pool);
  c.at(1000)[(1000 & PAGE_MASK) * 6] = 5;
  c.at(0)[0] = 1;
  c.at(300)[0] = 1;
  const pages = c.pages.filter((p) => p.length > 0);
  t.equal(pages.length, 3);
  c.reset();
  t.same(c.pages.filter((p) => p.length > 0), [], 'every page given back');
  t.equal(pool.size, 3);
  const again = new Counters(pool).at(3);
  t.ok(pages.includes(again), 'a pooled page serves the next interval');
  t.ok(again.every((v) => v === 0), 'zeroed');
  for (let i = 0; i < 3; i++) pool.give(new Float64Array(256 * 6));
  t.equal(pool.size, 4, 'at most as many free pages as the index has');
  t.end();
});
