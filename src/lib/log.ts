// Structured, leveled logs (pino) to stderr, so stdout stays clean for `--output json`. Per-datagram
// problems go through a RateLimitedLog so a flood of bad input cannot flood the log.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info', destination: number = 2): Logger {
  return pino({ level, base: { name: 'flowbridge' } }, pino.destination({ fd: destination, sync: true }));
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * At most `burst` messages per key every `periodMs`; the rest are counted and summarised in the next
 * message that gets through ("suppressed N similar").
 */
export class RateLimitedLog {
  private readonly buckets = new Map<string, { start: number; sent: number; suppressed: number }>();
  constructor(private readonly log: Logger, private readonly now: () => number,
    private readonly burst = 3, private readonly periodMs = 30_000, private readonly maxKeys = 1000) {}

  warn(key: string, obj: object, msg: string): void {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b === undefined || t - b.start >= this.periodMs) {
      const suppressed = b?.suppressed ?? 0;
      if (b === undefined && this.buckets.size >= this.maxKeys) this.buckets.clear();
      b = { start: t, sent: 0, suppressed: 0 };
      this.buckets.set(key, b);
      if (suppressed > 0) obj = { ...obj, suppressed };
    }
    if (b.sent < this.burst) {
      b.sent++;
      this.log.warn(obj, msg);
    } else {
      b.suppressed++;
    }
  }
}
