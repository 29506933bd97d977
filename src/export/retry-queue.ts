// A bounded FIFO with exponential backoff, for senders without a client library's retry buffer (the
// line sender behind the Graphite sink and the syslog transport). Items carry a weight (lines); past
// `maxWeight` the oldest items are dropped and reported, so an outage costs bounded memory and the
// newest data survives. Time comes from an injected clock so tests can step through the backoff.
import { wallClock, type Clock } from '../lib/clock.js';

export interface RetryQueueOptions<T> {
  /** cap on the summed weight (e.g. lines) of queued items */
  maxWeight: number;
  /** first retry delay; doubles (× factor) per consecutive failure up to maxDelayMs */
  minDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** each delay is shortened by up to this fraction at random, so many senders do not retry in step */
  jitter: number;
  now: Clock;
  random: () => number;
  /** told about every item dropped to stay under maxWeight */
  onDrop: (item: T, weight: number) => void;
}

export const RETRY_QUEUE_DEFAULTS: RetryQueueOptions<unknown> = {
  maxWeight: 100_000,
  minDelayMs: 1000,
  maxDelayMs: 60_000,
  factor: 2,
  jitter: 0.2,
  now: wallClock,
  random: Math.random,
  onDrop: () => undefined,
};

interface Entry<T> {
  item: T;
  weight: number;
}

export class RetryQueue<T> {
  readonly opts: RetryQueueOptions<T>;
  private entries: Entry<T>[] = [];
  /** index of the oldest entry; shifted entries are compacted away in batches, not one by one */
  private head = 0;
  private total = 0;
  private failures = 0;
  private nextAttemptAt = 0;

  constructor(opts: Partial<RetryQueueOptions<T>> = {}) {
    this.opts = { ...(RETRY_QUEUE_DEFAULTS as RetryQueueOptions<T>), ...opts };
    if (!(this.opts.maxWeight > 0)) throw new RangeError('RetryQueue: maxWeight must be > 0');
  }

  get length(): number {
    return this.entries.length - this.head;
  }

  /** summed weight of the queued items */
  get weight(): number {
    return this.total;
  }

  /** Appends; drops the oldest items while over the cap. Returns the weight dropped. */
  push(item: T, weight: number): number {
    if (weight > this.opts.maxWeight) {
      // bigger than the whole queue: keeping it would mean dropping everything else and still overflow
      this.opts.onDrop(item, weight);
      return weight;
    }
    this.entries.push({ item, weight });
    this.total += weight;
    return this.trim();
  }

  /**
   * Puts items that were taken but not delivered (oldest first) back in front of the queue. They are
   * the oldest items, so when that overflows the cap they are the first dropped. Returns the weight
   * dropped.
   */
  putBack(items: readonly (readonly [T, number])[]): number {
    const front = items.map(([item, weight]) => ({ item, weight }));
    this.entries = [...front, ...this.entries.slice(this.head)];
    this.head = 0;
    for (const e of front) this.total += e.weight;
    return this.trim();
  }

  /** Drops the oldest items (reported) while over the cap; returns the weight dropped. */
  private trim(): number {
    let dropped = 0;
    while (this.total > this.opts.maxWeight) {
      const e = this.take()!;
      dropped += e.weight;
      this.opts.onDrop(e.item, e.weight);
    }
    return dropped;
  }

  peek(): T | undefined {
    return this.entries[this.head]?.item;
  }

  /** weight of the oldest item (0 when empty) */
  peekWeight(): number {
    return this.entries[this.head]?.weight ?? 0;
  }

  shift(): T | undefined {
    return this.take()?.item;
  }

  /** Empties the queue; returns the weight removed (the caller counts it as dropped). */
  clear(): number {
    const w = this.total;
    this.entries = [];
    this.head = 0;
    this.total = 0;
    return w;
  }

  private take(): Entry<T> | undefined {
    if (this.head >= this.entries.length) return undefined;
    const e = this.entries[this.head]!;
    this.entries[this.head] = undefined as unknown as Entry<T>;
    this.head++;
    this.total -= e.weight;
    if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    } else if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    }
    return e;
  }

  // ---- backoff ----

  /** consecutive failures since the last success */
  get failureCount(): number {
    return this.failures;
  }

  /** Records a failed attempt; returns the delay before the next one (also what waitMs counts down). */
  failed(): number {
    this.failures++;
    const { minDelayMs, maxDelayMs, factor, jitter } = this.opts;
    const base = Math.min(maxDelayMs, minDelayMs * factor ** Math.min(this.failures - 1, 64));
    const delay = Math.max(0, Math.round(base * (1 - jitter * this.opts.random())));
    this.nextAttemptAt = this.opts.now() + delay;
    return delay;
  }

  succeeded(): void {
    this.failures = 0;
    this.nextAttemptAt = 0;
  }

  /** ms until the next attempt is due (0 = now) */
  waitMs(): number {
    return Math.max(0, this.nextAttemptAt - this.opts.now());
  }
}
