// Syslog accounting (issue 17, item 10): every message handed to send() ends up sent, dropped or
// queued (syslog_queue_depth), exactly, also when the receiver never reads (messages stuck in the
// socket's write buffer), when write callbacks never fire after close, and for UDP sends in flight.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTransport, type Transport, type TransportOptions } from '../../src/alert/transport.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { startBlackhole } from '../helpers/blackhole.js';

// about the size of a real RFC 5424 alert with its JSON
const MSG = `<133>1 2026-11-01T00:00:03.025Z probe-1 flowbridge 4242 EVENT [flowbridge@32473 kind="event" name="uport"] ${'{"x":1}'.repeat(40)}`;

function transport(m: Metrics, o: Partial<TransportOptions>): Transport {
  return createTransport({
    host: '127.0.0.1', port: 9, protocol: 'tcp', framing: 'octet-counting', queue: 10_000,
    connectTimeout: 1000, reconnectMin: 50, reconnectMax: 200, metrics: m, log: silentLogger, ...o,
  });
}

interface Count { produced: number; sent: number; dropped: number; queued: number }

const count = (m: Metrics, produced: number): Count => ({
  produced, sent: m.total('syslog_sent_total'), dropped: m.total('syslog_dropped_total'), queued: m.total('syslog_queue_depth'),
});

const balanced = (c: Count) => c.sent + c.dropped + c.queued === c.produced;

/** `total` messages in bursts of `burst`, yielding between bursts so the socket gets to write. */
async function produce(tr: Transport, total: number, burst: number): Promise<number> {
  let n = 0;
  while (n < total) {
    for (let i = 0; i < burst && n < total; i++, n++) tr.send(MSG);
    await sleep(1);
  }
  return n;
}

/** A loopback UDP socket that never reads: a syslog receiver that is not keeping up. Returns its port. */
async function silentReceiver(t: { teardown(fn: () => unknown): void }): Promise<number> {
  const rx = createSocket('udp4');
  await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', resolve));
  t.teardown(() => rx.close());
  return rx.address().port;
}

t.test('TCP receiver that accepts and never reads: sent + dropped + queued = produced, during and after stop', async (t) => {
  const bh = await startBlackhole({ read: false });
  t.teardown(() => bh.close());
  const m = new Metrics();
  const tr = transport(m, { port: bh.port });
  for (let i = 0; i < 200 && tr.state !== 'connected'; i++) await sleep(10);
  t.equal(tr.state, 'connected');
  const produced = await produce(tr, 300_000, 5000);
  const during = count(m, produced);
  t.ok(balanced(during), `while running: ${JSON.stringify(during)}`);
  t.ok(during.queued > 0, 'the receiver reads nothing, so messages wait');
  t.equal(during.queued, tr.depth, 'the gauge is the transport depth');
  await tr.stop(300);
  const after = count(m, produced);
  t.comment(`after stop: ${JSON.stringify(after)}`);
  t.same({ ...after, produced: after.sent + after.dropped + after.queued }, { ...after }, 'sent + dropped + queued = produced after stop');
  t.equal(after.queued, 0, 'nothing is left queued after stop');
  t.ok(after.dropped > 0, 'what the receiver never took is dropped, not sent');
  await sleep(200); // late write callbacks (after destroy) must not change the counts
  t.same(count(m, produced), after, 'the counts do not move after stop');
  tr.send(MSG);
  t.equal(m.total('syslog_dropped_total'), after.dropped + 1, 'a send after stop is dropped');
});

t.test('TCP: a receiver that goes away with writes pending, then refuses reconnects', async (t) => {
  const bh = await startBlackhole({ read: false });
  const m = new Metrics();
  const tr = transport(m, { port: bh.port, queue: 500 });
  for (let i = 0; i < 200 && tr.state !== 'connected'; i++) await sleep(10);
  let produced = await produce(tr, 50_000, 5000);
  await bh.close(); // the connection is reset with writes pending
  for (let i = 0; i < 200 && tr.state === 'connected'; i++) await sleep(10);
  produced += await produce(tr, 2000, 500);
  const mid = count(m, produced);
  t.ok(balanced(mid), `receiver gone: ${JSON.stringify(mid)}`);
  await tr.stop(100);
  const after = count(m, produced);
  t.ok(balanced(after) && after.queued === 0, `after stop: ${JSON.stringify(after)}`);
});

t.test('UDP: sends in flight at stop are dropped, not lost', async (t) => {
  const port = await silentReceiver(t);
  const m = new Metrics();
  const tr = transport(m, { protocol: 'udp', port, queue: 1000 });
  // one synchronous burst: the socket is still binding, so every send is in flight when stop() runs
  let produced = 0;
  for (; produced < 300_000; produced++) tr.send(MSG);
  const during = count(m, produced);
  t.ok(balanced(during), `in flight: ${JSON.stringify(during)}`);
  t.equal(during.queued, 1000, 'the in-flight cap');
  await tr.stop(0);
  const after = count(m, produced);
  t.comment(`after stop: ${JSON.stringify(after)}`);
  t.same({ ...after, produced: after.sent + after.dropped + after.queued }, { ...after }, 'sent + dropped + queued = produced after stop');
  t.equal(after.queued, 0, 'nothing is left in flight after stop');
  await sleep(100);
  t.same(count(m, produced), after, 'the counts do not move after stop');
});

t.test('UDP: bursts past the in-flight cap to a receiver that never reads; stop with time to finish', async (t) => {
  const port = await silentReceiver(t);
  const m = new Metrics();
  const tr = transport(m, { protocol: 'udp', port, queue: 1000 });
  const produced = await produce(tr, 100_000, 2000);
  await tr.stop(2000);
  const after = count(m, produced);
  t.ok(balanced(after) && after.queued === 0, `after stop: ${JSON.stringify(after)}`);
});

t.test('two transports on one registry (a reload): the depth gauge is their sum', async (t) => {
  const bh = await startBlackhole({ read: false });
  t.teardown(() => bh.close());
  const m = new Metrics();
  const a = transport(m, { port: bh.port, queue: 100 });
  const b = transport(m, { port: 1, queue: 100, reconnectMin: 10_000 }); // nothing listens on port 1: b queues
  for (let i = 0; i < 200 && a.state !== 'connected'; i++) await sleep(10);
  for (let i = 0; i < 50; i++) b.send(MSG);
  const produced = 50 + await produce(a, 100_000, 5000);
  t.equal(m.total('syslog_queue_depth'), a.depth + b.depth, 'gauge = a.depth + b.depth');
  await a.stop(50); // the old sender drains and closes; b's queue must still show
  t.equal(m.total('syslog_queue_depth'), b.depth, 'after a stops, the gauge is b.depth');
  t.ok(balanced(count(m, produced)), JSON.stringify(count(m, produced)));
  await b.stop(0);
  const after = count(m, produced);
  t.ok(balanced(after) && after.queued === 0, `after both stop: ${JSON.stringify(after)}`);
});
