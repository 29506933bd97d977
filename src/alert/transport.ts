// Syslog transports: UDP (one message per datagram, RFC 5426), TCP (RFC 6587 octet-counting or LF
// framing) and TLS (RFC 5425, octet-counting). TCP and TLS keep one connection, reconnect with
// exponential backoff and hold messages in a bounded queue meanwhile: when it is full the oldest
// message is dropped and counted. Plain TCP syslog has no acknowledgements, so a message written just
// before the receiver dies can be lost without notice (RFC 6587 §3.4); it counts as sent.
// Accounting: every message handed to send() is sent, dropped or in syslog_queue_depth, exactly. A
// write counts as sent when its callback reports it handed to the kernel; until then it is queued. A
// connection closed with writes pending (a receiver that never reads, a UDP socket closed with sends
// in flight) counts them as dropped at once and ignores their callbacks should they fire later.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, isIPv6, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Counter, Gauge, Metrics } from '../lib/counters.js';
import { FlowbridgeError } from '../lib/errors.js';
import { RateLimitedLog, type Logger } from '../lib/log.js';

export interface TransportOptions {
  host: string;
  port: number;
  protocol: 'udp' | 'tcp' | 'tls';
  framing: 'octet-counting' | 'lf';
  /** queued messages (TCP/TLS) or sends in flight (UDP) */
  queue: number;
  connectTimeout: number;
  reconnectMin: number;
  reconnectMax: number;
  /** TLS material (PEM contents, not paths) and verification */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean; servername?: string };
  metrics: Metrics;
  log: Logger;
  now?: () => number;
}

export type TransportState = 'connecting' | 'connected' | 'backoff' | 'closed';

export interface Transport {
  /** Never throws and never blocks: the message is sent, queued or dropped (and counted). */
  send(msg: string): void;
  readonly state: TransportState;
  /** messages waiting (TCP/TLS) or in flight (UDP) */
  readonly depth: number;
  /** Sends what is queued, waiting at most `timeoutMs`; the rest is dropped (counted). */
  stop(timeoutMs: number): Promise<void>;
}

/** A connection or send failure; always retriable (the receiver may come back). */
export class SyslogTransportError extends FlowbridgeError {
  constructor(message: string, readonly code = '') {
    super(message, true);
  }
}

class Meters {
  readonly sent: Counter;
  readonly dropped: Counter;
  readonly errors: Counter;
  readonly connects: Counter;
  private readonly depth: Gauge;
  /** this transport's share of the gauge, which an old and a new transport (a reload) share */
  private shown = 0;
  /** called once when the depth reaches 0 (stop() waiting for the queue to drain) */
  onIdle: (() => void) | undefined;
  constructor(m: Metrics) {
    this.sent = m.counter('syslog_sent_total', 'Syslog messages handed to the network');
    this.dropped = m.counter('syslog_dropped_total', 'Syslog messages dropped: queue full, lost on a failed write, or left at shutdown');
    this.errors = m.counter('syslog_errors_total', 'Syslog connection and send errors');
    this.connects = m.counter('syslog_connects_total', 'Syslog TCP/TLS connections established');
    this.depth = m.gauge('syslog_queue_depth', 'Syslog messages queued or being written (sent once the kernel has them)');
  }

  /** Adds this transport's change to the shared gauge. */
  show(depth: number): void {
    this.depth.set(this.depth.value + depth - this.shown);
    this.shown = depth;
    if (depth === 0) this.onIdle?.();
  }

  /** Resolves once `depth()` is 0 (see show) or after `ms`, whichever comes first. */
  drained(depth: () => number, ms: number): Promise<void> {
    if (depth() === 0 || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.onIdle = done;
    });
  }
}

export function createTransport(o: TransportOptions): Transport {
  return o.protocol === 'udp' ? new UdpTransport(o) : new StreamTransport(o);
}

class UdpTransport implements Transport {
  private readonly socket: UdpSocket;
  private readonly m: Meters;
  private readonly rl: RateLimitedLog;
  private inflight = 0;
  /** bumped when the socket closes: callbacks of sends from before are already counted as dropped */
  private gen = 0;
  state: TransportState = 'connected';

  constructor(private readonly o: TransportOptions) {
    this.m = new Meters(o.metrics);
    this.rl = new RateLimitedLog(o.log, o.now ?? Date.now);
    this.socket = createSocket(isIPv6(o.host) ? 'udp6' : 'udp4');
    this.socket.on('error', (err) => this.failed(err));
  }

  get depth(): number {
    return this.inflight;
  }

  private failed(err: Error): void {
    this.m.errors.inc();
    this.rl.warn('syslog-udp', { err: err.message, host: this.o.host, port: this.o.port }, 'syslog send failed');
  }

  send(msg: string): void {
    const buf = Buffer.from(msg, 'utf8');
    // 65507: the largest UDP payload over IPv4
    if (this.state === 'closed' || this.inflight >= this.o.queue || buf.length > 65507) {
      this.m.dropped.inc();
      return;
    }
    this.inflight++;
    this.m.show(this.inflight);
    const gen = this.gen;
    this.socket.send(buf, this.o.port, this.o.host, (err) => {
      if (gen !== this.gen) return;
      this.inflight--;
      if (err) {
        this.m.dropped.inc();
        this.failed(err);
      } else {
        this.m.sent.inc();
      }
      this.m.show(this.inflight);
    });
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.m.drained(() => this.inflight, timeoutMs);
    // a send still waiting (the implicit bind, a lookup) when the socket closes never calls back
    this.gen++;
    this.m.dropped.inc(this.inflight);
    this.inflight = 0;
    this.m.show(0);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

class StreamTransport implements Transport {
  private readonly m: Meters;
  private readonly rl: RateLimitedLog;
  private readonly ring: (string | undefined)[];
  private head = 0;
  private size = 0;
  private socket: Socket | undefined;
  /** messages written to the socket whose callback has not fired: queued, not yet sent */
  private unacked = 0;
  /** bumped when a connection is given up: its pending writes are already counted as dropped */
  private gen = 0;
  /** the write callback of the current connection (one per connection, not one per message) */
  private ack: (err?: Error | null) => void = () => undefined;
  private blocked = false;
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  state: TransportState = 'connecting';

  constructor(private readonly o: TransportOptions) {
    this.m = new Meters(o.metrics);
    this.now = o.now ?? Date.now;
    this.rl = new RateLimitedLog(o.log, this.now);
    this.ring = new Array<string | undefined>(o.queue);
    this.delay = o.reconnectMin;
    this.connect();
  }

  get depth(): number {
    return this.size + this.unacked;
  }

  /** Counts the writes of the connection being given up as dropped; their callbacks are ignored from now on. */
  private abandon(): void {
    this.gen++;
    this.m.dropped.inc(this.unacked);
    this.unacked = 0;
  }

  private frame(msg: string): string {
    return this.o.framing === 'lf' ? `${msg}\n` : `${Buffer.byteLength(msg, 'utf8')} ${msg}`;
  }

  send(msg: string): void {
    if (this.state === 'closed') {
      this.m.dropped.inc();
      return;
    }
    const cap = this.ring.length;
    if (this.size >= cap) {
      // full: the oldest goes, so what arrives after an outage is the most recent state
      this.head = (this.head + 1) % cap;
      this.size--;
      this.m.dropped.inc();
    }
    this.ring[(this.head + this.size) % cap] = this.frame(msg);
    this.size++;
    this.pump();
    this.m.show(this.depth);
  }

  private pump(): void {
    const s = this.socket;
    if (this.state !== 'connected' || s === undefined || this.blocked) return;
    const cap = this.ring.length;
    while (this.size > 0) {
      const msg = this.ring[this.head]!;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % cap;
      this.size--;
      this.unacked++;
      const ok = s.write(msg, this.ack);
      if (!ok) {
        this.blocked = true;
        s.once('drain', () => {
          this.blocked = false;
          this.pump();
          this.m.show(this.depth);
        });
        break;
      }
    }
    this.m.show(this.depth);
  }

  private connect(): void {
    this.timer = undefined;
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const o = this.o;
    let s: Socket;
    if (o.protocol === 'tls') {
      const t = o.tls ?? { verify: true };
      const servername = t.servername || (isIP(o.host) ? undefined : o.host);
      s = tlsConnect({
        host: o.host, port: o.port, ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: t.verify, servername,
      });
    } else {
      s = netConnect({ host: o.host, port: o.port });
    }
    this.socket = s;
    const gen = this.gen;
    this.ack = (err) => {
      if (gen !== this.gen) return;
      this.unacked--;
      if (err) this.m.dropped.inc();
      else this.m.sent.inc();
      this.m.show(this.depth);
    };
    s.setTimeout(o.connectTimeout, () => s.destroy(new SyslogTransportError(`syslog connect timed out after ${o.connectTimeout} ms`, 'ETIMEDOUT')));
    s.once(o.protocol === 'tls' ? 'secureConnect' : 'connect', () => {
      if (this.socket !== s || this.state === 'closed') return;
      s.setTimeout(0);
      s.setKeepAlive(true, 30_000);
      this.state = 'connected';
      this.delay = o.reconnectMin;
      this.m.connects.inc();
      o.log.info({ host: o.host, port: o.port, protocol: o.protocol }, 'syslog connected');
      this.pump();
    });
    s.on('data', () => {}); // receivers send nothing; reading lets us see their FIN promptly
    s.on('error', (err: NodeJS.ErrnoException) => {
      this.m.errors.inc();
      this.rl.warn('syslog-conn', { err: err.message, code: err.code, host: o.host, port: o.port, protocol: o.protocol }, 'syslog connection error');
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.blocked = false;
      this.abandon();
      this.m.show(this.depth);
      if (this.state === 'closed') return;
      this.state = 'backoff';
      this.timer = setTimeout(() => this.connect(), this.delay);
      this.timer.unref(); // retrying alone must not keep a finished process alive
      this.delay = Math.min(this.delay * 2, o.reconnectMax);
    });
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.state === 'closed') return;
    const deadline = this.now() + timeoutMs;
    // a receiver that comes back within the timeout still gets the queue
    await this.m.drained(() => this.depth, timeoutMs);
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    if (this.size > 0) this.m.dropped.inc(this.size);
    this.ring.fill(undefined);
    this.size = 0;
    this.m.show(this.depth);
    const s = this.socket;
    if (s === undefined) return;
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.end(); // the writes still pending go out first, unless the receiver does not read
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => { s.destroy(); resolve(); }, Math.max(100, deadline - this.now()));
    });
    await Promise.race([closed, forced]);
    clearTimeout(timer);
    this.socket = undefined;
    // destroyed with writes pending: their callbacks come later or never; they were not sent
    this.abandon();
    this.m.show(0);
  }
}
