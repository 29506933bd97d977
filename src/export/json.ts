// JSON-lines sink: one object per closed interval (the IntervalSummary, documented in docs/output.md)
// and one per alert (docs/alerts.md).
import type { Writable } from 'node:stream';
import type { IntervalSummary } from '../aggregate/summary.js';
import type { AlertEvent } from '../alert/event.js';
import type { Sink } from './sink.js';
import { closeOutput, drained, openOutput, outputClosed, watchOutput, writeLine } from './stream.js';

export class JsonSink implements Sink {
  readonly name = 'json';
  private readonly out: Writable;
  /**
   * The last line, written as the sink stops (replay: its figures, `"type":"replay"`), after every
   * other sink has stopped (the fan-out stops them in reverse order and this one comes first).
   */
  trailer: (() => object) | undefined;
  constructor(path = '-', out?: Writable) {
    this.out = out ? watchOutput(out) : openOutput(path);
  }
  write(summary: IntervalSummary): void {
    writeLine(this.out, `${JSON.stringify(summary)}\n`);
  }
  /** One line per alert, told apart from summaries by `"type":"alert"`. */
  writeAlert(alert: AlertEvent): void {
    writeLine(this.out, `${JSON.stringify({ type: 'alert', ...alert })}\n`);
  }
  /** Resolves when the output takes more lines (undefined: go on now); replay waits on it. */
  drained(): Promise<void> | undefined {
    return drained(this.out);
  }
  /** The reader went away (EPIPE) or the output failed: nothing more can be written. */
  get closed(): boolean {
    return outputClosed(this.out);
  }
  stop(): Promise<void> {
    if (this.trailer) writeLine(this.out, `${JSON.stringify(this.trailer())}\n`);
    return closeOutput(this.out);
  }
}
