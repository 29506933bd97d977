// Builds the configured sinks. Each sink is independent: the fan-out isolates their failures.
import type { Config } from '../config/load.js';
import type { Metrics } from '../lib/counters.js';
import type { Logger } from '../lib/log.js';
import { ConsoleSink } from './console.js';
import { JsonSink } from './json.js';
import type { Sink } from './sink.js';

export interface SinkDeps {
  metrics: Metrics;
  log: Logger;
}

export function createSinks(cfg: Config, _deps: SinkDeps): Sink[] {
  const sinks: Sink[] = [];
  if (cfg.output.format === 'json') sinks.push(new JsonSink(cfg.output.path));
  else if (cfg.output.format === 'console') sinks.push(new ConsoleSink(cfg.output.path));
  return sinks;
}
