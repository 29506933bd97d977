// The composition root's parts that live and replay share, built in dependency order so that nothing
// refers back to what is built after it: the group registry, then the sinks, then the fan-out over
// them, then alerting on the fan-out. The pipeline (live.ts, ingest/replay.ts) is built on these.
import { RELOADABLE_KEYS, type Config } from './config/load.js';
import { GroupRegistry } from './classify/groups.js';
import { checkAlerts, createAlerting, type Alerting } from './alert/alerting.js';
import { createSinks } from './config/create-sinks.js';
import { checkViews } from './config/views.js';
import { FanOut, type Sink } from './export/sink.js';
import { Metrics } from './lib/counters.js';
import type { Logger } from './lib/log.js';

export interface Parts {
  metrics: Metrics;
  /** the home-group names the classifier, the aggregator and the alerts share */
  groups: GroupRegistry;
  sinks: Sink[];
}

/**
 * Checks the alert definitions and views against the groups and creates the sinks (not started). Throws
 * ConfigError before anything is opened. `sinkLog`: the logger the sinks get (default `log`).
 */
export function prepare(cfg: Config, log: Logger, sinkLog = log): Parts {
  const metrics = new Metrics();
  const groups = new GroupRegistry(Object.keys(cfg.networks));
  checkAlerts(cfg, groups.names);
  checkViews(cfg, groups.names);
  return { metrics, groups, sinks: createSinks(cfg, { metrics, log: sinkLog }) };
}

/** The fan-out over the sinks (and any added since prepare()), and alerting delivering to it. */
export function connect(cfg: Config, log: Logger, parts: Parts): { fanout: FanOut; alerting: Alerting } {
  const fanout = new FanOut(parts.sinks, parts.metrics, log);
  const alerting = createAlerting(cfg, { metrics: parts.metrics, log, groupNames: parts.groups.names, intervalMs: cfg.interval, sinks: fanout });
  return { fanout, alerting };
}

/** Keys of `next` that differ from `running` and that only a restart applies. */
export function restartKeys(running: Config, next: Config): string[] {
  const a = running as unknown as Record<string, unknown>, b = next as unknown as Record<string, unknown>;
  return Object.keys(b).filter((k) => !RELOADABLE_KEYS.includes(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
