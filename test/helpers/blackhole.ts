// A misbehaving server on loopback for drills: it accepts TCP connections and never answers. With
// `read: false` it never reads either, so the peer's kernel buffers fill and its writes block, as with a
// hung InfluxDB, carbon or syslog receiver.
import { createServer, type Server, type Socket } from 'node:net';

export interface Blackhole {
  port: number;
  /** connections accepted so far */
  readonly accepted: number;
  /** bytes read so far (0 with read: false) */
  readonly bytes: number;
  close(): Promise<void>;
}

export async function startBlackhole(opts: { read?: boolean } = {}): Promise<Blackhole> {
  const sockets = new Set<Socket>();
  let accepted = 0, bytes = 0;
  const server: Server = createServer({ pauseOnConnect: opts.read === false }, (s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    if (opts.read !== false) s.on('data', (d: Buffer) => (bytes += d.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    get accepted() { return accepted; },
    get bytes() { return bytes; },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
