// What the kernel sheds when the collector reads too slowly: read from /proc/net/udp, counted per
// listener as datagrams_shed_total{reason="socket_buffer"}, so received + shed = sent.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { endianness } from 'node:os';
import { Metrics } from '../../src/lib/counters.js';
import { UdpListener } from '../../src/ingest/udp.js';
import { kernelDrops, procLocalAddress } from '../../src/ingest/kernel-drops.js';
import { waitFor } from '../helpers/udp.js';
import { startCollector } from '../helpers/collector.js';

const OPTS = { timeout: 30_000 };

/**
 * Another process sends `n` datagrams of 1,400 bytes to `port` while spawnSync blocks this thread
 * (5.6 MB for 4,000: far past a default receive buffer); its exit status.
 */
function burst(port: number, n: number): number | null {
  return spawnSync(process.execPath, ['-e', `
    const s = require('node:dgram').createSocket('udp4'); let done = 0;
    for (let i = 0; i < ${n}; i++) s.send(Buffer.alloc(1400, i & 255), ${port}, '127.0.0.1', () => { if (++done === ${n}) s.close(); });`],
  { stdio: 'ignore', timeout: 20_000 }).status;
}
const linux = existsSync('/proc/net/udp');

t.test('the kernel\'s local_address of a socket', async (t) => {
  const le = endianness() === 'LE';
  t.equal(procLocalAddress('127.0.0.1', 2055), le ? '0100007F:0807' : '7F000001:0807');
  t.equal(procLocalAddress('0.0.0.0', 6343), '00000000:18C7');
  t.equal(procLocalAddress('::1', 1), `000000000000000000000000${le ? '01000000' : '00000001'}:0001`);
  t.equal(procLocalAddress('2001:db8::', 65535), `${le ? 'B80D0120' : '20010DB8'}000000000000000000000000:FFFF`);
});

t.test('no socket, no table: undefined', { skip: !linux && 'not Linux' }, async (t) => {
  t.equal(kernelDrops('127.0.0.1', 1), undefined, 'nothing listens on port 1');
  t.equal(kernelDrops('127.0.0.1', 2055, '/proc/net/none'), undefined, 'no such table');
});

for (const thread of [false, true]) {
  t.test(`a full receive buffer: what the kernel drops is counted (${thread ? 'worker thread' : 'main thread'})`, { ...OPTS, skip: !linux && 'not Linux' }, async (t) => {
    const metrics = new Metrics();
    let received = 0;
    const l = new UdpListener({ address: '127.0.0.1', port: 0, recvBufferSize: 0, thread }, () => received++, metrics);
    await l.start();
    t.teardown(() => l.stop());
    const port = l.address().port;
    t.equal(kernelDrops('127.0.0.1', port), 0, 'a fresh socket dropped nothing');
    const sent = 4000;
    t.equal(burst(port, sent), 0, 'the sender sent everything');
    let last = -1;
    // what the socket held is read now; wait until nothing more arrives
    await waitFor(() => {
      const settled = received === last;
      last = received;
      return settled && received > 0;
    }, 10_000).catch(() => {});
    await new Promise((r) => setTimeout(r, 50));
    l.pollKernelDrops();
    const shedSocket = metrics.total('datagrams_shed_total', { reason: 'socket_buffer' });
    const shedBehind = metrics.total('datagrams_shed_total', { reason: 'decoder_behind' });
    // the worker thread reads on while this one is blocked: it may keep up
    if (!thread) t.ok(shedSocket > 0, `the kernel dropped ${shedSocket}`);
    t.equal(shedSocket, kernelDrops('127.0.0.1', port), 'as /proc/net/udp says');
    t.equal(received + shedSocket + shedBehind, sent, `received ${received} + shed ${shedSocket} + ${shedBehind} = sent`);
    l.pollKernelDrops();
    t.equal(metrics.total('datagrams_shed_total', { reason: 'socket_buffer' }), shedSocket, 'counted once');
  });
}

t.test('live: the collector reads the kernel\'s drops at each interval, into /metrics and the summaries', { ...OPTS, skip: !linux && 'not Linux' }, async (t) => {
  const c = await startCollector({ interval: '1s', listen: { netflow: ['127.0.0.1:0'], sflow: [], extra: [], thread: false, recvBufferSize: 65536 } });
  const sent = 4000;
  t.equal(burst(c.port, sent), 0, 'the sender sent everything');
  const shed = () => c.pipeline.metrics.total('datagrams_shed_total', { reason: 'socket_buffer' });
  const got = () => c.pipeline.metrics.total('datagrams_received_total');
  await waitFor(() => shed() > 0, 5000).catch(() => {});
  t.ok(shed() > 0, `read at the next interval: ${shed()} shed by the kernel`);
  // what the socket still holds is read a few dozen datagrams per turn of the loop: wait until it is all in
  let last = -1;
  await waitFor(() => {
    const settled = got() === last;
    last = got();
    return settled;
  }, 5000).catch(() => {});
  await new Promise((r) => setTimeout(r, 50));
  const received = got();
  await c.stop();
  t.equal(received + shed(), sent, `received ${received} + shed ${shed()} = sent`);
  const inSummaries = c.summaries.reduce((a, s) => a + (s.stats.collector.datagramsShed ?? 0), 0);
  t.equal(inSummaries, shed(), 'the summaries carry them as datagramsShed');
});
