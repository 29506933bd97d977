// `flowbridge replay`: feeds captures through the pipeline on event time (the capture's flows), optionally
// paced at recorded speed (--realtime) and rebased to the present (--shift-to-now).
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/load.js';
import type { FanOut } from '../export/sink.js';
import type { GroupRegistry } from '../classify/groups.js';
import type { RecordObserver } from '../flow/observer.js';
import type { Logger } from '../lib/log.js';
import { Pipeline } from '../pipeline.js';
import { wallClock, type Clock } from '../lib/clock.js';
import type { Metrics } from '../lib/counters.js';
import { newPcapStats, readUdpPackets, type PcapStats } from './pcap.js';
import type { IntervalSummary } from '../aggregate/summary.js';

/**
 * --realtime waits out at most this much capture time between two datagrams: a longer gap (captures
 * years apart, one packet dated in the future) or a step backwards restarts the pacing at the next
 * datagram instead of sleeping through it.
 */
export const MAX_REALTIME_GAP_MS = 60_000;

export interface ReplayOptions {
  /** the sinks, started before the first datagram and stopped after the last summary */
  fanout?: FanOut;
  log: Logger;
  realtime?: boolean;
  shiftToNow?: boolean;
  /** progress on stderr (default: when stderr is a terminal) */
  progress?: boolean;
  onSummary?: (s: IntervalSummary) => void;
  metrics?: Metrics;
  observers?: RecordObserver[];
  /** the home-group names, shared with alerting (default: those of cfg.networks) */
  groups?: GroupRegistry;
  /** called with the pipeline as soon as it exists (to route alerts to its fan-out) and the result it fills in */
  onPipeline?: (p: Pipeline, r: ReplayResult) => void;
  /** wall clock, injectable for tests */
  now?: Clock;
  /** back-pressure: a promise to wait for before the next datagram (an output to drain), or undefined */
  pause?: () => Promise<void> | undefined;
  /** true once nothing downstream can take more (stdout's reader went away): reading ends early */
  gone?: () => boolean;
}

export interface ReplayResult {
  pipeline: Pipeline;
  datagrams: number;
  stats: PcapStats[];
  /** summaries emitted */
  intervals: number;
  /** --realtime gaps not waited out (MAX_REALTIME_GAP_MS) */
  gapsSkipped: number;
  /** reading ended early: nothing downstream could take more */
  cutShort: boolean;
}

/**
 * --shift-to-now without --realtime: the offset, in whole intervals, that puts the capture's newest
 * flow end in the interval holding `nowMs`, so no point lands in the future. Flow times can lie far
 * from the packets' (an exporter reading old traffic), so a first pass decodes the capture for them:
 * the replay then reads it twice.
 */
export async function shiftToEnd(files: string[], cfg: Config, nowMs: number): Promise<number> {
  let last = -Infinity, lastPacket = -Infinity;
  const p = new Pipeline(cfg, {
    time: 'event',
    observers: [{ onRecord: (r) => { if (r.endMs > last) last = r.endMs; }, advance() {}, flush() {} }],
  });
  for (const file of files) {
    for (const d of readUdpPackets(file)) {
      if (d.tsMs > lastPacket) lastPacket = d.tsMs;
      p.onDatagram(d.payload, d.srcAddr, d.tsMs);
    }
  }
  await p.finish();
  if (last === -Infinity) last = lastPacket;
  if (last === -Infinity) return 0;
  const I = cfg.interval;
  return (Math.floor(nowMs / I) - Math.floor(last / I)) * I;
}

export async function replay(files: string[], cfg: Config, opts: ReplayOptions): Promise<ReplayResult> {
  const now = opts.now ?? wallClock;
  // live pacing places the first record at the present as it plays; unpaced, the capture ends now
  const atEnd = opts.shiftToNow && !opts.realtime;
  const shiftMs = atEnd ? await shiftToEnd(files, cfg, now()) : undefined;
  const fanout = opts.fanout;
  const pipeline = new Pipeline(cfg, {
    time: 'event', log: opts.log, metrics: opts.metrics, observers: opts.observers, groups: opts.groups,
    onSummary: (s) => {
      result.intervals++;
      opts.onSummary?.(s);
      fanout?.write(s);
    },
    shiftToNowMs: opts.shiftToNow && !atEnd ? now() : undefined,
    shiftMs,
  });
  const result: ReplayResult = { pipeline, datagrams: 0, stats: [], intervals: 0, gapsSkipped: 0, cutShort: false };
  opts.onPipeline?.(pipeline, result);
  await fanout?.start();
  const progress = opts.progress ?? process.stderr.isTTY === true;
  let wallStart = 0, capStart = 0, lastProgress = 0, prevTs = 0;
  const started = now();
  files: for (const file of files) {
    const size = statSync(file).size;
    const stats = newPcapStats();
    result.stats.push(stats);
    let n = 0;
    for (const p of readUdpPackets(file, stats)) {
      if (opts.realtime) {
        const step = p.tsMs - prevTs;
        if (wallStart === 0 || step > MAX_REALTIME_GAP_MS || step < -MAX_REALTIME_GAP_MS) {
          if (wallStart !== 0) result.gapsSkipped++;
          wallStart = now();
          capStart = p.tsMs;
        }
        prevTs = p.tsMs;
        const wait = p.tsMs - capStart - (now() - wallStart);
        if (wait > 5) await sleep(wait);
      }
      pipeline.onDatagram(p.payload, p.srcAddr, p.tsMs);
      result.datagrams++;
      const paused = opts.pause?.();
      if (paused) await paused;
      if (opts.gone?.()) {
        result.cutShort = true;
        break files;
      }
      if (progress && (++n & 255) === 0 && now() - lastProgress > 500) {
        lastProgress = now();
        const records = pipeline.metrics.total('records_total');
        const secs = (lastProgress - started) / 1000 || 1;
        process.stderr.write(`\r${file}: ${stats.packets} packets, ${records} records, ${Math.round(records / secs)} records/s, ${Math.round((100 * (stats.bytesRead ?? 0)) / Math.max(1, size))} % of the file `);
      }
    }
  }
  if (progress) process.stderr.write('\n');
  await pipeline.finish();
  await fanout?.stop();
  return result;
}
