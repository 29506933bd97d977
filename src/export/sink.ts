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
  constructor(readonly sinks: Sink[], private readonly metrics: Metrics, private readonly log: Logger) {
    for (const s of sinks) {
      metrics.counter('sink_summaries_total', 'Interval summaries handed to a sink', { sink: s.name });
      metrics.counter('sink_errors_total', 'Errors raised by a sink', { sink: s.name });
    }
  }

  async start(): Promise<void> {
    for (const s of this.sinks) await s.start?.();
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
    for (const s of [...this.sinks].reverse()) {
      try {
        await s.stop();
      } catch (err) {
        this.failed(s, err);
      }
    }
  }
}
