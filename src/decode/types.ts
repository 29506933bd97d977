// Contracts between the decode dispatcher and the per-format decoders.
import type { DecodeError } from '../lib/errors.js';
import type { RecordHandler } from '../flow/record.js';

/** Receives every error a decoder recovers from (a skipped set, an expired pending set). */
export type ErrorReporter = (err: DecodeError) => void;

export interface DatagramDecoder {
  /**
   * Decodes one datagram from `exporter` (its source address as text) received at `receivedMs`
   * (epoch ms; the capture's time in replay), calling `emit` once per flow record with the
   * decoder's reused FlowRecord. Returns the number of records emitted. A DecodeError thrown from
   * here drops the rest of the datagram; errors confined to one set are passed to the reporter.
   */
  decode(buf: Buffer, exporter: string, receivedMs: number, emit: RecordHandler): number;
  /** Records of the last decode() that were events without traffic counters (NAT, firewall): not emitted. */
  readonly events?: number;
}

