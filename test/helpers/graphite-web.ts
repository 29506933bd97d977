// A private graphite-web (Debian's graphite-web, Django runserver) over a carbon's whisper directory, for
// tests that query the render and find APIs as Grafana does (../shared/recipes/graphite.md): its own
// settings module, sqlite database and log directory in a temp dir, a loopback port, killed with the
// test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpCall } from './influxd.js';
import { freeTcpPort, retryPortClash } from './ports.js';
import { stopGently } from './process.js';

export const GRAPHITE_MANAGE = process.env.GRAPHITE_MANAGE_PATH || '/usr/bin/graphite-manage';

export function graphiteWebMissing(): string | null {
  return existsSync(GRAPHITE_MANAGE) ? null : `graphite-manage not found at ${GRAPHITE_MANAGE} (apt-get install graphite-web)`;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface RenderSeries {
  target: string;
  datapoints: [number | null, number][];
}

export interface FindNode {
  text: string;
  id: string;
  leaf: number;
}

export interface GraphiteWeb {
  url: string;
  /** POST /render (format=json) with several targets; `from`/`until` in epoch seconds */
  render(targets: string[], opts: { from: number; until: number; maxDataPoints?: number }): Promise<RenderSeries[]>;
  /** GET /metrics/find, as Grafana's variable queries use it */
  find(query: string): Promise<FindNode[]>;
  log(): string;
}

const py = (s: string): string => JSON.stringify(s);

/** Starts graphite-web reading `storageDir/whisper`; stopped and its directory removed at `t`'s teardown. */
export function startGraphiteWeb(t: Teardown, opts: { storageDir: string }): Promise<GraphiteWeb> {
  return retryPortClash(() => startGraphiteWebOnce(t, opts));
}

async function startGraphiteWebOnce(t: Teardown, opts: { storageDir: string }): Promise<GraphiteWeb> {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'flowbridge-graphite-web-'));
  mkdirSync(join(dir, 'log'));
  const whisper = join(opts.storageDir, 'whisper');
  // local settings only: graphite.settings imports this module by name and fills in the rest
  writeFileSync(join(dir, 'fbtest_settings.py'), [
    `SECRET_KEY = ${py('flowbridge-test-only')}`,
    `STORAGE_DIR = ${py(opts.storageDir)}`,
    `WHISPER_DIR = ${py(whisper)}`,
    `STANDARD_DIRS = [${py(whisper)}]`,
    `LOG_DIR = ${py(join(dir, 'log'))}`,
    `INDEX_FILE = ${py(join(dir, 'index'))}`,
    `DATABASES = {'default': {'NAME': ${py(join(dir, 'graphite.db'))}, 'ENGINE': 'django.db.backends.sqlite3', 'USER': '', 'PASSWORD': '', 'HOST': '', 'PORT': ''}}`,
    // points are read from whisper only: the test waits until carbon wrote them
    'CARBONLINK_HOSTS = []',
    "ALLOWED_HOSTS = ['127.0.0.1', 'localhost']",
    "TAGDB = ''",
    '',
  ].join('\n'));
  const env = { ...process.env, GRAPHITE_SETTINGS_MODULE: 'fbtest_settings', PYTHONPATH: dir, PYTHONWARNINGS: 'ignore' };
  let child: ChildProcess | undefined;
  let output = '';

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await stopGently(c);
  };
  t.teardown(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // the find view looks up a default user profile in the database: it needs the tables
  // (asynchronously: the caller may load data meanwhile)
  await new Promise<void>((resolve, reject) => {
    const m = spawn(GRAPHITE_MANAGE, ['migrate', '--noinput'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    m.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    const timer = setTimeout(() => m.kill('SIGKILL'), 60_000);
    m.on('error', reject);
    m.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`graphite-manage migrate failed (${code}): ${err}`));
    });
  });

  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  // setpriv: the server dies with the test process even when teardown never runs
  const c = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', GRAPHITE_MANAGE, 'runserver', `127.0.0.1:${port}`, '--noreload'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child = c;
  const onOut = (d: Buffer): void => { output = (output + d.toString()).slice(-20_000); };
  c.stdout!.on('data', onOut);
  c.stderr!.on('data', onOut);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (c.exitCode !== null) throw new Error(`graphite-web exited with ${c.exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`graphite-web not ready after 30 s: ${output}`);
    const r = await httpCall(`${url}/version`, 'GET').catch(() => undefined);
    if (r?.status === 200) break;
    await sleep(50);
  }

  return {
    url,
    async render(targets, o) {
      const form = new URLSearchParams({ from: String(o.from), until: String(o.until), format: 'json', maxDataPoints: String(o.maxDataPoints ?? 1000) });
      for (const target of targets) form.append('target', target);
      const r = await httpCall(`${url}/render`, 'POST', form.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
      if (r.status !== 200) throw new Error(`render ${targets.join(' ')}: HTTP ${r.status} ${r.body.slice(0, 2000)}`);
      return JSON.parse(r.body) as RenderSeries[];
    },
    async find(query) {
      const r = await httpCall(`${url}/metrics/find?${new URLSearchParams({ query })}`, 'GET');
      if (r.status !== 200) throw new Error(`find ${query}: HTTP ${r.status} ${r.body.slice(0, 2000)}`);
      return JSON.parse(r.body) as FindNode[];
    },
    log: () => output,
  };
}
