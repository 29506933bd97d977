// The sink interface: every closed interval's summary goes to each sink. A sink must not throw into
// the collector; the fan-out catches, counts and isolates each sink.
import type { IntervalSummary } from '../aggregate/summary.js';
import type { AlertEvent } from '../alert/event.js';
import type { Metrics } from '../lib/counters.js';
import type { Logger } from '../lib/log.js';

export interface Sink {
  readonly name: string;
  start?(): Promise<void>;
  /** Takes one summary; may queue it. Must not block the caller. */
  write(summary: IntervalSummary): void | Promise<void>;
  /** Takes one alert (optional: sinks that cannot show alerts leave it out). */
  writeAlert?(alert: AlertEvent): void | Promise<void>;
  /** Flushes what is queued (bounded by the caller's shutdown timeout) and releases resources. */
  stop(): Promise<void>;
}

/** Delivers each summary to every sink; one failing sink never affects another or the collector. */
export class FanOut {
  private readonly pending = new Set<Promise<void>>();
  constructor(public sinks: Sink[], private readonly metrics: Metrics, private readonly log: Logger) {
    this.register(sinks);
  }

  private register(sinks: Sink[]): void {
    for (const s of sinks) {
      this.metrics.counter('sink_summaries_total', 'Interval summaries handed to a sink', { sink: s.name });
      this.metrics.counter('sink_errors_total', 'Errors raised by a sink', { sink: s.name });
    }
  }

  async start(): Promise<void> {
    for (const s of this.sinks) await s.start?.();
  }

  /**
   * Swaps in a new set of sinks (configuration reload): they are started first, then take every
   * summary from now on; the old ones finish their in-flight writes and flush their queues on stop().
   * A sink present in both sets (the same object) is kept running.
   */
  async replace(sinks: Sink[]): Promise<void> {
    const old = this.sinks.filter((s) => !sinks.includes(s));
    const added = sinks.filter((s) => !this.sinks.includes(s));
    const started: Sink[] = [];
    try {
      for (const s of added) {
        await s.start?.();
        started.push(s);
      }
    } catch (err) {
      await this.stopSinks(started); // the old set stays in place
      throw err;
    }
    this.register(sinks);
    this.sinks = sinks;
    await Promise.allSettled([...this.pending]);
    await this.stopSinks(old);
  }

  write(summary: IntervalSummary): void {
    for (const s of this.sinks) {
      this.metrics.counter('sink_summaries_total', '', { sink: s.name }).inc();
      this.guard(s, () => s.write(summary));
    }
  }

  writeAlert(alert: AlertEvent): void {
    for (const s of this.sinks) if (s.writeAlert) this.guard(s, () => s.writeAlert!(alert));
  }

  private guard(s: Sink, call: () => void | Promise<void>): void {
    try {
      const p = call();
      if (p) {
        const tracked: Promise<void> = p.catch((err) => this.failed(s, err)).finally(() => this.pending.delete(tracked));
        this.pending.add(tracked);
      }
    } catch (err) {
      this.failed(s, err);
    }
  }

  private failed(s: Sink, err: unknown): void {
    this.metrics.counter('sink_errors_total', '', { sink: s.name }).inc();
    this.log.error({ sink: s.name, err: (err as Error)?.message }, 'sink error');
  }

  /** Waits for in-flight writes, then stops sinks in reverse order. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await this.stopSinks(this.sinks);
  }

  private async stopSinks(sinks: Sink[]): Promise<void> {
    for (const s of [...sinks].reverse()) {
      try {
        await s.stop();
      } catch (err) {
        this.failed(s, err);
      }
    }
  }
}
