// The line sender behind the Graphite sink and the syslog transport, on loopback: reconnects stepped on
// an injected clock (fake timers), the bounded queue's drops, UDP datagrams of whole lines, and
// sent + dropped + failed + depth = produced through a lost connection and a stop.
import t from 'tap';
import FakeTimers from '@sinonjs/fake-timers';
import { createSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LineSender, type Batch, type LineSenderOptions } from '../../src/export/line-sender.js';
import { Counter } from '../../src/lib/counters.js';
import { startBlackhole } from '../helpers/blackhole.js';
import { freeTcpPort } from '../helpers/ports.js';

type Opts = Partial<LineSenderOptions> & Pick<LineSenderOptions, 'port'>;

function sender(o: Opts, now?: () => number) {
  const c = { sent: new Counter('sent', {}), dropped: new Counter('dropped', {}), failed: new Counter('failed', {}),
    errors: new Counter('errors', {}), connects: new Counter('connects', {}), retries: new Counter('retries', {}) };
  const drops: [string, number][] = [];
  const depths: number[] = [];
  const s = new LineSender({
    host: '127.0.0.1', protocol: 'tcp', maxQueueLines: 1000, minRetryDelayMs: 100, maxRetryDelayMs: 400, jitter: 0,
    connectTimeoutMs: 5000, ...o,
  }, { counters: c, now, onDrop: (b, n) => drops.push([b.text, n]), onDepth: (d) => depths.push(d) });
  /** every line handed in is sent, dropped, failed or held */
  const held = () => c.sent.value + c.dropped.value + c.failed.value + s.depth;
  return { s, c, drops, depths, held };
}

const line = (i: number): Batch => ({ text: `l${i} ${i} 0\n`, lines: 1 });

/** Waits for real I/O (setImmediate, which the fake clock leaves alone). */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A TCP server on `port` that keeps what it reads. */
async function reader(port: number): Promise<{ server: Server; text: () => string; sockets: Set<Socket>; close: () => Promise<void> }> {
  let text = '';
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('data', (d) => (text += d.toString()));
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    server, sockets, text: () => text,
    close: () => new Promise<void>((resolve) => {
      for (const x of sockets) x.destroy();
      server.close(() => resolve());
    }),
  };
}

function fakeClock(t: { teardown(fn: () => void): void }) {
  const clock = FakeTimers.install({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout'] });
  t.teardown(() => clock.uninstall());
  return clock;
}

t.test('TCP reconnects on the injected clock: delays double up to the cap; a delivery resets them', async (t) => {
  const clock = fakeClock(t);
  const port = await freeTcpPort();
  const { s, c, held } = sender({ port, resend: true }, () => clock.now);
  s.send(line(0));
  t.equal(s.state, 'connecting', 'the first attempt is at once');
  await until(() => s.state === 'backoff', 'the refused connect');
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    // the next attempt comes exactly when the backoff has run out, not a millisecond before
    let waited = 0;
    while (s.state === 'backoff' && waited < 10_000) {
      clock.tick(1);
      waited++;
    }
    delays.push(waited);
    t.equal(s.state, 'connecting');
    await until(() => s.state === 'backoff', `refused attempt ${i + 2}`);
  }
  t.same(delays, [100, 200, 400, 400], 'min, doubled, capped at max');
  t.equal(c.errors.value, 5, 'one error per refused attempt');
  t.equal(c.retries.value, 5, 'each unrequested close is a retry');
  t.equal(held(), 1);

  const rx = await reader(port);
  t.teardown(() => rx.close());
  clock.tick(400);
  await until(() => c.sent.value === 1 && rx.text() === 'l0 0 0\n', 'delivery');
  t.equal(s.depth, 0);
  await rx.close();
  await until(() => s.state === 'closed', 'the close seen');
  t.equal(c.dropped.value, 0, 'nothing was unconfirmed');
  s.send(line(1));
  t.equal(s.state, 'backoff', 'the close backs off');
  clock.tick(99);
  t.equal(s.state, 'backoff');
  clock.tick(1);
  t.equal(s.state, 'connecting', 'after the minimum again: the delivery reset the backoff');
  await until(() => s.state === 'backoff', 'refused');
  const stopped = s.stop(0);
  t.equal(await stopped, 1, 'stop(0) gives up at once and returns what it dropped');
  t.same([c.sent.value, c.dropped.value, s.depth], [1, 1, 0]);
});

t.test('persistent: connects with nothing to send; a connection that came up resets the backoff', async (t) => {
  const clock = fakeClock(t);
  const port = await freeTcpPort();
  const rx = await reader(port);
  t.teardown(() => rx.close());
  const { s, c } = sender({ port, persistent: true, minRetryDelayMs: 50 }, () => clock.now);
  await until(() => s.state === 'connected', 'connected');
  t.equal(c.connects.value, 1);
  for (let i = 0; i < 3; i++) {
    await until(() => rx.sockets.size === 1, 'accepted');
    for (const x of rx.sockets) x.destroy(); // the receiver drops an idle connection
    rx.sockets.clear();
    await until(() => s.state === 'backoff', 'the close seen');
    clock.tick(49);
    t.equal(s.state, 'backoff');
    clock.tick(1);
    await until(() => s.state === 'connected', 'reconnected');
  }
  t.equal(c.connects.value, 4, 'every reconnect after the minimum delay: coming up was the success');
  t.equal(await s.stop(1000), 0);
  t.equal(s.state, 'closed');
});

t.test('a full queue drops its oldest batches, counted and told; a batch bigger than the queue goes at once', async (t) => {
  const { s, c, drops, held } = sender({ port: await freeTcpPort(), maxQueueLines: 10 });
  const batch = (name: string, n: number): Batch => ({ text: `${name}\n`.repeat(n), lines: n });
  let produced = 0;
  for (const name of ['a', 'b', 'c', 'd', 'e']) {
    s.send(batch(name, 3));
    produced += 3;
    t.equal(held(), produced, `after ${name}: sent + dropped + depth = produced`);
  }
  t.same(drops, [['a\na\na\n', 3], ['b\nb\nb\n', 3]], 'the two oldest went');
  t.same([c.dropped.value, s.depth], [6, 9]);
  s.send(batch('huge', 11));
  t.same(drops.at(-1), ['huge\n'.repeat(11), 11]);
  t.same([c.dropped.value, s.depth], [17, 9], 'and the queue kept what it had');
  t.equal(await s.stop(50), 9, 'left at stop: dropped');
  t.same([c.sent.value, c.dropped.value, s.depth], [0, 26, 0]);
  s.send(batch('late', 2));
  t.equal(c.dropped.value, 28, 'a batch after stop is dropped');
});

t.test('UDP: datagrams of whole lines up to maxDatagramBytes, a longer line alone, in order', async (t) => {
  const rx = createSocket('udp4');
  const got: string[] = [];
  rx.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', resolve));
  t.teardown(() => rx.close());
  const port = rx.address().port;
  const lens = [30, 50, 150, 10, 10, 60, 40];
  const lines = lens.map((n, i) => `${String.fromCharCode(97 + i).repeat(n)}\n`);
  const { s, c, held } = sender({ port, protocol: 'udp', maxDatagramBytes: 100 });
  s.send({ text: lines.join(''), lines: lines.length });
  t.equal(held(), 7);
  await until(() => got.length === 4, 'four datagrams');
  t.same(got, [lines[0]! + lines[1]!, lines[2]!, lines[3]! + lines[4]! + lines[5]!, lines[6]!]);
  t.equal(c.sent.value, 7, 'counted in lines');

  // one message per datagram, line feeds inside and all, when it fits (syslog, RFC 5426)
  const whole = sender({ port, protocol: 'udp' });
  whole.s.send({ text: 'one\nmessage', lines: 1 });
  await until(() => got.length === 5, 'the whole message');
  t.equal(got[4], 'one\nmessage');
  await whole.s.stop(1000);
  await s.stop(1000);
});

t.test('UDP: at most maxQueueLines in flight, past it datagrams are dropped; in flight at stop: dropped', async (t) => {
  const rx = createSocket('udp4'); // never read: a receiver that is not keeping up
  await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', resolve));
  t.teardown(() => rx.close());
  const { s, c, held } = sender({ port: rx.address().port, protocol: 'udp', maxDatagramBytes: 10, maxQueueLines: 3 });
  // datagrams of 2, 1, 3 and 1 lines, all sent before any callback
  s.send({ text: 'aaaa\nbbbb\ncccccccccccc\nd\ne\nf\ngggggggggggg\n', lines: 7 });
  t.same([s.depth, c.dropped.value], [3, 4], 'the 3-line and the last 1-line datagram did not fit');
  t.equal(held(), 7);
  await until(() => s.depth === 0, 'callbacks');
  t.same([c.sent.value, c.dropped.value, c.failed.value], [3, 4, 0]);
  for (let i = 0; i < 50; i++) s.send(line(i));
  t.equal(s.depth, 3);
  t.equal(await s.stop(0), 3, 'the sends in flight');
  const after = performance.now();
  t.same([c.sent.value + c.dropped.value, s.depth], [57, 0], 'sent + dropped = produced');
  await until(() => performance.now() > after + 50, 'a while');
  t.same([held(), s.depth, c.failed.value], [57, 0, 0], 'late callbacks do not count again');
});

t.test('a connection lost with writes pending: dropped at once, or put back and sent again (resend)', async (t) => {
  for (const resend of [false, true]) {
    const bh = await startBlackhole({ read: false });
    const { s, c, held } = sender({ port: bh.port, resend, minRetryDelayMs: 20, maxQueueLines: 1_000_000, maxBufferedBytes: 1 << 20 });
    const batch: Batch = { text: `${'x'.repeat(99)}\n`.repeat(100), lines: 100 };
    s.send(batch);
    await until(() => s.state === 'connected', 'connected');
    // the receiver reads nothing: 20 MB fill the kernel's buffers, 1 MB waits unconfirmed, the rest queues
    let produced = 100;
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 200; j++) s.send(batch);
      produced += 20_000;
      await new Promise((resolve) => setImmediate(resolve));
    }
    t.ok(s.depth > 0, `${resend}: ${s.depth} lines wait`);
    t.equal(held(), produced);
    const before = { sent: c.sent.value, dropped: c.dropped.value, depth: s.depth };
    await bh.close();
    await until(() => s.state !== 'connected', 'the close seen');
    t.equal(held(), produced, `${resend}: sent + dropped + depth = produced after the close`);
    t.equal(c.sent.value + c.dropped.value + s.depth, before.sent + before.dropped + before.depth);
    if (resend) {
      t.equal(c.dropped.value, before.dropped, 'resend: nothing dropped, the unconfirmed lines wait again');
      const rx = await reader(bh.port);
      t.teardown(() => rx.close());
      await until(() => s.depth === 0, 'the backlog sent after the reconnect', 10_000);
      t.equal(c.sent.value, produced, 'every line sent');
    } else {
      t.ok(c.dropped.value > before.dropped, `no resend: the unconfirmed lines dropped (${c.dropped.value - before.dropped})`);
    }
    await s.stop(100);
    t.same([held(), s.depth], [produced, 0], `${resend}: after stop`);
  }
});

t.test('stop(): tries at once, keeps to the backoff within the timeout, gives up when no attempt fits', async (t) => {
  const clock = fakeClock(t);
  const port = await freeTcpPort();
  const a = sender({ port, minRetryDelayMs: 1000, maxRetryDelayMs: 1000 }, () => clock.now);
  a.s.send(line(0));
  await until(() => a.s.state === 'backoff', 'refused');
  // the fake clock never moves here: stop() returns on I/O alone
  t.equal(await a.s.stop(500), 1, 'one more refused attempt, the next would come after the deadline');
  t.same([a.c.errors.value, a.c.dropped.value], [2, 1]);

  const b = sender({ port, minRetryDelayMs: 100 }, () => clock.now);
  b.s.send(line(1));
  await until(() => b.s.state === 'backoff', 'refused');
  const stopped = b.s.stop(5000);
  await until(() => b.c.errors.value === 2 && b.s.state === 'backoff', 'the attempt at stop refused, the next one due in 200 ms');
  const rx = await reader(port);
  t.teardown(() => rx.close());
  clock.tick(199);
  t.equal(b.s.state, 'backoff');
  clock.tick(1);
  await until(() => rx.text() === 'l1 1 0\n', 'delivered while stopping');
  t.equal(await stopped, 0, 'a receiver back within the timeout still gets the queue');
  t.same([b.c.sent.value, b.c.dropped.value], [1, 0]);
});
