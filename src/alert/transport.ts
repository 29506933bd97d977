// Syslog transports: UDP (one message per datagram, RFC 5426), TCP (RFC 6587 octet-counting or LF
// framing) and TLS (RFC 5425, octet-counting). TCP and TLS keep one connection, reconnect with
// exponential backoff and hold messages in a bounded queue meanwhile: when it is full the oldest
// message is dropped and counted. Plain TCP syslog has no acknowledgements, so a message written just
// before the receiver dies can be lost without notice (RFC 6587 §3.4); it counts as sent.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, isIPv6, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
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
  readonly depth: Gauge;
  constructor(m: Metrics) {
    this.sent = m.counter('syslog_sent_total', 'Syslog messages handed to the network');
    this.dropped = m.counter('syslog_dropped_total', 'Syslog messages dropped: queue full, lost on a failed write, or left at shutdown');
    this.errors = m.counter('syslog_errors_total', 'Syslog connection and send errors');
    this.connects = m.counter('syslog_connects_total', 'Syslog TCP/TLS connections established');
    this.depth = m.gauge('syslog_queue_depth', 'Syslog messages queued or in flight');
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
    this.m.depth.set(this.inflight);
    this.socket.send(buf, this.o.port, this.o.host, (err) => {
      this.inflight--;
      this.m.depth.set(this.inflight);
      if (err) {
        this.m.dropped.inc();
        this.failed(err);
      } else {
        this.m.sent.inc();
      }
    });
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await sleep(5);
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
  private blocked = false;
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  state: TransportState = 'connecting';

  constructor(private readonly o: TransportOptions) {
    this.m = new Meters(o.metrics);
    this.rl = new RateLimitedLog(o.log, o.now ?? Date.now);
    this.ring = new Array<string | undefined>(o.queue);
    this.delay = o.reconnectMin;
    this.connect();
  }

  get depth(): number {
    return this.size;
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
    this.m.depth.set(this.size);
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
      const ok = s.write(msg, (err) => {
        if (err) this.m.dropped.inc();
        else this.m.sent.inc();
      });
      if (!ok) {
        this.blocked = true;
        s.once('drain', () => {
          this.blocked = false;
          this.pump();
          this.m.depth.set(this.size);
        });
        break;
      }
    }
    this.m.depth.set(this.size);
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
      if (this.state === 'closed') return;
      this.state = 'backoff';
      this.timer = setTimeout(() => this.connect(), this.delay);
      this.timer.unref(); // retrying alone must not keep a finished process alive
      this.delay = Math.min(this.delay * 2, o.reconnectMax);
    });
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.state === 'closed') return;
    const deadline = Date.now() + timeoutMs;
    // a receiver that comes back within the timeout still gets the queue
    while ((this.size > 0 || this.blocked) && Date.now() < deadline) await sleep(5);
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    if (this.size > 0) this.m.dropped.inc(this.size);
    this.ring.fill(undefined);
    this.size = 0;
    this.m.depth.set(0);
    const s = this.socket;
    if (s === undefined) return;
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.end();
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => { s.destroy(); resolve(); }, Math.max(100, deadline - Date.now()));
    });
    await Promise.race([closed, forced]);
    clearTimeout(timer);
    this.socket = undefined;
  }
}
