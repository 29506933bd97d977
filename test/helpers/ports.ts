// Free loopback ports for the test servers: bound to port 0, read, released. Another process may take
// one before the server binds it: the helpers that start servers retry then (retryPortClash).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** How a server says a port picked for it was taken first (Go, Python, Django, startRsyslog, influxd's pre-check). */
const CLASH = /address already in use|port is already in use|could not bind a port|is taken/i;

/**
 * Runs `start`, which picks free ports and starts a server on them, again (up to `attempts` times in
 * all) when a port it picked was taken before the server bound it; any other failure is thrown at once.
 */
export async function retryPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !CLASH.test((err as Error).message)) throw err;
    }
  }
}

export async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
