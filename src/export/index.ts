// Builds the configured sinks. Each sink is independent: the fan-out isolates their failures.
import type { Config } from '../config/load.js';
import { parseHostPort } from '../config/formats.js';
import type { SinksConfig } from '../config/sinks.js';
import type { Metrics } from '../lib/counters.js';
import type { Logger } from '../lib/log.js';
import { ConsoleSink } from './console.js';
import { GraphiteSink, type GraphiteSinkOptions } from './graphite.js';
import { InfluxSink, influxOptions } from './influx.js';
import { JsonSink } from './json.js';
import type { Sink } from './sink.js';

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

/** Graphite sink options from the loaded configuration; `instance` is the top-level key of that name. */
export function graphiteOptions(cfg: SinksConfig['graphite'], stopTimeoutMs: number, instance = ''): Partial<GraphiteSinkOptions> {
  const hp = parseHostPort(cfg.address);
  if (!hp) throw new Error(`graphite.address ${cfg.address} is not host:port`); // the config format validated it
  return {
    host: hp.host, port: hp.port, protocol: cfg.protocol, prefix: cfg.prefix, tagged: cfg.tagged, instance,
    maxQueueLines: cfg.maxQueueLines, minRetryDelayMs: cfg.minRetryDelay, maxRetryDelayMs: cfg.maxRetryDelay,
    connectTimeoutMs: cfg.connectTimeout, warnAgeMs: cfg.warnAge, stopTimeoutMs,
  };
}
