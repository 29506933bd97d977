// Syslog transports: UDP (one message per datagram, RFC 5426), TCP (RFC 6587 octet-counting or LF
// framing) and TLS (RFC 5425, octet-counting), framed here and sent by the line sender
// (export/line-sender.ts). TCP and TLS keep one connection, reconnect with exponential backoff and hold
// messages in a bounded queue meanwhile: when it is full the oldest message is dropped and counted.
// Plain TCP syslog has no acknowledgements, so a message written just before the receiver dies can be
// lost without notice (RFC 6587 §3.4); it counts as sent.
// Accounting: every message handed to send() is sent, dropped or in syslog_queue_depth, exactly. A
// write counts as sent when its callback reports it handed to the kernel; until then it is queued. A
// connection closed with writes pending (a receiver that never reads, a UDP socket closed with sends
// in flight) counts them as dropped at once and ignores their callbacks should they fire later.
import type { Counter, Metrics } from '../lib/counters.js';
import { RateLimitedLog, type Logger } from '../lib/log.js';
import { LineSender, type SenderState } from '../export/line-sender.js';

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

export type TransportState = SenderState;

export interface Transport {
  /** Never throws and never blocks: the message is sent, queued or dropped (and counted). */
  send(msg: string): void;
  readonly state: TransportState;
  /** messages waiting (TCP/TLS) or in flight (UDP) */
  readonly depth: number;
  /** Sends what is queued, waiting at most `timeoutMs`; the rest is dropped (counted). */
  stop(timeoutMs: number): Promise<void>;
}

/** 65507: the largest UDP payload over IPv4 */
const MAX_DATAGRAM = 65507;

export function createTransport(o: TransportOptions): Transport {
  return new SyslogTransport(o);
}

class SyslogTransport implements Transport {
  private readonly sender: LineSender;
  private readonly dropped: Counter;
  private readonly rl: RateLimitedLog;

  constructor(private readonly o: TransportOptions) {
    const m = o.metrics;
    const dropped = m.counter('syslog_dropped_total', 'Syslog messages dropped: queue full, lost on a failed write, or left at shutdown');
    this.dropped = dropped;
    const errors = m.counter('syslog_errors_total', 'Syslog connection and send errors');
    const gauge = m.gauge('syslog_queue_depth', 'Syslog messages queued or being written (sent once the kernel has them)');
    // an old and a new transport (a reload) share the gauge: each adds its own change
    let shown = 0;
    this.sender = new LineSender({
      host: o.host, port: o.port, protocol: o.protocol, tls: o.tls, maxQueueLines: o.queue, connectTimeoutMs: o.connectTimeout,
      minRetryDelayMs: o.reconnectMin, maxRetryDelayMs: o.reconnectMax, jitter: 0, persistent: true,
    }, {
      counters: {
        sent: m.counter('syslog_sent_total', 'Syslog messages handed to the network'), dropped, failed: dropped, errors,
        connects: m.counter('syslog_connects_total', 'Syslog TCP/TLS connections established'),
      },
      now: o.now,
      onDepth: (depth) => {
        gauge.set(gauge.value + depth - shown);
        shown = depth;
      },
      onConnect: () => o.log.info({ host: o.host, port: o.port, protocol: o.protocol }, 'syslog connected'),
      onError: (err, where) => {
        const at = { err: err.message, host: o.host, port: o.port };
        if (where === 'connection') this.rl.warn('syslog-conn', { ...at, code: err.code, protocol: o.protocol }, 'syslog connection error');
        else this.rl.warn('syslog-udp', at, 'syslog send failed');
      },
    });
    this.rl = new RateLimitedLog(o.log, this.sender.now);
  }

  get state(): TransportState {
    return this.sender.state;
  }

  get depth(): number {
    return this.sender.depth;
  }

  send(msg: string): void {
    if (this.o.protocol === 'udp') {
      if (Buffer.byteLength(msg, 'utf8') > MAX_DATAGRAM) this.dropped.inc();
      else this.sender.send({ text: msg, lines: 1 });
    } else {
      this.sender.send({ text: this.o.framing === 'lf' ? `${msg}\n` : `${Buffer.byteLength(msg, 'utf8')} ${msg}`, lines: 1 });
    }
  }

  async stop(timeoutMs: number): Promise<void> {
    await this.sender.stop(timeoutMs);
  }
}
