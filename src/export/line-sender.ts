// One sender of text lines over UDP, TCP or TLS, behind the Graphite sink and the syslog transport.
// TCP and TLS keep one connection, reconnect with exponential backoff and hold batches meanwhile in a
// bounded RetryQueue: past maxQueueLines the oldest are dropped and counted. UDP sends whole lines per
// datagram with at most maxQueueLines in flight; past that new datagrams are dropped and counted.
// Accounting: every line handed to send() is sent, dropped, failed (in a datagram the kernel refused)
// or in `depth`, exactly. A line counts as sent when its write callback says the kernel took it; until
// then it is in depth. Lines written but unconfirmed when a connection closes are put back to be sent
// again (`resend`, for receivers that keep the last value, as carbon does) or dropped at once. Callbacks
// from a connection or socket given up are ignored should they fire later. Time comes from the injected
// `now`; timers are the global ones, which @sinonjs/fake-timers can replace in tests.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, isIP, isIPv6, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Counter } from '../lib/counters.js';
import { FlowbridgeError } from '../lib/errors.js';
import { wallClock } from '../lib/clock.js';
import { RetryQueue } from './retry-queue.js';

/** What send() takes: lines of text and how many (the unit of every count). */
export interface Batch {
  /** each line ends in "\n" where a batch may be cut into datagrams (maxDatagramBytes) */
  text: string;
  lines: number;
}

export interface LineSenderOptions {
  host: string;
  port: number;
  protocol: 'udp' | 'tcp' | 'tls';
  /** TLS material (PEM contents, not paths) and verification */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean; servername?: string };
  /** lines queued while not connected (TCP/TLS) or in flight (UDP) */
  maxQueueLines: number;
  /** reconnect delays: the first, doubling per failure up to the last */
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
  /** the RetryQueue's jitter; unset: its default */
  jitter?: number;
  connectTimeoutMs: number;
  /** bytes a socket may hold beyond what the kernel took before lines wait in the queue (at least its high-water mark) */
  maxBufferedBytes: number;
  /** UDP: a longer batch is cut into datagrams of whole lines (a longer single line goes alone) */
  maxDatagramBytes: number;
  /** connect at once and stay connected with nothing to send; then a connection coming up resets the backoff */
  persistent: boolean;
  /** lines unconfirmed when a connection closes are sent again instead of dropped */
  resend: boolean;
}

export const LINE_SENDER_DEFAULTS = { maxBufferedBytes: 0, maxDatagramBytes: Infinity, persistent: false, resend: false };

/** the options, those with a default optional */
export type LineSenderInput = Omit<LineSenderOptions, keyof typeof LINE_SENDER_DEFAULTS> & Partial<LineSenderOptions>;

export interface LineSenderDeps<T extends Batch> {
  /** in lines, but for errors and connects; the caller names and labels them */
  counters: { sent: Counter; dropped: Counter; failed: Counter; errors: Counter; connects?: Counter; retries?: Counter };
  now?: () => number;
  /** told every change of `depth` */
  onDepth?(lines: number): void;
  onConnect?(): void;
  /** an error (already counted) of the connection, of the UDP socket, or of one datagram */
  onError?(err: NodeJS.ErrnoException, where: 'connection' | 'socket' | 'send'): void;
  /** a batch dropped (already counted) to stay under maxQueueLines */
  onDrop?(batch: T, lines: number): void;
}

export type SenderState = 'connecting' | 'connected' | 'backoff' | 'closed';

/** A failure the sender raises itself (a connect timeout); retriable. */
export class LineSenderError extends FlowbridgeError {
  constructor(message: string, readonly code = '') {
    super(message, true);
  }
}

export class LineSender<T extends Batch = Batch> {
  readonly opts: LineSenderOptions;
  readonly now: () => number;
  private readonly c: LineSenderDeps<T>['counters'];
  private readonly queue: RetryQueue<T>;
  private socket: Socket | undefined;
  private connected = false;
  /** batches written to the socket whose callback has not come yet, oldest first */
  private inflight: T[] = [];
  private inflightLines = 0;
  /** the write callback of the current connection (one per connection, not one per write) */
  private ack: (err?: Error | null) => void = () => undefined;
  private udp: UdpSocket | undefined;
  /** lines in datagrams not called back yet */
  private pending = 0;
  /** bumped when a connection or socket is given up: its callbacks are settled already */
  private gen = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** stop() is closing the connection and settles what is left itself */
  private closing = false;
  private deadline = 0;
  /** resolves stop()'s wait */
  private idle: (() => void) | undefined;

  constructor(options: LineSenderInput, private readonly deps: LineSenderDeps<T>) {
    const o: LineSenderOptions = { ...LINE_SENDER_DEFAULTS, ...options };
    this.opts = o;
    this.now = deps.now ?? wallClock;
    this.c = deps.counters;
    this.queue = new RetryQueue<T>({
      maxWeight: o.maxQueueLines, minDelayMs: o.minRetryDelayMs, maxDelayMs: o.maxRetryDelayMs, now: this.now,
      ...(o.jitter === undefined ? {} : { jitter: o.jitter }),
      onDrop: (batch, lines) => {
        this.c.dropped.inc(lines);
        deps.onDrop?.(batch, lines);
      },
    });
    if (o.persistent) this.pump();
  }

  /** lines queued, being written or in flight */
  get depth(): number {
    return this.queue.weight + this.inflightLines + this.pending;
  }

  get state(): SenderState {
    if (this.opts.protocol === 'udp') return this.stopping ? 'closed' : 'connected';
    if (this.socket) return this.connected ? 'connected' : 'connecting';
    return this.timer ? 'backoff' : 'closed';
  }

  /** Never throws and never waits: the lines are sent, queued or dropped (counted). */
  send(batch: T): void {
    if (this.stopping) this.c.dropped.inc(batch.lines);
    else if (this.opts.protocol === 'udp') this.sendDatagrams(batch);
    else {
      // while connected a batch moves on to the socket at once: the cap is for the backlog
      this.queue.push(batch, batch.lines);
      this.pump();
    }
    this.changed();
  }

  private changed(): void {
    const d = this.depth;
    this.deps.onDepth?.(d);
    // stop() waits for an empty queue, or for a connection gone with no attempt left before the deadline
    if (this.idle && (d === 0 || (this.opts.protocol !== 'udp' && !this.socket && this.timer === undefined))) this.idle();
  }

  // ---- TCP and TLS ----

  private pump(): void {
    if (this.closing || this.opts.protocol === 'udp') return;
    const s = this.socket;
    if (!s) {
      if (this.timer === undefined && (this.opts.persistent || this.queue.length > 0)) this.reconnect();
      return;
    }
    if (!this.connected) return;
    // hand batches to the socket while it holds little; the rest waits in the bounded queue ('drain' resumes)
    const max = Math.max(this.opts.maxBufferedBytes, s.writableHighWaterMark);
    while (this.queue.length > 0 && s.writableLength < max) {
      const batch = this.queue.shift()!;
      this.inflight.push(batch);
      this.inflightLines += batch.lines;
      s.write(batch.text, this.ack);
    }
  }

  /** Connects now or when the backoff has run out; while stopping, only before the deadline. */
  private reconnect(): void {
    const wait = this.queue.waitMs();
    if (wait === 0) this.connect();
    else if (!this.stopping || this.now() + wait < this.deadline) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      this.timer.unref(); // retrying alone must not keep a finished process alive
    }
  }

  private connect(): void {
    const o = this.opts;
    let s: Socket;
    if (o.protocol === 'tls') {
      const t = o.tls ?? { verify: true };
      const servername = t.servername || (isIP(o.host) ? undefined : o.host);
      s = tlsConnect({ host: o.host, port: o.port, ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: t.verify, servername });
    } else {
      s = netConnect({ host: o.host, port: o.port });
    }
    this.socket = s;
    s.setNoDelay(true);
    s.setKeepAlive(true, 30_000);
    const gen = this.gen;
    this.ack = (err) => {
      // callbacks come in write order; an error means a close, which settles the batches in flight
      if (err || gen !== this.gen) return;
      const batch = this.inflight.shift()!;
      this.inflightLines -= batch.lines;
      this.c.sent.inc(batch.lines);
      this.queue.succeeded();
      this.changed();
    };
    const timeout = setTimeout(() => {
      s.destroy(new LineSenderError(`connect timed out after ${o.connectTimeoutMs} ms`, 'ETIMEDOUT'));
    }, o.connectTimeoutMs);
    s.once(o.protocol === 'tls' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timeout);
      if (this.socket !== s) return;
      this.connected = true;
      this.c.connects?.inc();
      // an idle connection writes nothing: for a persistent one, coming up is the success
      if (o.persistent) this.queue.succeeded();
      this.deps.onConnect?.();
      this.pump();
      this.changed();
    });
    s.on('drain', () => {
      this.pump();
      this.changed();
    });
    s.on('data', () => undefined); // receivers send nothing; reading lets us see their FIN promptly
    s.on('error', (err) => {
      this.c.errors.inc();
      this.deps.onError?.(err, 'connection');
    });
    s.once('close', () => {
      clearTimeout(timeout);
      if (this.socket !== s) return;
      this.socket = undefined;
      this.connected = false;
      this.gen++;
      if (this.closing) return;
      if (o.resend) this.queue.putBack(this.inflight.map((b) => [b, b.lines] as const));
      else this.c.dropped.inc(this.inflightLines);
      this.inflight = [];
      this.inflightLines = 0;
      // every close not asked for backs off; a success in between resets the delay to the minimum
      this.queue.failed();
      if (!this.stopping) this.c.retries?.inc();
      this.pump();
      this.changed();
    });
  }

  // ---- UDP ----

  private sendDatagrams(batch: T): void {
    const { text } = batch, max = this.opts.maxDatagramBytes;
    if (text.length <= max) return this.datagram(text, batch.lines);
    let left = batch.lines;
    for (let from = 0; from < text.length;) {
      // whole lines up to max bytes (a single longer line goes alone)
      let to = from;
      for (;;) {
        const nl = text.indexOf('\n', to);
        if (nl < 0 || (nl + 1 - from > max && to > from)) break;
        to = nl + 1;
        if (to - from >= max) break;
      }
      if (to === from) to = text.length; // no line feed left: the rest as it is
      const part = text.slice(from, to);
      from = to;
      let n = 0;
      for (let i = 0; i < part.length; i++) if (part.charCodeAt(i) === 10) n++;
      // the last part takes what is left, so the parts always add up to batch.lines
      n = from < text.length ? Math.min(n, left) : left;
      left -= n;
      this.datagram(part, n);
    }
  }

  private datagram(text: string, lines: number): void {
    if (this.pending + lines > this.opts.maxQueueLines) {
      this.c.dropped.inc(lines);
      return;
    }
    if (!this.udp) {
      this.udp = createSocket(isIPv6(this.opts.host) ? 'udp6' : 'udp4');
      this.udp.on('error', (err) => {
        this.c.errors.inc();
        this.deps.onError?.(err, 'socket');
      });
    }
    this.pending += lines;
    const gen = this.gen;
    this.udp.send(text, this.opts.port, this.opts.host, (err) => {
      if (gen !== this.gen) return;
      this.pending -= lines;
      if (!err) this.c.sent.inc(lines);
      else {
        this.c.errors.inc();
        this.c.failed.inc(lines);
        this.deps.onError?.(err, 'send');
      }
      this.changed();
    });
  }

  // ---- shutdown ----

  /**
   * Takes no more lines and delivers what it holds for at most `timeoutMs`: without a connection it
   * tries once at once (the backoff may outlast the timeout), then again on the backoff while that
   * comes before the deadline. Then it closes; what is left is dropped (counted) and returned.
   */
  async stop(timeoutMs: number): Promise<number> {
    if (this.stopping) return 0;
    this.stopping = true;
    this.deadline = this.now() + timeoutMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (timeoutMs > 0 && this.opts.protocol !== 'udp' && !this.socket && this.queue.length > 0) this.connect();
    await this.settled(timeoutMs);
    this.closing = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    let left = this.queue.clear();
    const s = this.socket, u = this.udp;
    if (s) {
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.end(); // what the socket holds goes out first, unless the receiver does not read
      const t = setTimeout(() => s.destroy(), Math.max(100, this.deadline - this.now()));
      await closed;
      clearTimeout(t);
    }
    // what is still unconfirmed was not sent: callbacks that come later (a destroyed socket, a datagram
    // waiting for the implicit bind) are ignored
    this.gen++;
    left += this.inflightLines + this.pending;
    this.inflight = [];
    this.inflightLines = 0;
    this.pending = 0;
    this.udp = undefined;
    this.c.dropped.inc(left);
    this.changed();
    if (u) await new Promise<void>((resolve) => u.close(() => resolve()));
    return left;
  }

  private settled(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.idle = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.idle = done;
      this.changed();
    });
  }
}
