// Loopback UDP clients for the listener tests.
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

/** Polls `cond` every 5 ms; throws after `ms`. */
export async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for datagrams');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A client socket bound to an ephemeral port of `address`. */
export async function client(type: 'udp4' | 'udp6', address: string): Promise<Socket> {
  const c = createSocket(type);
  c.bind(0, address);
  await once(c, 'listening');
  return c;
}
