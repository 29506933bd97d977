// The bounded retry queue: FIFO by weight, oldest dropped (and reported) past the cap, undelivered items
// put back in front, and the exponential backoff stepped with an injected clock.
import t from 'tap';
import { RetryQueue } from '../../src/export/retry-queue.js';

function queue(maxWeight: number, extra: Partial<ConstructorParameters<typeof RetryQueue<string>>[0]> = {}) {
  const dropped: [string, number][] = [];
  const q = new RetryQueue<string>({ maxWeight, onDrop: (item, w) => dropped.push([item, w]), ...extra });
  return { q, dropped };
}

t.test('FIFO with weights', async (t) => {
  const { q, dropped } = queue(10);
  t.equal(q.push('a', 3), 0);
  t.equal(q.push('b', 4), 0);
  t.equal(q.length, 2);
  t.equal(q.weight, 7);
  t.equal(q.peek(), 'a');
  t.equal(q.peekWeight(), 3);
  t.equal(q.shift(), 'a');
  t.equal(q.shift(), 'b');
  t.equal(q.shift(), undefined);
  t.equal(q.weight, 0);
  t.same(dropped, []);
});

t.test('past the cap the oldest items are dropped, in order, and reported', async (t) => {
  const { q, dropped } = queue(10);
  q.push('a', 4);
  q.push('b', 4);
  t.equal(q.push('c', 4), 4, 'a (4) dropped to make room');
  t.equal(q.push('d', 9), 8, 'b and c dropped');
  t.same(dropped, [['a', 4], ['b', 4], ['c', 4]]);
  t.equal(q.weight, 9);
  t.equal(q.push('huge', 11), 11, 'an item heavier than the whole queue is dropped itself');
  t.equal(q.peek(), 'd', 'and the queue keeps what it had');
  t.same(dropped.at(-1), ['huge', 11]);
});

t.test('putBack puts undelivered items in front; on overflow the oldest of them go first', async (t) => {
  const { q, dropped } = queue(10);
  q.push('c', 3);
  q.push('d', 3);
  t.equal(q.putBack([['a', 2], ['b', 2]]), 0);
  t.same([q.shift(), q.shift(), q.shift(), q.shift()], ['a', 'b', 'c', 'd']);
  q.push('c', 3);
  q.push('d', 3);
  t.equal(q.putBack([['a', 3], ['b', 3]]), 3, 'a, the oldest, is dropped');
  t.same(dropped, [['a', 3]]);
  t.same([q.shift(), q.shift(), q.shift()], ['b', 'c', 'd']);
});

t.test('order survives many shifts (the array is compacted, not shifted one by one)', async (t) => {
  const { q } = queue(1e9);
  for (let i = 0; i < 5000; i++) q.push(String(i), 1);
  const got: string[] = [];
  for (let i = 0; i < 3000; i++) got.push(q.shift()!);
  for (let i = 5000; i < 6000; i++) q.push(String(i), 1);
  q.putBack([['back', 1]]);
  t.equal(q.shift(), 'back');
  while (q.length) got.push(q.shift()!);
  t.same(got, Array.from({ length: 6000 }, (_, i) => String(i)));
  t.equal(q.weight, 0);
  t.equal(q.clear(), 0);
});

t.test('exponential backoff on the injected clock, capped, reset by a success', async (t) => {
  let now = 1_000_000;
  const { q } = queue(10, { minDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0, now: () => now });
  t.equal(q.waitMs(), 0, 'no failure yet: try now');
  t.same([q.failed(), q.failed(), q.failed(), q.failed(), q.failed(), q.failed()], [100, 200, 400, 800, 1000, 1000]);
  t.equal(q.failureCount, 6);
  t.equal(q.waitMs(), 1000);
  now += 600;
  t.equal(q.waitMs(), 400, 'counts down with the clock');
  now += 1000;
  t.equal(q.waitMs(), 0);
  q.succeeded();
  t.equal(q.failureCount, 0);
  t.equal(q.failed(), 100, 'back to the first step');
});

t.test('jitter shortens each delay by up to its fraction', async (t) => {
  let r = 0;
  const { q } = queue(10, { minDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.2, random: () => r, now: () => 0 });
  r = 1;
  t.equal(q.failed(), 800);
  r = 0.5;
  t.equal(q.failed(), 1800);
  r = 0;
  t.equal(q.failed(), 4000);
});

t.test('a cap of zero is refused', async (t) => {
  t.throws(() => new RetryQueue({ maxWeight: 0 }), RangeError);
});
