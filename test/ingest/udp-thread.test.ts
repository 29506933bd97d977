// The socket read in a worker thread: same datagrams, sources, counters and errors as on the main
// thread, nothing lost at stop, and a bounded hand-over that drops (and counts) when decoding is behind.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { Metrics } from '../../src/lib/counters.js';
import { client, waitFor } from '../helpers/udp.js';
import { ListenError, UdpListener } from '../../src/ingest/udp.js';
import { ThreadReceiver } from '../../src/ingest/udp-thread.js';

const OPTS = { timeout: 20_000 };


/**
 * Another process sending `n` 20-byte datagrams to `port`, `gapMs` apart, from `from` (any 127/8
 * address): it sends while this one is busy.
 */
function trickle(port: number, n: number, gapMs: number, from = '127.0.0.1'): { child: ChildProcess; exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['-e', `
    const s = require('node:dgram').createSocket('udp4'); let i = 0;
    const next = () => { if (i++ >= ${n}) return s.close(); s.send(Buffer.alloc(20, 120), ${port}, '127.0.0.1', () => setTimeout(next, ${gapMs})); };
    s.bind(0, '${from}', next);`], { stdio: 'ignore' });
  return { child, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

/** Datagram i: its index, then filler of a length that varies with i. */
const payload = (i: number): Buffer => Buffer.concat([Buffer.from(`${i}:`), Buffer.alloc(1 + ((i * 37) % 1400), i & 255)]);

t.test('thread listener: payloads, sources, times and counters as on the main thread', OPTS, async (t) => {
  const metrics = new Metrics();
  const got: { i: number; ok: boolean; src: string; port: number; ms: number }[] = [];
  const l = new UdpListener({ address: '127.0.0.1', port: 0, recvBufferSize: 4 << 20, thread: true }, (buf, src, port, ms) => {
    const i = Number(buf.toString('latin1', 0, buf.indexOf(58)));
    got.push({ i, ok: buf.equals(payload(i)), src, port, ms });
  }, metrics);
  const t0 = Date.now();
  await l.start();
  t.equal(l.address().address, '127.0.0.1');
  t.ok(l.address().port > 0);
  t.ok(l.recvBuffer.actual > 0, `receive buffer ${l.recvBuffer.actual}`);
  const c = await client('udp4', '127.0.0.1');
  t.teardown(() => c.close());
  let bytes = 0;
  for (let i = 0; i < 3000; i++) {
    const b = payload(i);
    bytes += b.length;
    c.send(b, l.address().port, '127.0.0.1');
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 2)); // stay under the socket buffer
  }
  await waitFor(() => got.length === 3000, 5000);
  t.ok(got.every((g) => g.ok), 'every payload intact');
  t.same(got.map((g) => g.i), Array.from({ length: 3000 }, (_, i) => i), 'in order');
  t.ok(got.every((g) => g.src === '127.0.0.1' && g.port === c.address().port), 'source address and port');
  t.ok(got.every((g) => g.ms >= t0 && g.ms <= Date.now()), 'received times');
  t.equal(metrics.total('datagrams_received_total'), 3000);
  t.equal(metrics.total('bytes_received_total'), bytes);
  t.equal(metrics.total('datagrams_shed_total'), 0);
  await l.stop();
  await l.stop();
  t.throws(() => l.address(), /not started/);
});

t.test('stop() delivers what the thread received before it', OPTS, async (t) => {
  let n = 0;
  const l = new UdpListener({ address: '127.0.0.1', port: 0, recvBufferSize: 4 << 20, thread: true }, () => n++, new Metrics());
  await l.start();
  const c = await client('udp4', '127.0.0.1');
  t.teardown(() => c.close());
  for (let i = 0; i < 200; i++) await new Promise<void>((r) => c.send(payload(i), l.address().port, '127.0.0.1', () => r()));
  await new Promise((r) => setTimeout(r, 100)); // in the thread's socket by now
  await l.stop();
  t.equal(n, 200);
});

t.test('thread listener: bind errors name the address; a throwing handler is counted', OPTS, async (t) => {
  const metrics = new Metrics();
  const a = new UdpListener({ address: '127.0.0.1', port: 0, recvBufferSize: 0, thread: true }, (buf) => {
    if (buf.toString() === 'boom') throw new Error('handler bug');
  }, metrics);
  await a.start();
  t.teardown(() => a.stop());
  const port = a.address().port;
  const b = new UdpListener({ address: '127.0.0.1', port, recvBufferSize: 0, thread: true }, () => {}, metrics);
  const err = await b.start().then(() => null, (e: unknown) => e);
  t.ok(err instanceof ListenError);
  t.equal((err as ListenError).code, 'EADDRINUSE');
  t.equal((err as Error).message, `cannot listen on udp 127.0.0.1:${port}: address already in use (another collector running?)`);
  const c = await client('udp4', '127.0.0.1');
  t.teardown(() => c.close());
  await new Promise<void>((r) => c.send(Buffer.from('boom'), port, '127.0.0.1', () => r()));
  await waitFor(() => metrics.total('datagram_handler_errors_total') === 1);
  t.match(a.lastHandlerError, { message: 'handler bug' });
});

t.test('hand-over bound: while the main thread is behind, the thread drops and counts', OPTS, async (t) => {
  let delivered = 0, dropped = 0;
  const r = new ThreadReceiver({ address: '127.0.0.1', port: 0, v6: false, recvBufferSize: 4 << 20, maxInFlight: 1 }, {
    datagram: (buf, addr) => {
      if (addr === '127.0.0.1' && buf.length > 0) delivered++;
    },
    dropped: (n) => (dropped += n),
    unknownSource: (n) => (dropped += n),
    socketErrors: () => {},
  });
  const b = await r.start();
  t.ok(b.ok);
  t.teardown(() => r.stop());
  const c = await client('udp4', '127.0.0.1');
  t.teardown(() => c.close());
  // sent in one synchronous burst: the main thread cannot take the first batch before the rest arrive
  for (let i = 0; i < 300; i++) c.send(payload(i), b.ok ? b.port : 0, '127.0.0.1');
  await waitFor(() => delivered + dropped === 300, 5000);
  t.ok(dropped > 0 && delivered > 0, `${delivered} delivered, ${dropped} dropped`);
});

t.test('hand-over bound counts the batches\' buffers: datagrams trickling in while the main thread is busy cannot pile up memory', OPTS, async (t) => {
  let delivered = 0, dropped = 0;
  const bound = 256 * 1024; // four batch buffers
  const batches = new Set<ArrayBufferLike>();
  const r = new ThreadReceiver({ address: '127.0.0.1', port: 0, v6: false, recvBufferSize: 4 << 20, maxInFlight: bound }, {
    datagram: (buf) => {
      delivered++;
      batches.add(buf.buffer);
    },
    dropped: (n) => (dropped += n),
    unknownSource: (n) => (dropped += n),
    socketErrors: () => {},
  });
  const b = await r.start();
  t.ok(b.ok);
  t.teardown(() => r.stop());
  // 400 small datagrams 2 ms apart: the worker hands most over one per batch
  const sender = trickle(b.ok ? b.port : 0, 400, 2);
  // the main thread is busy (decoding far behind) while they arrive
  const until = Date.now() + 2500;
  while (Date.now() < until && sender.child.exitCode === null) { /* busy */ }
  await sender.exited;
  await waitFor(() => delivered + dropped === 400, 5000);
  // each in-flight batch holds a 64 KB buffer, however few bytes it carries
  t.ok(batches.size <= bound / (64 * 1024) + 2, `${delivered} delivered while busy in ${batches.size} batches (at most the bound's buffers), ${dropped} dropped`);
});

t.test('past a quarter of the bound, sources that were not sending before are shed first', OPTS, async (t) => {
  const got = new Map<string, number>();
  let behind = 0, unknown = 0, slow = false;
  const r = new ThreadReceiver({ address: '127.0.0.1', port: 0, v6: false, recvBufferSize: 4 << 20, maxInFlight: 1 << 20 }, {
    datagram: (_buf, addr) => {
      got.set(addr, (got.get(addr) ?? 0) + 1);
      // decoding behind once the flood starts: 3 ms a datagram
      const until = performance.now() + (slow ? 3 : 0);
      while (performance.now() < until) { /* busy */ }
    },
    dropped: (n) => (behind += n),
    unknownSource: (n) => (unknown += n),
    socketErrors: () => {},
  });
  const b = await r.start();
  t.ok(b.ok);
  t.teardown(() => r.stop());
  const port = b.ok ? b.port : 0;
  // the exporter sends for 4.5 s, established after its first 2 s; a new source floods from 2.5 s on
  const exporter = trickle(port, 150, 30, '127.0.0.2');
  await new Promise((res) => setTimeout(res, 2500));
  slow = true;
  const flood = trickle(port, 1000, 1, '127.0.0.3');
  await Promise.all([exporter.exited, flood.exited]);
  await waitFor(() => [...got.values()].reduce((a, n) => a + n, 0) + behind + unknown === 1150, 20_000);
  const fromFlood = got.get('127.0.0.3') ?? 0;
  t.ok(unknown > 0, `the new source: ${fromFlood} delivered, ${unknown} shed as unknown`);
  // the exporter loses nothing unless the whole bound filled (a very slow machine)
  if (behind === 0) {
    t.equal(fromFlood + unknown, 1000, 'every datagram of the new source delivered or shed as unknown');
    t.equal(got.get('127.0.0.2'), 150, 'the established exporter: every datagram delivered');
  } else t.comment(`the bound filled: ${behind} shed from either source`);
});

t.test('a backlog is walked in slices: timers (the web page, /healthz) run between them', OPTS, async (t) => {
  let delivered = 0, timerAt = -1;
  const r = new ThreadReceiver({ address: '127.0.0.1', port: 0, v6: false, recvBufferSize: 4 << 20 }, {
    datagram: () => {
      delivered++;
      const until = performance.now() + 2; // decoding far behind: 2 ms a datagram
      while (performance.now() < until) { /* busy */ }
      if (delivered === 1) setTimeout(() => (timerAt = delivered), 0);
    },
    dropped: () => {},
    unknownSource: () => {},
    socketErrors: () => {},
  });
  const b = await r.start();
  t.ok(b.ok);
  t.teardown(() => r.stop());
  // 300 datagrams 1 ms apart: many batches wait while the first ones are walked
  await trickle(b.ok ? b.port : 0, 300, 1).exited;
  await waitFor(() => delivered === 300, 10_000);
  t.ok(timerAt > 0 && timerAt < 100, `a timer due at once ran after ${timerAt} of 300 datagrams (20 ms slices of 2 ms each)`);
});
