import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { Metrics } from '../../src/lib/counters.js';
import { client, waitFor } from '../helpers/udp.js';
import { ConfigError } from '../../src/lib/errors.js';
import { UdpListener, ListenError, parseHostPort, defaultConfig, formatHostPort } from '../../src/ingest/udp.js';

interface Got { text: string; src: string; port: number; ms: number }

const OPTS = { timeout: 10_000 };


async function send(c: Socket, text: string, port: number, address: string): Promise<void> {
  await new Promise<void>((resolve, reject) => c.send(Buffer.from(text), port, address, (e) => (e ? reject(e) : resolve())));
}

async function ipv6Available(): Promise<boolean> {
  const s = createSocket('udp6');
  try {
    s.bind(0, '::1');
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

t.test('IPv4 listener: source, payload, injected clock, counters', OPTS, async (t) => {
  const metrics = new Metrics();
  const got: Got[] = [];
  const l = new UdpListener({ address: '127.0.0.1', port: 0, recvBufferSize: 0 },
    (buf, src, port, ms) => got.push({ text: buf.toString(), src, port, ms }), metrics, () => 1234);
  t.throws(() => l.address(), /not started/);
  await l.start();
  await l.start(); // a second start is a no-op
  const { address, port } = l.address();
  t.equal(address, '127.0.0.1');
  t.ok(port > 0, 'ephemeral port');
  const c = await client('udp4', '127.0.0.1');
  t.teardown(() => c.close());
  for (const m of ['one', 'two', 'three']) await send(c, m, port, '127.0.0.1');
  await waitFor(() => got.length === 3);
  t.same(got.map((g) => g.text).sort(), ['one', 'three', 'two']);
  t.same(got[0], { text: got[0]!.text, src: '127.0.0.1', port: c.address().port, ms: 1234 });
  const where = { listener: '127.0.0.1:0' };
  t.equal(metrics.total('datagrams_received_total', where), 3);
  t.equal(metrics.total('bytes_received_total', where), 11);
  t.equal(metrics.total('datagram_handler_errors_total', where), 0);
  await l.stop();
  await l.stop(); // idempotent
  t.throws(() => l.address());
});

t.test('a throwing handler is counted and the listener keeps going', OPTS, async (t) => {
  const metrics = new Metrics();
  const got: string[] = [];
  const l = new UdpListener({ address: '127.0.0.1', port: 0, recvBufferSize: 0 }, (buf) => {
    if (buf.toString() === 'boom') throw new Error('handler bug');
    got.push(buf.toString());
  }, metrics);
  await l.start();
  t.teardown(() => l.stop());
  const c = await client('udp4', '127.0.0.1');
  t.teardown(() => c.close());
  const { port } = l.address();
  await send(c, 'boom', port, '127.0.0.1');
  await waitFor(() => metrics.total('datagram_handler_errors_total') === 1);
  await send(c, 'after', port, '127.0.0.1');
  await waitFor(() => got.length === 1);
  t.same(got, ['after']);
  t.equal(metrics.total('datagrams_received_total'), 2);
  t.equal(metrics.total('datagram_handler_errors_total'), 1);
  t.match(l.lastHandlerError, { message: 'handler bug' });
});

const HAS_V6 = await ipv6Available();

t.test('IPv6 listener, and [::]:P beside 0.0.0.0:P', { ...OPTS, skip: !HAS_V6 && 'no IPv6 loopback on this host' }, async (t) => {
  const metrics = new Metrics();
  const got: Got[] = [];
  const l = new UdpListener({ address: '::1', port: 0, recvBufferSize: 0 }, (buf, src, port, ms) => got.push({ text: buf.toString(), src, port, ms }), metrics);
  await l.start();
  t.teardown(() => l.stop());
  t.equal(l.label, '[::1]:0');
  const c = await client('udp6', '::1');
  t.teardown(() => c.close());
  await send(c, 'v6', l.address().port, '::1');
  await waitFor(() => got.length === 1);
  t.same([got[0]!.text, got[0]!.src, got[0]!.port], ['v6', '::1', c.address().port]);
  t.equal(metrics.total('datagrams_received_total', { listener: '[::1]:0' }), 1);

  const v4 = new UdpListener({ address: '0.0.0.0', port: 0, recvBufferSize: 0 }, () => {}, metrics);
  await v4.start();
  t.teardown(() => v4.stop());
  const v6 = new UdpListener({ address: '::', port: v4.address().port, recvBufferSize: 0 }, () => {}, metrics);
  await t.resolves(v6.start(), 'ipv6Only lets both families bind one port');
  t.teardown(() => v6.stop());
  t.equal(v6.address().port, v4.address().port);
});

t.test('EADDRINUSE names the address', OPTS, async (t) => {
  const metrics = new Metrics();
  const a = new UdpListener({ address: '127.0.0.1', port: 0, recvBufferSize: 0 }, () => {}, metrics);
  await a.start();
  t.teardown(() => a.stop());
  const port = a.address().port;
  const b = new UdpListener({ address: '127.0.0.1', port, recvBufferSize: 0 }, () => {}, metrics);
  const err = await b.start().then(() => null, (e: unknown) => e);
  t.ok(err instanceof ListenError);
  t.equal((err as ListenError).code, 'EADDRINUSE');
  t.equal((err as Error).message, `cannot listen on udp 127.0.0.1:${port}: address already in use (another collector running?)`);
  t.throws(() => b.address(), 'the failed listener is not started');
  const c = new UdpListener({ address: '192.0.2.1', port: 0, recvBufferSize: 0 }, () => {}, metrics);
  await t.rejects(c.start(), { code: 'EADDRNOTAVAIL', message: /192\.0\.2\.1:0: address not available/ });
});

t.test('receive buffer: granted size reported, capping flagged', OPTS, async (t) => {
  const metrics = new Metrics();
  const small = new UdpListener({ address: '127.0.0.1', port: 0, recvBufferSize: 256 * 1024 }, () => {}, metrics);
  await small.start();
  t.teardown(() => small.stop());
  t.equal(small.recvBuffer.requested, 256 * 1024);
  t.ok(small.recvBuffer.actual >= 256 * 1024 || small.recvBuffer.capped, `actual ${small.recvBuffer.actual}`);
  t.equal(metrics.total('udp_recv_buffer_bytes', { listener: '127.0.0.1:0' }), small.recvBuffer.actual);
  const huge = new UdpListener({ address: '127.0.0.2', port: 0, recvBufferSize: 2 ** 30 }, () => {}, metrics);
  await huge.start(); // the OS caps 1 GiB; that is reported, not thrown
  t.teardown(() => huge.stop());
  t.equal(huge.recvBuffer.capped, huge.recvBuffer.actual < 2 ** 30);
  t.ok(huge.recvBuffer.capped, `1 GiB granted as ${huge.recvBuffer.actual}`);
  t.equal(metrics.total('udp_recv_buffer_capped', { listener: '127.0.0.2:0' }), 1);
});

t.test('IPv4-mapped sources lose their ::ffff: prefix', OPTS, async (t) => {
  const srcs: string[] = [];
  const l = new UdpListener(defaultConfig(), (_b, src) => srcs.push(src), new Metrics());
  // A dual-stack socket is not what start() makes, so feed the receive path directly.
  const receive = (l as unknown as { receive(m: Buffer, a: string, p: number): void }).receive.bind(l);
  receive(Buffer.from('x'), '::ffff:192.0.2.9', 1);
  receive(Buffer.from('x'), '::ffff:c000:209', 1);
  receive(Buffer.from('x'), '2001:db8::1', 1);
  t.same(srcs, ['192.0.2.9', '::ffff:c000:209', '2001:db8::1']);
});

t.test('parseHostPort', async (t) => {
  t.same(parseHostPort('0.0.0.0:2055'), { address: '0.0.0.0', port: 2055 });
  t.same(parseHostPort('[::]:2055'), { address: '::', port: 2055 });
  t.same(parseHostPort(':6343'), { address: '0.0.0.0', port: 6343 });
  t.same(parseHostPort(' [2001:db8::1]:0 '), { address: '2001:db8::1', port: 0 });
  t.same(parseHostPort('127.0.0.1:65535'), { address: '127.0.0.1', port: 65535 });
  const bad: [string, RegExp][] = [
    ['2055', /needs a port/],
    ['::1:2055', /must be bracketed/],
    ['localhost:2055', /not an IPv4 address \(use an IP literal/],
    ['10.0.0.300:2055', /not an IPv4 address/],
    ['[::1]2055', /must look like "\[::\]:2055"/],
    ['[1.2.3.4]:2055', /not an IPv6 address/],
    ['0.0.0.0:65536', /port "65536" .* is not a number from 0 to 65535/],
    ['0.0.0.0:', /port "" /],
    ['0.0.0.0:20x5', /port "20x5"/],
  ];
  for (const [text, re] of bad) {
    const err = t.throws(() => parseHostPort(text, 'listen.netflow')) as unknown as ConfigError;
    t.ok(err instanceof ConfigError, text);
    t.equal(err.key, 'listen.netflow');
    t.match(err.message, re, text);
    t.match(err.message, /^listen\.netflow: /);
  }
  t.equal(formatHostPort('::', 2055), '[::]:2055');
  t.equal(formatHostPort('0.0.0.0', 2055), '0.0.0.0:2055');
});
