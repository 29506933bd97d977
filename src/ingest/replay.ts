// `flowbridge replay`: feeds captures through the live pipeline with the capture's clock, optionally
// paced at recorded speed (--realtime) and rebased to the present (--shift-to-now).
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/load.js';
import type { Sink } from '../export/sink.js';
import type { Logger } from '../lib/log.js';
import { Pipeline, type RecordObserver } from '../pipeline.js';
import type { Metrics } from '../lib/counters.js';
import { newPcapStats, readUdpPackets, type PcapStats } from './pcap.js';
import type { IntervalSummary } from '../aggregate/summary.js';

export interface ReplayOptions {
  sinks: Sink[];
  log: Logger;
  realtime?: boolean;
  shiftToNow?: boolean;
  /** progress on stderr (default: when stderr is a terminal) */
  progress?: boolean;
  onSummary?: (s: IntervalSummary) => void;
  metrics?: Metrics;
  observers?: RecordObserver[];
  /** called with the pipeline as soon as it exists (to route alerts to its fan-out) */
  onPipeline?: (p: Pipeline) => void;
  /** wall clock, injectable for tests */
  now?: () => number;
}

export interface ReplayResult {
  pipeline: Pipeline;
  datagrams: number;
  stats: PcapStats[];
}

export async function replay(files: string[], cfg: Config, opts: ReplayOptions): Promise<ReplayResult> {
  const now = opts.now ?? Date.now;
  const pipeline = new Pipeline(cfg, {
    mode: 'replay', sinks: opts.sinks, log: opts.log, onSummary: opts.onSummary,
    metrics: opts.metrics, observers: opts.observers,
    shiftToNowMs: opts.shiftToNow ? now() : undefined,
  });
  opts.onPipeline?.(pipeline);
  await pipeline.start();
  const progress = opts.progress ?? process.stderr.isTTY === true;
  const result: ReplayResult = { pipeline, datagrams: 0, stats: [] };
  let wallStart = 0, capStart = 0, lastProgress = 0;
  const started = now();
  for (const file of files) {
    const size = statSync(file).size;
    const stats = newPcapStats();
    result.stats.push(stats);
    let n = 0;
    for (const p of readUdpPackets(file, stats)) {
      if (opts.realtime) {
        if (wallStart === 0) {
          wallStart = now();
          capStart = p.tsMs;
        }
        const wait = p.tsMs - capStart - (now() - wallStart);
        if (wait > 5) await sleep(Math.min(wait, 60_000));
      }
      pipeline.onDatagram(p.payload, p.srcAddr, p.tsMs);
      result.datagrams++;
      if (progress && (++n & 255) === 0 && now() - lastProgress > 500) {
        lastProgress = now();
        const records = pipeline.metrics.total('records_total');
        const secs = (lastProgress - started) / 1000 || 1;
        process.stderr.write(`\r${file}: ${stats.packets} packets, ${records} records, ${Math.round(records / secs)} records/s, ${Math.round((100 * (stats.bytesRead ?? 0)) / Math.max(1, size))} % of the file `);
      }
    }
  }
  if (progress) process.stderr.write('\n');
  await pipeline.stop();
  return result;
}

/** CLI form: returns the exit status. */
export async function replayFiles(files: string[], cfg: Config, opts: ReplayOptions): Promise<number> {
  try {
    const r = await replay(files, cfg, opts);
    opts.log.info({ datagrams: r.datagrams, records: r.pipeline.metrics.total('records_total'),
      decodeErrors: r.pipeline.metrics.total('decode_errors_total') }, 'replay done');
    return 0;
  } catch (err) {
    opts.log.error({ err: (err as Error).message }, 'replay failed');
    process.stderr.write(`flowbridge: ${(err as Error).message}\n`);
    return 1;
  }
}
