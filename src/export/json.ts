// JSON-lines sink: one object per closed interval (the IntervalSummary, documented in docs/output.md)
// and one per alert (docs/alerts.md).
import type { Writable } from 'node:stream';
import type { IntervalSummary } from '../aggregate/summary.js';
import type { AlertEvent } from '../alert/event.js';
import type { Sink } from './sink.js';
import { closeOutput, openOutput } from './stream.js';

export class JsonSink implements Sink {
  readonly name = 'json';
  private readonly out: Writable;
  constructor(path = '-', out?: Writable) {
    this.out = out ?? openOutput(path);
  }
  write(summary: IntervalSummary): void {
    this.out.write(`${JSON.stringify(summary)}\n`);
  }
  /** One line per alert, told apart from summaries by `"type":"alert"`. */
  writeAlert(alert: AlertEvent): void {
    this.out.write(`${JSON.stringify({ type: 'alert', ...alert })}\n`);
  }
  stop(): Promise<void> {
    return closeOutput(this.out);
  }
}
