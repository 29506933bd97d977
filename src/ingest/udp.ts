// One UDP socket receiving exporter datagrams. The handler runs synchronously per datagram; whatever it
// throws is counted and the socket keeps receiving, because one bad datagram must not stop collection.
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { ConfigError, FlowbridgeError } from '../lib/errors.js';
import { splitHostPort, type HostPortProblem } from '../lib/hostport.js';
import type { Counter, Gauge, Metrics } from '../lib/counters.js';
import { wallClock, type Clock } from '../lib/clock.js';
import { ThreadReceiver } from './udp-thread.js';
import { kernelDrops } from './kernel-drops.js';

export interface Config {
  /** Literal IPv4 or IPv6 address to bind ('0.0.0.0', '::', '127.0.0.1'...). */
  address: string;
  /** 0 = ephemeral (tests). */
  port: number;
  /** Requested SO_RCVBUF in bytes; 0 leaves the OS default. Bursty exporters need a few MB. */
  recvBufferSize: number;
  /** Read the socket in a worker thread (udp-thread.ts): more of the main thread left for decoding. */
  thread?: boolean;
}

/** 32 MiB: a second of 1M records/s in 30-record datagrams of ~1.5 KB, for bursts and pauses of the reader. */
export const UDP_DEFAULTS: Readonly<Config> = { address: '0.0.0.0', port: 2055, recvBufferSize: 32 * 1024 * 1024 };

export function defaultConfig(): Config {
  return { ...UDP_DEFAULTS };
}

export type DatagramHandler = (buf: Buffer, srcAddr: string, srcPort: number, receivedMs: number) => void;

/** What the OS granted for the receive buffer (Linux reports twice the granted size, as it books overhead). */
export interface RecvBufferInfo {
  requested: number;
  actual: number;
  /** The OS gave less than requested (Linux: raise net.core.rmem_max). */
  capped: boolean;
}

/** Text of host and port as used in labels and messages: IPv6 in brackets. */
export function formatHostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Parses "0.0.0.0:2055", "[::]:2055" or ":2055" (all IPv4 interfaces). Addresses must be IP literals,
 * so a listener never depends on name resolution. `key` names the setting in error messages.
 */
export function parseHostPort(text: string, key = 'listen'): { address: string; port: number } {
  const hp = splitHostPort(text, { names: false, emptyHost: '0.0.0.0' });
  if (hp.ok) return { address: hp.host, port: hp.port };
  throw new ConfigError(key, `${key}: ${listenProblem(hp.problem, text, hp.host, hp.portText)}`);
}

function listenProblem(problem: HostPortProblem, text: string, host: string, portText: string): string {
  switch (problem) {
    case 'bracket': return `"${text}" must look like "[::]:2055"`;
    case 'not-v6': return `"${host}" in "${text}" is not an IPv6 address`;
    case 'no-port': return `"${text}" needs a port, e.g. "0.0.0.0:2055" or ":2055"`;
    case 'unbracketed-v6': return `IPv6 address in "${text}" must be bracketed, e.g. "[::]:2055"`;
    case 'bad-port': return `port "${portText}" in "${text}" is not a number from 0 to 65535`;
    default: return `"${host}" in "${text}" is not an IPv4 address (use an IP literal, not a name)`;
  }
}

/** Bind failures explained in terms of the configured address. */
function bindMessage(label: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE': return `cannot listen on udp ${label}: address already in use (another collector running?)`;
    case 'EADDRNOTAVAIL': return `cannot listen on udp ${label}: address not available on this host`;
    case 'EACCES': return `cannot listen on udp ${label}: permission denied (ports below 1024 need privileges)`;
    case 'EAFNOSUPPORT': return `cannot listen on udp ${label}: address family not supported (IPv6 disabled?)`;
    default: return `cannot listen on udp ${label}: ${err.message}`;
  }
}

export class ListenError extends FlowbridgeError {
  constructor(readonly address: string, readonly code: string, message: string) {
    super(message);
  }
}

export class UdpListener {
  readonly label: string;
  /** Set by start(). */
  recvBuffer: RecvBufferInfo = { requested: 0, actual: 0, capped: false };
  /** The last exception the handler threw (it is counted, not logged, per datagram). */
  lastHandlerError: unknown = undefined;
  private socket: Socket | null = null;
  private thread: ThreadReceiver | null = null;
  private threadAddress = { address: '', port: 0 };
  /**
   * datagrams shed because decoding was behind: the thread's bound (decoder_behind), sources not yet
   * established while it is a quarter full (unknown_source), the kernel's buffer (socket_buffer)
   */
  private readonly shedBehind: Counter;
  private readonly shedUnknown: Counter;
  private readonly shedSocket: Counter;
  /** the kernel's drop count of the socket when last read */
  private kernelSeen = 0;
  private readonly datagrams: Counter;
  private readonly bytes: Counter;
  private readonly handlerErrors: Counter;
  private readonly socketErrors: Counter;
  private readonly recvBufferBytes: Gauge;
  private readonly recvBufferCapped: Gauge;

  constructor(
    private readonly config: Config,
    private readonly onDatagram: DatagramHandler,
    metrics: Metrics,
    private readonly clock: Clock = wallClock,
  ) {
    this.label = formatHostPort(config.address, config.port);
    const l = { listener: this.label };
    this.datagrams = metrics.counter('datagrams_received_total', 'UDP datagrams received', l);
    this.bytes = metrics.counter('bytes_received_total', 'UDP payload bytes received', l);
    this.handlerErrors = metrics.counter('datagram_handler_errors_total', 'Datagrams whose handler threw', l);
    this.socketErrors = metrics.counter('udp_socket_errors_total', 'Errors reported by a listening socket', l);
    this.recvBufferBytes = metrics.gauge('udp_recv_buffer_bytes', 'Receive buffer size the OS reports', l);
    this.recvBufferCapped = metrics.gauge('udp_recv_buffer_capped', '1 when the OS granted less receive buffer than configured', l);
    const shed = 'Datagrams shed before decoding because it was behind, by reason';
    this.shedBehind = metrics.counter('datagrams_shed_total', shed, { ...l, reason: 'decoder_behind' });
    this.shedUnknown = metrics.counter('datagrams_shed_total', shed, { ...l, reason: 'unknown_source' });
    this.shedSocket = metrics.counter('datagrams_shed_total', shed, { ...l, reason: 'socket_buffer' });
  }

  /** Binds the socket; rejects with a ListenError naming the address when that fails. */
  async start(): Promise<void> {
    if (this.socket || this.thread) return;
    this.kernelSeen = 0;
    const { address, port } = this.config;
    const v6 = isIP(address) === 6;
    if (this.config.thread) return this.startThread(v6);
    // ipv6Only lets "[::]:P" and "0.0.0.0:P" be separate listeners on one port.
    const sock = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        sock.close();
        reject(new ListenError(this.label, err.code ?? 'UNKNOWN', bindMessage(this.label, err)));
      };
      sock.once('error', onError);
      sock.bind({ address, port, exclusive: true }, () => {
        sock.off('error', onError);
        resolve();
      });
    });
    sock.on('error', () => this.socketErrors.inc());
    sock.on('message', (msg, rinfo) => this.receive(msg, rinfo.address, rinfo.port));
    this.socket = sock;
    this.recvBuffer = this.setRecvBuffer(sock, this.config.recvBufferSize);
  }

  private async startThread(v6: boolean): Promise<void> {
    const { address, port, recvBufferSize } = this.config;
    const t = new ThreadReceiver({ address, port, v6, recvBufferSize }, {
      datagram: (buf, addr, p, ms) => this.receive(buf, addr, p, ms),
      dropped: (n) => this.shedBehind.inc(n),
      unknownSource: (n) => this.shedUnknown.inc(n),
      socketErrors: (n) => this.socketErrors.inc(n),
    });
    const r = await t.start();
    if (!r.ok) {
      await t.stop();
      throw new ListenError(this.label, r.code, bindMessage(this.label, Object.assign(new Error(r.message), { code: r.code })));
    }
    this.thread = t;
    this.threadAddress = { address: r.address, port: r.port };
    this.recvBuffer = this.bufferInfo(recvBufferSize, r.recvActual);
  }

  private setRecvBuffer(sock: Socket, requested: number): RecvBufferInfo {
    if (requested > 0) {
      try {
        sock.setRecvBufferSize(requested);
      } catch {
        // Some systems refuse sizes above their limit instead of capping; what we got is read below.
      }
    }
    return this.bufferInfo(requested, sock.getRecvBufferSize());
  }

  private bufferInfo(requested: number, actual: number): RecvBufferInfo {
    // Linux books twice the size it grants (bookkeeping overhead) and reports that: 2 × rmem_max at most.
    const capped = requested > 0 && actual < (process.platform === 'linux' ? 2 * requested : requested);
    this.recvBufferBytes.set(actual);
    this.recvBufferCapped.set(capped ? 1 : 0);
    return { requested, actual, capped };
  }

  private receive(msg: Buffer, addr: string, port: number, receivedMs = this.clock()): void {
    this.datagrams.inc();
    this.bytes.inc(msg.length);
    // A dual-stack socket shows IPv4 exporters as ::ffff:a.b.c.d; they are configured as a.b.c.d.
    const src = addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
    try {
      this.onDatagram(msg, src, port, receivedMs);
    } catch (err) {
      this.handlerErrors.inc();
      this.lastHandlerError = err;
    }
  }

  /**
   * Counts what the kernel dropped on the socket since the last call (Linux; elsewhere nothing): called
   * at each interval, so the summaries and /metrics lag it by one interval at most.
   */
  pollKernelDrops(): void {
    if (!this.socket && !this.thread) return;
    const a = this.address();
    const n = kernelDrops(a.address, a.port);
    if (n === undefined) return;
    // a new socket (restarted listener) starts from 0 again
    if (n > this.kernelSeen) this.shedSocket.inc(n - this.kernelSeen);
    this.kernelSeen = n;
  }

  async stop(): Promise<void> {
    this.pollKernelDrops();
    const t = this.thread;
    this.thread = null;
    await t?.stop();
    const sock = this.socket;
    if (!sock) return;
    this.socket = null;
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  }

  /** The bound address (the real port when configured with 0). */
  address(): { address: string; port: number } {
    if (this.thread) return this.threadAddress;
    if (!this.socket) throw new Error(`udp listener ${this.label} is not started`);
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }
}
