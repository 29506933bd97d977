// Builds the sinks the loaded configuration asks for. Each sink is independent: the fan-out isolates
// their failures. Here, not in export/, because only the configuration knows which sinks there are.
import { ConsoleSink } from '../export/console.js';
import { GraphiteSink } from '../export/graphite.js';
import { InfluxSink } from '../export/influx.js';
import { JsonSink } from '../export/json.js';
import type { Sink } from '../export/sink.js';
import type { Metrics } from '../lib/counters.js';
import type { Logger } from '../lib/log.js';
import type { Config } from './schema.js';
import { graphiteOptions, influxOptions } from './sinks.js';

export interface SinkDeps {
  metrics: Metrics;
  log: Logger;
  /** wall clock (tests inject one) */
  now?: () => number;
}

/** Throws InfluxConfigError when influx.tokenFile cannot be read (exit status 2, like a bad config value). */
export function createSinks(cfg: Config, deps: SinkDeps): Sink[] {
  const sinks: Sink[] = [];
  if (cfg.output.format === 'json') sinks.push(new JsonSink(cfg.output.path));
  else if (cfg.output.format === 'console') sinks.push(new ConsoleSink(cfg.output.path));
  // a sink's stop() may use most of the shutdown budget; the rest is for the intervals before it
  const stopTimeoutMs = Math.max(1000, Math.floor(cfg.shutdownTimeout * 0.8));
  if (cfg.influx.enabled) sinks.push(new InfluxSink(influxOptions(cfg.influx, stopTimeoutMs, cfg.instance), deps));
  if (cfg.graphite.enabled) sinks.push(new GraphiteSink({ ...graphiteOptions(cfg.graphite, stopTimeoutMs, cfg.instance), intervalMs: cfg.interval }, deps));
  return sinks;
}
