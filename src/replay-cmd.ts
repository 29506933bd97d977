// `flowbridge replay FILE...` as a command: sinks and alerting around replay(), the figures as the
// JSON output's last line, and an exit status that says whether every sink got every line.
import type { Config } from './config/load.js';
import type { Logger } from './lib/log.js';
import type { Metrics } from './lib/counters.js';
import { replay, type ReplayResult } from './ingest/replay.js';
import { connect, prepare } from './app.js';
import { JsonSink } from './export/json.js';
import { ConsoleSink } from './export/console.js';
import { outputClosed } from './export/stream.js';
import { lostSince } from './export/undelivered.js';

export interface ReplayCommand {
  files: string[];
  realtime: boolean;
  shiftToNow: boolean;
}

/**
 * The logger handed to the sinks, remembering the last error each one logged (`{sink, err}`): the
 * reason given when a sink ends the replay with lines lost.
 */
function recordingLogger(log: Logger, reasons: Map<string, string>): Logger {
  const record = (args: unknown[]) => {
    const o = args[0] as { sink?: unknown; err?: unknown; status?: unknown } | undefined;
    if (o && typeof o === 'object' && typeof o.sink === 'string' && o.err !== undefined) {
      reasons.set(o.sink, `${String(o.err)}${o.status ? ` (HTTP ${String(o.status)})` : ''}`);
    }
  };
  return new Proxy(log, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'warn' || prop === 'error') {
        return (...args: unknown[]) => {
          record(args);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/** The figures of a replay (the `replay done` log line and the JSON output's `"type":"replay"` line). */
function figures(files: string[], r: ReplayResult | undefined, m: Metrics, cutShort: boolean): Record<string, unknown> {
  const p = r?.pipeline;
  const lost = lostSince({ lines: {}, alerts: 0, queuedLines: {}, queuedAlerts: 0 }, m);
  return {
    type: 'replay',
    files: files.length,
    packets: r?.stats.reduce((n, s) => n + s.packets, 0) ?? 0,
    datagrams: r?.datagrams ?? 0,
    records: m.total('records_total'),
    decodeErrors: m.total('decode_errors_total'),
    templateMisses: m.total('template_misses_total'),
    templatesLearned: p?.templates.stats.learned ?? 0,
    samplingRates: p?.sampling.stats.updates ?? 0,
    sflowCounterInterfaces: p?.sflowCounters.size ?? 0,
    intervals: r?.intervals ?? 0,
    skippedIntervals: m.total('aggregate_intervals_skipped_total'),
    ...(r?.gapsSkipped ? { realtimeGapsSkipped: r.gapsSkipped } : {}),
    ...(cutShort ? { cutShort: true } : {}),
    ...(lost.linesTotal ? { linesLost: lost.lines } : {}),
  };
}

/** Replays captures through the pipeline with alerting; returns the exit status (docs/exporters.md). */
export async function runReplay(cmd: ReplayCommand, cfg: Config, log: Logger): Promise<number> {
  const reasons = new Map<string, string>();
  const parts = prepare(cfg, log, recordingLogger(log, reasons));
  const { metrics, sinks, groups } = parts;
  const { fanout, alerting } = connect(cfg, log, parts);
  const json = sinks.find((s): s is JsonSink => s instanceof JsonSink);
  // stdout's reader gone and nothing else to write to: reading on would be work for nobody
  const stdoutOnly = cfg.output.path === '-' && sinks.every((s) => s instanceof JsonSink || s instanceof ConsoleSink) &&
    (alerting.sender === null || alerting.definitions.length === 0);
  let result: ReplayResult | undefined;
  let status = 0;
  let live: ReplayResult | undefined; // filled in as replay() goes: the trailer is written inside it
  if (json) json.trailer = () => figures(cmd.files, live, metrics, live?.cutShort ?? false);
  try {
    result = await replay(cmd.files, cfg, {
      fanout, groups, metrics, log, realtime: cmd.realtime, shiftToNow: cmd.shiftToNow,
      observers: [alerting.observer],
      onPipeline: (_, r) => { live = r; },
      pause: json ? () => json.drained() : undefined,
      gone: stdoutOnly ? () => outputClosed(process.stdout) : undefined,
    });
  } catch (err) {
    log.error({ err: (err as Error).message }, 'replay failed');
    process.stderr.write(`flowbridge: ${(err as Error).message}\n`);
    status = 1;
  }
  await alerting.stop(cfg.shutdownTimeout);
  if (result) {
    const { type: _, ...done } = figures(cmd.files, result, metrics, result.cutShort);
    log.info(done, 'replay done');
  }
  const lost = lostSince({ lines: {}, alerts: 0, queuedLines: {}, queuedAlerts: 0 }, metrics);
  for (const [sink, n] of Object.entries(lost.lines)) {
    const delivered = metrics.total('sink_lines_total', { sink });
    const why = reasons.get(sink) ?? `not delivered within shutdownTimeout (${cfg.shutdownTimeout / 1000} s)`;
    const key = sink === 'influx' ? ` (influx.url ${cfg.influx.url})` : sink === 'graphite' ? ` (graphite.address ${cfg.graphite.address})` : '';
    process.stderr.write(`flowbridge: sink ${sink}${key} lost ${n} of ${n + delivered} lines: ${why}\n`);
    status = 1;
  }
  if (lost.alerts > 0) {
    process.stderr.write(`flowbridge: syslog lost ${lost.alerts} alerts: not delivered to alerts.syslog.host within shutdownTimeout\n`);
    status = 1;
  }
  return status;
}
