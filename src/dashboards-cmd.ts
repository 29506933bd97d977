// `flowbridge dashboards [--config FILE] --out DIR`: writes the InfluxDB and Graphite dashboards for a
// configuration (its views become panels). The configuration loads as for `run`: file, environment and
// options; `npm run dashboards` writes grafana/dashboards/ from the defaults.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from './config/load.js';
import { DASHBOARD_FILES, dashboardFiles, type Backend } from './dashboards/index.js';
import { ConfigError } from './lib/errors.js';

const USAGE = 'flowbridge dashboards --out DIR [--config FILE] [options]';
/** The help line (cli.ts's HELP): the command, then what it does, in the help's columns. */
export const DASHBOARDS_USAGE = `${'flowbridge dashboards --out DIR [options]'.padEnd(48)}write the Grafana dashboards for the configuration (--config FILE)`;

/** What cli.ts's parseCli makes of `run`'s arguments (passed in: importing cli.ts would be a cycle). */
export interface RunArgs {
  command: string;
  files: string[];
  argv: string[];
  file?: string;
  overrides: Record<string, unknown>;
  printConfig: boolean;
  realtime: boolean;
  shiftToNow: boolean;
}
export type ParseRun = (args: string[]) => RunArgs | 'help' | 'version';

/** `--out DIR` taken out of the arguments; the rest are `run`'s (configuration file and options). */
export function parseDashboardsArgs(args: string[]): { out: string; rest: string[] } | 'help' {
  const rest: string[] = [];
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help') return 'help';
    if (a !== '--out' && !a.startsWith('--out=')) {
      rest.push(a);
      continue;
    }
    if (out !== undefined) throw new ConfigError('out', 'config: out: expected --out once');
    out = a === '--out' ? args[++i] : a.slice('--out='.length);
    if (out === undefined || out === '' || out.startsWith('--')) throw new ConfigError('out', 'config: out: expected a directory after --out');
  }
  if (out === undefined) throw new ConfigError('out', `config: out: dashboards needs --out DIR (usage: ${USAGE})`);
  return { out, rest };
}

/** Writes both dashboards into `--out`; returns the exit status (a ConfigError ends it with 2, as for every command). */
export function runDashboards(args: string[], parseCli: ParseRun): number {
  const parsed = parseDashboardsArgs(args);
  if (parsed === 'help') {
    process.stdout.write(`Usage:\n  ${DASHBOARDS_USAGE}\nEvery configuration key is also an option; see docs/configuration.md.\n`);
    return 0;
  }
  let cli: ReturnType<ParseRun>;
  try {
    cli = parseCli(parsed.rest);
  } catch (err) {
    // `run`'s words for a stray argument ("did you mean replay") do not fit here
    if (err instanceof ConfigError && err.key === 'files') {
      throw new ConfigError('files', `config: dashboards takes no files: unexpected ${parsed.rest.find((a) => !a.startsWith('-'))} (usage: ${USAGE})`);
    }
    throw err;
  }
  if (cli === 'help' || cli === 'version' || cli.command !== 'run' || cli.files.length || cli.printConfig || cli.realtime || cli.shiftToNow) {
    throw new ConfigError('args', `config: dashboards takes --config, --out and configuration options only (usage: ${USAGE})`);
  }
  const cfg = loadConfig({ argv: cli.argv, env: process.env, file: cli.file, overrides: cli.overrides });
  const files = dashboardFiles(cfg);
  try {
    mkdirSync(parsed.out, { recursive: true });
    for (const [backend, text] of Object.entries(files) as [Backend, string][]) writeFileSync(join(parsed.out, DASHBOARD_FILES[backend]), text);
  } catch (err) {
    throw new ConfigError('out', `config: out = ${JSON.stringify(parsed.out)}: cannot write the dashboards there: ${(err as Error).message}`);
  }
  const views = cfg.views.map((v) => v.name).join(', ') || 'none';
  process.stdout.write(`flowbridge: wrote ${Object.values(DASHBOARD_FILES).map((f) => join(parsed.out, f)).join(' and ')} (views: ${views})\n`);
  if (cfg.graphite.tagged) {
    process.stderr.write('flowbridge: graphite.tagged is set, but the Graphite dashboard reads plain paths: use the InfluxDB one, or write plain paths\n');
  }
  if (cfg.graphite.prefix === '') {
    process.stderr.write('flowbridge: graphite.prefix is empty: set the Graphite dashboard\'s Prefix variable to the first node of your paths\n');
  }
  return 0;
}
