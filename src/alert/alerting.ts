// Alerting as the composition root builds it: the engine and the syslog sender from the `alerts`
// options, checked against the group names, and reloaded in place on SIGHUP.
import type { Metrics } from '../lib/counters.js';
import type { Logger } from '../lib/log.js';
import { ConfigError } from '../lib/errors.js';
import type { AlertEvent } from './event.js';
import { shortcutDefinitions, type FlowDefinition, type Shortcuts } from './definitions.js';
import { AlertEngine } from './engine.js';
import { compileFilter, parseFilter, UnknownGroupError } from '../flow/filter.js';
import { SyslogSender, type SyslogOptions } from './syslog.js';

/** What alerting is built from: the `alerts` section (config/alerts.ts validates it into this shape). */
export interface AlertsOptions {
  enabled: boolean;
  /** alerts a second at most, across definitions */
  rateLimit: number;
  syslog: SyslogOptions;
  flows: FlowDefinition[];
  /** the threshold shortcuts per local host and per group */
  hosts: Shortcuts;
  groups: Shortcuts;
}
type WithAlerts = { alerts: AlertsOptions };

export interface AlertingDeps {
  metrics: Metrics;
  log: Logger;
  /** Classifier.groupNames: group filters and keys resolve against them */
  groupNames: readonly string[];
  intervalMs: number;
  /** console/JSON (and other) sinks that show alerts; the pipeline's FanOut fits */
  sinks?: { writeAlert(a: AlertEvent): void | Promise<void> };
  now?: () => number;
}

export interface Alerting {
  observer: AlertEngine;
  sender: SyslogSender | null;
  definitions: FlowDefinition[];
  /** Sends what is queued (bounded by `timeoutMs`) and closes the syslog connection. */
  stop(timeoutMs?: number): Promise<void>;
  /** Throws ConfigError if `cfg.alerts` would not load against these group names; changes nothing. */
  check(cfg: WithAlerts, groupNames: readonly string[]): void;
  /**
   * Applies `cfg.alerts` (a configuration reload; check() it first): unchanged definitions keep their
   * state, a changed syslog destination gets a new sender and the old one is drained and closed.
   */
  reload(cfg: WithAlerts, timeoutMs?: number): Promise<void>;
}

/** Builds the engine and the syslog sender from the configuration; throws ConfigError on bad definitions. */
export function createAlerting(cfg: WithAlerts, deps: AlertingDeps): Alerting {
  let a = cfg.alerts;
  const definitions = checkedDefinitions(a, deps.groupNames);
  let sender = a.enabled && a.syslog.host ? new SyslogSender(a.syslog, { metrics: deps.metrics, log: deps.log, now: deps.now }) : null;
  const sinks = deps.sinks;
  const observer = new AlertEngine({
    definitions, groupNames: deps.groupNames, intervalMs: deps.intervalMs, rateLimit: a.rateLimit,
    metrics: deps.metrics, now: deps.now,
    deliver: (alert) => {
      try {
        const p = sinks?.writeAlert(alert);
        if (p) p.catch((err) => deps.log.error({ err: (err as Error)?.message }, 'alert sink error'));
      } catch (err) {
        deps.log.error({ err: (err as Error)?.message }, 'alert sink error');
      }
      sender?.send(alert);
    },
  });
  const alerting: Alerting = {
    observer, sender, definitions,
    stop: async (timeoutMs = 5000) => { await sender?.stop(timeoutMs); },
    check: checkAlerts,
    reload: async (next, timeoutMs = 5000) => {
      const defs = checkedDefinitions(next.alerts, deps.groupNames);
      observer.setDefinitions(defs);
      alerting.definitions = defs;
      const b = next.alerts;
      const same = JSON.stringify(b.syslog) === JSON.stringify(a.syslog) && b.enabled === a.enabled;
      a = b;
      if (same) return;
      // a new destination: queued alerts still go to the old one, which is drained and closed
      const old = sender;
      sender = b.enabled && b.syslog.host ? new SyslogSender(b.syslog, { metrics: deps.metrics, log: deps.log, now: deps.now }) : null;
      alerting.sender = sender;
      await old?.stop(timeoutMs);
    },
  };
  return alerting;
}

/** Throws ConfigError if `cfg.alerts` would not load against these group names; changes nothing. */
export function checkAlerts(cfg: WithAlerts, groupNames: readonly string[]): void {
  checkedDefinitions(cfg.alerts, groupNames);
}

/** The definitions of `alerts`, validated (unique names, filters naming known groups); throws ConfigError. */
function checkedDefinitions(a: AlertsOptions, groupNames: readonly string[]): FlowDefinition[] {
  const definitions = a.enabled ? [...a.flows, ...shortcutDefinitions(a.hosts, a.groups)] : [];
  const names = new Set<string>();
  definitions.forEach((d, i) => {
    const where = i < a.flows.length ? `alerts.flows[${i}]` : 'alerts.hosts/alerts.groups';
    if (names.has(d.name)) throw new ConfigError(`${where}.name`, `config: ${where}.name = ${JSON.stringify(d.name)}: expected a name not used by another definition (shortcuts are named like hosts-in-bps)`);
    names.add(d.name);
    try {
      if (d.filter.trim()) compileFilter(parseFilter(d.filter), groupNames);
    } catch (e) {
      if (!(e instanceof UnknownGroupError)) throw e;
      throw new ConfigError(`${where}.filter`, `config: ${where}.filter = ${JSON.stringify(d.filter)}: expected a filter expression (${e.message}; groups: ${groupNames.join(', ')})`);
    }
  });
  return definitions;
}
