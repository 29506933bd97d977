// The command line: `flowbridge [run]` (live collector), `flowbridge replay FILE...`, `--print-config`.
import { readFileSync } from 'node:fs';
import { loadConfig, printConfig, type Config } from './config/load.js';
import { ConfigError } from './lib/errors.js';
import { createLogger, type Logger } from './lib/log.js';
import { Pipeline } from './pipeline.js';
import { replayFiles } from './ingest/replay.js';
import { createSinks } from './export/index.js';
import { Metrics } from './lib/counters.js';
import { WebServer } from './web/server.js';
import { createAlerting, type Alerting } from './alert/engine.js';
import type { FanOut } from './export/sink.js';

const HELP = `flowbridge — NetFlow v5/v9, IPFIX and sFlow v5 collector

Usage:
  flowbridge [run] [--config FILE] [options]      run the collector (UDP 2055 NetFlow/IPFIX, 6343 sFlow)
  flowbridge replay FILE... [options]             feed pcap/pcapng captures through the same pipeline
  flowbridge --print-config [options]             show the effective configuration (secrets redacted)

Shortcuts:
  --home PREFIXES        home networks (comma-separated CIDRs) as the group "home"
  --interval SECONDS     interval length (default 10)
  --output FORMAT        console | json | none (json: one object per interval on stdout)
  --realtime             replay: pace the capture at its recorded speed
  --shift-to-now         replay: rebase capture time to the present
Every configuration key is also an option; see docs/configuration.md.`;

interface Cli {
  command: 'run' | 'replay';
  files: string[];
  argv: string[];
  file?: string;
  overrides: Record<string, unknown>;
  printConfig: boolean;
  realtime: boolean;
  shiftToNow: boolean;
}

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
  for (; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : '';
    switch (name) {
      case 'help': return 'help';
      case 'version': return 'version';
      case 'print-config': cli.printConfig = true; break;
      case 'realtime': cli.realtime = true; break;
      case 'shift-to-now': cli.shiftToNow = true; break;
      case 'config': cli.file = value('config'); break;
      case 'home': cli.overrides.networks = { home: value('home').split(',').map((s) => s.trim()).filter(Boolean) }; break;
      case 'output': cli.overrides.output = { format: value('output') }; break;
      case '':
        if (a.startsWith('-')) throw new ConfigError(a, `config: unknown option ${a}`);
        cli.files.push(a);
        break;
      default:
        cli.argv.push(a);
        if (!a.includes('=') && args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) cli.argv.push(args[++i]!);
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

/** The web page and endpoints; a port that is taken disables the page, never the collector. */
async function startWeb(cfg: Config, metrics: Metrics, log: Logger): Promise<WebServer | undefined> {
  if (!cfg.web.enabled) return undefined;
  const web = new WebServer(cfg.web, { metrics, log, intervalSec: cfg.interval / 1000 });
  try {
    await web.start(); // before the pipeline: /healthz answers 503 while it starts
    return web;
  } catch (err) {
    log.error({ err: (err as Error).message }, 'web page disabled');
    return undefined;
  }
}

/**
 * Alert definitions and the syslog transport. Alerts reach the sinks through the pipeline's fan-out,
 * which exists only once the pipeline does: `ref` is filled in right after. Throws ConfigError.
 */
function buildAlerting(cfg: Config, metrics: Metrics, log: Logger, ref: { fanout?: FanOut }, groupNames = Object.keys(cfg.networks)): Alerting {
  return createAlerting(cfg, {
    metrics, log, groupNames, intervalMs: cfg.interval,
    sinks: { writeAlert: (a) => ref.fanout?.writeAlert(a) },
  });
}

/**
 * SIGHUP: reads the configuration again (same file, environment and options) and applies home
 * networks, exporter allow-list, sinks and alerts without losing the open interval. A configuration
 * that does not load is reported and the running one stays; so does one whose new sinks fail to start.
 */
function reloader(cli: Cli, pipeline: Pipeline, alerting: Alerting, web: WebServer | undefined, metrics: Metrics, log: Logger): () => Promise<void> {
  const outcome = (result: string) => metrics.counter('config_reloads_total', 'Configuration reloads (SIGHUP) by result', { result }).inc();
  let busy: Promise<void> = Promise.resolve();
  const once = async () => {
    let next: Config;
    try {
      next = loadConfig({ argv: cli.argv, env: process.env, file: cli.file, overrides: cli.overrides });
      alerting.check(next, [...new Set([...pipeline.classifier.groupNames, ...Object.keys(next.networks)])]);
    } catch (err) {
      outcome('invalid');
      log.error({ err: (err as Error).message }, 'configuration not reloaded: the running one stays');
      return;
    }
    try {
      // `instance` names every series: it changes with a restart only, like the listeners
      const sinks = createSinks({ ...next, instance: pipeline.cfg.instance }, { metrics, log });
      if (web) sinks.push(web.sink());
      const restart = await pipeline.reload(next, sinks);
      await alerting.reload(next, next.shutdownTimeout);
      outcome('ok');
      log.info({ networks: next.networks, sinks: sinks.map((s) => s.name), alerts: alerting.definitions.length }, 'configuration reloaded');
      if (restart.length) log.warn({ keys: restart }, 'changed keys that apply only after a restart');
    } catch (err) {
      outcome('failed');
      log.error({ err: (err as Error).message }, 'configuration not reloaded: the running one stays');
    }
  };
  // one reload at a time; a SIGHUP during a reload runs after it
  return () => (busy = busy.then(once, once));
}

/** Runs until a signal; returns the exit status. */
async function runLive(cli: Cli, cfg: Config, log: Logger): Promise<number> {
  const metrics = new Metrics();
  const ref: { fanout?: FanOut } = {};
  const groupNames = Object.keys(cfg.networks); // shared by classifier and alerts, appended on reload
  const alerting = buildAlerting(cfg, metrics, log, ref, groupNames);
  const sinks = createSinks(cfg, { metrics, log }); // before the web server: both may throw ConfigError
  const web = await startWeb(cfg, metrics, log);
  if (web) sinks.push(web.sink());
  const pipeline = new Pipeline(cfg, { mode: 'live', sinks, log, metrics, observers: [alerting.observer], groupNames });
  ref.fanout = pipeline.fanout;
  await pipeline.start();
  web?.setReady();
  // intervals are held open for late and spread records, so the first summary comes hold + interval later
  const first = new Date((Math.floor(Date.now() / cfg.interval) + 1) * cfg.interval + cfg.aggregate.hold);
  log.info({ interval: cfg.interval / 1000, hold: cfg.aggregate.hold / 1000, firstSummaryAt: first.toISOString(), networks: cfg.networks }, 'collector started');
  if (cfg.output.format === 'console' && cfg.output.path === '-') {
    process.stdout.write(`flowbridge: listening on ${[...cfg.listen.netflow, ...cfg.listen.sflow, ...cfg.listen.extra].join(' ')}; ` +
      `${cfg.interval / 1000} s intervals, each printed ${cfg.aggregate.hold / 1000} s after it ends (first at ${first.toISOString().slice(11, 19)} UTC)` +
      `${web ? `; live page at http://${cfg.web.listen}/` : ''}\n`);
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping: flushing the open interval');
      const timer = setTimeout(() => {
        log.error({ timeoutMs: cfg.shutdownTimeout }, 'shutdown timed out');
        resolve(1);
      }, cfg.shutdownTimeout);
      timer.unref();
      web?.setReady(false);
      const started = Date.now();
      process.off('SIGHUP', onHup);
      reloading.then(() => pipeline.stop())
        .then(() => alerting.stop(Math.max(0, cfg.shutdownTimeout - (Date.now() - started))))
        .then(() => web?.stop()).then(() => resolve(0), (err) => {
        log.error({ err: (err as Error).message }, 'error while stopping');
        resolve(1);
      }).finally(() => clearTimeout(timer));
    };
    const reload = reloader(cli, pipeline, alerting, web, metrics, log);
    let reloading = Promise.resolve();
    const onHup = () => {
      if (!stopping) reloading = reload();
    };
    process.on('SIGHUP', onHup);
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** Replays captures through the pipeline with alerting; returns the exit status. */
async function runReplay(cli: Cli, cfg: Config, log: Logger): Promise<number> {
  const metrics = new Metrics();
  const ref: { fanout?: FanOut } = {};
  const alerting = buildAlerting(cfg, metrics, log, ref);
  const code = await replayFiles(cli.files, cfg, {
    sinks: createSinks(cfg, { metrics, log }), metrics, log, realtime: cli.realtime, shiftToNow: cli.shiftToNow,
    observers: [alerting.observer], onPipeline: (p) => (ref.fanout = p.fanout),
  });
  await alerting.stop(cfg.shutdownTimeout);
  return code;
}

export async function main(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function run(args: string[]): Promise<number> {
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
  return cli.command === 'replay' ? runReplay(cli, cfg, log) : runLive(cli, cfg, log);
}

