import t from 'tap';
import { createServer, type Server } from 'node:net';
import { freeTcpPort, retryPortClash } from './ports.js';

const listen = (port: number): Promise<Server> => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(port, '127.0.0.1', () => resolve(s));
});
const close = (s: Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

t.test('a server start that lost its port to another process is retried on new ports', async (t) => {
  const taken = await listen(0);
  t.teardown(() => close(taken));
  const takenPort = (taken.address() as { port: number }).port;
  const tried: number[] = [];
  // the first attempt "picks" the taken port, as a race with another test would make it
  const s = await retryPortClash(async () => {
    const port = tried.length === 0 ? takenPort : await freeTcpPort();
    tried.push(port);
    return listen(port);
  });
  t.teardown(() => close(s));
  t.equal(tried.length, 2, 'one clash (EADDRINUSE), then a start on a free port');
  t.not((s.address() as { port: number }).port, takenPort);
});

t.test('other failures are thrown at once; clashes only up to the attempts given', async (t) => {
  let n = 0;
  await t.rejects(retryPortClash(async () => { n++; throw new Error('influxd exited with 1: bad config'); }), /bad config/);
  t.equal(n, 1, 'not retried');
  n = 0;
  await t.rejects(retryPortClash(async () => { n++; throw new Error('rsyslogd could not bind a port: imudp: Could not create udp listener'); }), /could not bind/);
  t.equal(n, 3, 'three attempts by default');
});
