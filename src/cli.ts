// The command line: `flowbridge [run]` (live collector), `flowbridge replay FILE...`, `flowbridge dashboards`, `--print-config`.
import { readFileSync } from 'node:fs';
import { loadConfig, printConfig, RELOADABLE_KEYS, unknownOption, type Config } from './config/load.js';
import { ConfigError } from './lib/errors.js';
import { createLogger, type Logger } from './lib/log.js';
import { LiveCollector } from './live.js';
import { connect, prepare, restartKeys, type Parts } from './app.js';
import { runReplay } from './replay-cmd.js';
import { DASHBOARDS_USAGE, runDashboards, type RunArgs } from './dashboards-cmd.js';
import { dropQueued, lostSince, undelivered } from './export/undelivered.js';
import { ListenError, formatHostPort, parseHostPort } from './ingest/udp.js';
import { createSinks } from './config/create-sinks.js';
import { checkViews } from './config/views.js';
import type { Metrics } from './lib/counters.js';
import { wallClock } from './lib/clock.js';
import { WebServer } from './web/server.js';
import type { Alerting } from './alert/alerting.js';
import type { FanOut, Sink } from './export/sink.js';

const HELP = `flowbridge — NetFlow v5/v9, IPFIX and sFlow v5 collector

Usage:
  flowbridge [run] [--config FILE] [options]      run the collector (UDP 2055 NetFlow/IPFIX, 6343 sFlow)
  flowbridge replay FILE... [options]             feed pcap/pcapng captures through the same pipeline
  flowbridge --print-config [options]             show the effective configuration (secrets redacted)
  ${DASHBOARDS_USAGE}

Shortcuts:
  --home PREFIXES        home networks (comma-separated CIDRs) as the group "home"
  --interval SECONDS     interval length (default 10)
  --output FORMAT        console | json | none (json: one object per interval on stdout)
  --realtime             replay: pace the capture at its recorded speed
  --shift-to-now         replay: rebase capture time to the present
Every configuration key is also an option; see docs/configuration.md.`;

type Cli = RunArgs & { command: 'run' | 'replay' };

/** Splits our own flags and positional files from the config options convict parses. */
export function parseCli(args: string[]): Cli | 'help' | 'version' {
  const cli: Cli = { command: 'run', files: [], argv: [], overrides: {}, printConfig: false, realtime: false, shiftToNow: false };
  let i = 0;
  if (args[0] === 'run' || args[0] === 'replay') cli.command = args[i++] as 'run' | 'replay';
  const value = (name: string): string => {
    const eq = args[i]!.indexOf('=');
    if (eq >= 0) return args[i]!.slice(eq + 1);
    const v = args[++i];
    if (v === undefined) throw new ConfigError(name, `config: ${name}: expected a value after --${name}`);
    return v;
  };
  // a shortcut given twice would silently keep the last; config options are checked by loadConfig
  const once = (name: string): string => {
    const n = args.filter((x) => x === `--${name}` || x.startsWith(`--${name}=`)).length;
    if (n > 1) throw new ConfigError(name, `config: ${name}: expected --${name} once, not ${n} times`);
    return value(name);
  };
  for (; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : '';
    switch (name) {
      case 'help': return 'help';
      case 'version': return 'version';
      case 'print-config': cli.printConfig = true; break;
      case 'realtime': cli.realtime = true; break;
      case 'shift-to-now': cli.shiftToNow = true; break;
      case 'config': cli.file = once('config'); break;
      case 'home': cli.overrides.networks = { home: once('home').split(',').map((s) => s.trim()).filter(Boolean) }; break;
      case 'output': cli.overrides.output = { format: once('output') }; break;
      case '':
        if (a.startsWith('-')) throw new ConfigError(a, `config: unknown option ${a}`);
        cli.files.push(a);
        break;
      default: {
        const unknown = unknownOption(name); // convict would ignore it
        if (unknown) throw unknown;
        cli.argv.push(a);
        if (!a.includes('=') && args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) cli.argv.push(args[++i]!);
      }
    }
  }
  if (cli.command === 'run' && cli.files.length) {
    throw new ConfigError('files', `config: unexpected argument ${cli.files[0]} (did you mean "flowbridge replay ${cli.files[0]}"?)`);
  }
  if (cli.command === 'replay' && !cli.files.length && !cli.printConfig) {
    throw new ConfigError('files', 'config: replay needs at least one capture file (pcap or pcapng)');
  }
  return cli;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The web page and endpoints. An address it cannot listen on ends the start (ConfigError naming
 * web.listen, exit 2): a collector without /healthz looks dead to whatever probes it.
 */
async function startWeb(cfg: Config, metrics: Metrics, log: Logger): Promise<WebServer | undefined> {
  if (!cfg.web.enabled) return undefined;
  const web = new WebServer(cfg.web, { metrics, log, intervalSec: cfg.interval / 1000, views: cfg.views });
  try {
    await web.start(); // before the pipeline: /healthz answers 503 while it starts
    return web;
  } catch (err) {
    await web.stop();
    throw new ConfigError('web.listen', (err as Error).message);
  }
}

/** A UDP address that cannot be bound, as a ConfigError naming its key (listen.netflow, listen.sflow, listen.extra). */
function listenKeyError(cfg: Config, err: ListenError): ConfigError {
  for (const key of ['netflow', 'sflow', 'extra'] as const) {
    for (const hp of cfg.listen[key]) {
      const { address, port } = parseHostPort(hp);
      if (formatHostPort(address, port) !== err.address) continue;
      const why = err.message.replace(/^cannot listen on udp \S+: /, '');
      return new ConfigError(`listen.${key}`, `config: listen.${key} = ${JSON.stringify(hp)}: ${why}: set listen.${key} to a free address or stop the other process`);
    }
  }
  return new ConfigError('listen', `config: listen: ${err.message}`);
}

interface Reloader {
  /** SIGHUP: starts a reload, or marks one pending behind the running one; further ones fold into it */
  request(): void;
  /**
   * Shutdown: drops the pending reload and has the running one skip the steps it has not begun.
   * `ready` resolves once the running reload's new sinks are in place (the pipeline may stop them),
   * `done` when it has finished draining the old ones.
   */
  cancel(): { ready: Promise<void>; done: Promise<void> };
}

/**
 * SIGHUP: reads the configuration again (same file, environment and options) and applies home
 * networks, exporter allow-list, sinks and alerts without losing the open interval. A configuration
 * that does not load is reported and the running one stays; so does one whose new sinks fail to start.
 * One reload runs at a time and at most one waits: a storm of SIGHUPs is one reload more, not a queue
 * (a reload can take most of shutdownTimeout while old sinks drain).
 */
/** What a running collector is made of: the composition root's parts, for reload and shutdown. */
interface Running extends Parts {
  /** the configuration in force: the start's, with the reloadable keys of each reload applied */
  cfg: Config;
  live: LiveCollector;
  fanout: FanOut;
  alerting: Alerting;
  web: WebServer | undefined;
}

function reloader(cli: Cli, app: Running, log: Logger): Reloader {
  const { alerting, fanout, groups, live, metrics, web } = app;
  const outcome = (result: string) => metrics.counter('config_reloads_total', 'Configuration reloads (SIGHUP) by result', { result }).inc();
  let running: Promise<void> | undefined;
  let pending = false;
  let cancelled = false;
  /** the sinks the running reload puts in place */
  let installing: Sink[] | undefined;
  const once = async () => {
    let next: Config;
    try {
      next = loadConfig({ argv: cli.argv, env: process.env, file: cli.file, overrides: cli.overrides });
      alerting.check(next, groups.with(Object.keys(next.networks)));
      checkViews(next, groups.with(Object.keys(next.networks)));
    } catch (err) {
      outcome('invalid');
      log.error({ err: (err as Error).message }, 'configuration not reloaded: the running one stays');
      return;
    }
    try {
      // `instance` names every series: it changes with a restart only, like the listeners
      const sinks = createSinks({ ...next, instance: app.cfg.instance }, { metrics, log });
      if (web) sinks.push(web.sink());
      installing = sinks;
      // the old sinks flush what they hold as they stop; a new one that fails to start changes nothing
      await fanout.replace(sinks);
      live.pipeline.reload(next);
      web?.setViews(next.views);
      const restart = restartKeys(app.cfg, next);
      const merged = { ...app.cfg } as Record<string, unknown>;
      for (const k of RELOADABLE_KEYS) merged[k] = (next as unknown as Record<string, unknown>)[k];
      app.cfg = merged as unknown as Config;
      if (cancelled) {
        // the pipeline stopped meanwhile; a new syslog sender now would outlive it
        outcome('cancelled');
        log.warn('configuration reload cut short by shutdown: alerts not reloaded');
        return;
      }
      await alerting.reload(next, next.shutdownTimeout);
      outcome('ok');
      log.info({ networks: next.networks, sinks: sinks.map((s) => s.name), alerts: alerting.definitions.length }, 'configuration reloaded');
      if (restart.length) log.warn({ keys: restart }, 'changed keys that apply only after a restart');
    } catch (err) {
      outcome('failed');
      log.error({ err: (err as Error).message }, 'configuration not reloaded: the running one stays');
    }
  };
  const run = (): void => {
    const after = () => {
      running = installing = undefined;
      if (pending) {
        pending = false;
        run();
      }
    };
    running = once().then(after, after);
  };
  return {
    request() {
      if (cancelled) return;
      if (running === undefined) run();
      else if (!pending) pending = true;
      else outcome('coalesced');
    },
    cancel() {
      cancelled = true;
      if (pending) outcome('cancelled');
      pending = false;
      const done = running ?? Promise.resolve();
      // no sink starts asynchronously today, so a running reload has swapped its sinks in by now; were
      // one still starting, stopping the pipeline first would leave the new set running
      const ready = installing !== undefined && fanout.sinks !== installing ? done : Promise.resolve();
      return { ready, done };
    },
  };
}

/** Runs until a signal; returns the exit status: 0 when shutdown delivered everything, else 1. */
async function runLive(cli: Cli, cfg: Config, log: Logger, hooks: MainHooks): Promise<number> {
  const parts = prepare(cfg, log); // before the web server: both may throw ConfigError
  const { metrics } = parts;
  const web = await startWeb(cfg, metrics, log);
  if (web) parts.sinks.push(web.sink());
  const { fanout, alerting } = connect(cfg, log, parts);
  const live = new LiveCollector(cfg, {
    log, metrics, groups: parts.groups, observers: [alerting.observer], onSummary: (s) => fanout.write(s),
  });
  try {
    await fanout.start();
    await live.start();
  } catch (err) {
    // what did start (listeners, sinks, page, syslog) would keep the process running
    await Promise.allSettled([live.stop().then(() => fanout.stop()), web?.stop(), alerting.stop(0)]);
    throw err instanceof ListenError ? listenKeyError(cfg, err) : err;
  }
  const app: Running = { ...parts, cfg, live, fanout, alerting, web };
  web?.setReady();
  // intervals are held open for late and spread records, so the first summary comes hold + interval later
  const first = new Date((Math.floor(wallClock() / cfg.interval) + 1) * cfg.interval + cfg.aggregate.hold);
  log.info({ interval: cfg.interval / 1000, hold: cfg.aggregate.hold / 1000, firstSummaryAt: first.toISOString(), networks: cfg.networks }, 'collector started');
  if (cfg.output.format === 'console' && cfg.output.path === '-') {
    process.stdout.write(`flowbridge: listening on ${[...cfg.listen.netflow, ...cfg.listen.sflow, ...cfg.listen.extra].join(' ')}; ` +
      `${cfg.interval / 1000} s intervals, each printed ${cfg.aggregate.hold / 1000} s after it ends (first at ${first.toISOString().slice(11, 19)} UTC)` +
      `${web ? `; live page at http://${cfg.web.listen}/` : ''}\n`);
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const reload = reloader(cli, app, log);
    const onHup = () => reload.request();
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.off('SIGHUP', onHup);
      log.info({ signal }, 'stopping: flushing the open interval');
      web?.setReady(false);
      const started = wallClock();
      const mark = undelivered(metrics);
      let phase = 'reload';
      let status: number | undefined;
      // armed until the process ends: stopping may outlast the budget, and so may a handle left open after it
      const deadline = setTimeout(() => {
        if (status === undefined) {
          const lost = lostSince(mark, metrics);
          if (hooks.exit) dropQueued(metrics);
          log.error({ timeoutMs: cfg.shutdownTimeout, waitingFor: phase, openIntervals: live.pipeline.aggregator.openWindows, lines: lost.lines, alerts: lost.alerts },
            `shutdown timed out: ${lost.linesTotal} lines and ${lost.alerts} alerts not delivered`);
          status = 1;
          resolve(1);
        } else {
          log.error({ handles: process.getActiveResourcesInfo() }, 'stopped, but open handles keep the process running: exiting');
        }
        hooks.exit?.(status);
      }, cfg.shutdownTimeout);
      deadline.unref();
      const { ready, done } = reload.cancel();
      ready.then(() => { phase = 'sinks'; return live.stop().then(() => fanout.stop()); })
        .then(() => { phase = 'alerts'; return alerting.stop(Math.max(0, cfg.shutdownTimeout - (wallClock() - started))); })
        .then(() => { phase = 'web'; return web?.stop(); })
        // a reload cut short may still be draining its old sinks: what they drop is lost too
        .then(() => { phase = 'old sinks of a reload'; return done; })
        .then(() => 0, (err) => {
          log.error({ err: (err as Error).message }, 'error while stopping');
          return 1;
        })
        .then((code) => {
          if (status !== undefined) return;
          const lost = lostSince(mark, metrics);
          if (lost.linesTotal + lost.alerts > 0) {
            log.warn({ lines: lost.lines, alerts: lost.alerts }, `stopped: ${lost.linesTotal} lines and ${lost.alerts} alerts not delivered`);
            code = 1;
          }
          status = code;
          if (!hooks.exit) clearTimeout(deadline); // in-process (tests): nothing to end
          resolve(code);
        });
    };
    process.on('SIGHUP', onHup);
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

export interface MainHooks {
  /**
   * Ends the process (the CLI entry passes process.exit). With it, a live collector that is still
   * running shutdownTimeout after SIGTERM/SIGINT is ended then, whatever is pending; without it (tests
   * calling main() in-process) the run only resolves with its status.
   */
  exit?: (code: number) => void;
}

export async function main(args: string[], hooks: MainHooks = {}): Promise<number> {
  try {
    return await run(args, hooks);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function run(args: string[], hooks: MainHooks): Promise<number> {
  if (args[0] === 'dashboards') return runDashboards(args.slice(1), parseCli);
  const cli = parseCli(args);
  if (cli === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (cli === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const cfg = loadConfig({ argv: cli.argv, env: process.env, file: cli.file, overrides: cli.overrides });
  if (cli.printConfig) {
    process.stdout.write(`${printConfig(cfg)}\n`);
    return 0;
  }
  const log = createLogger(cfg.log.level);
  return cli.command === 'replay' ? runReplay(cli, cfg, log) : runLive(cli, cfg, log, hooks);
}

