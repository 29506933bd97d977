import type { FlowRecord } from './record.js';

/**
 * Sees every classified record and the pipeline's clock (alerting). Called on the hot path: it must
 * copy what it keeps and allocate as little as it can.
 */
export interface RecordObserver {
  onRecord(rec: FlowRecord, direction: number, srcGroup: number, dstGroup: number, arrivalMs: number): void;
  /** the pipeline's clock moved (each datagram in replay, each interval boundary live) */
  advance(nowMs: number): void;
  /** shutdown / end of replay: close what is open */
  flush(): void | Promise<void>;
}
