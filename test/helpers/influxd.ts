// A private influxd (Debian's 1.6: v1 /write and InfluxQL only) for tests and benchmarks
// (../shared/recipes/influxdb.md): its own config, data dir and loopback ports, killed with the test
// process. Plus a v2 write shim so the official client's /api/v2/write reaches the same server.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type IncomingHttpHeaders } from 'node:http';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort, retryPortClash } from './ports.js';
import { killHard, stopGently } from './process.js';

export const INFLUXD = process.env.INFLUXD_PATH || '/usr/bin/influxd';

/** null when influxd is missing: the caller skips with this reason. */
export function influxdMissing(): string | null {
  return existsSync(INFLUXD) ? null : `influxd not found at ${INFLUXD} (apt-get install influxdb)`;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface SeriesResult {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface Influxd {
  url: string;
  httpPort: number;
  dir: string;
  /** runs InfluxQL (POST /query); throws on an error result */
  query(q: string, db?: string): Promise<SeriesResult[]>;
  stop(): Promise<void>;
  /** starts the same server again (same data and ports) after stop */
  start(): Promise<void>;
  running(): boolean;
  /** SIGKILL, as a crash (no shutdown); start() brings it back on its data */
  kill(): Promise<void>;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

function config(d: string, rpc: number, http: number): string {
  return `reporting-enabled = false
bind-address = "127.0.0.1:${rpc}"
[meta]
  dir = "${d}/meta"
  logging-enabled = false
[data]
  dir = "${d}/data"
  wal-dir = "${d}/wal"
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
  max-values-per-tag = 0
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${http}"
  auth-enabled = false
  log-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
  suppress-logo = true
`;
}

/** Plain HTTP call; resolves with status, headers and body text. */
export function httpCall(url: string, method: string, body?: Buffer | string, headers: Record<string, string> = {}):
  Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Starts influxd on free loopback ports; stopped and its directory removed at `t`'s teardown. Only the
 * first start can move to other ports: a restart (start()) keeps the URL the collector was given.
 */
export function startInfluxd(t: Teardown, opts: { databases?: string[] } = {}): Promise<Influxd> {
  return retryPortClash(() => startInfluxdOnce(t, opts));
}

async function startInfluxdOnce(t: Teardown, opts: { databases?: string[] }): Promise<Influxd> {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'flowbridge-influxd-'));
  const [rpc, http] = [await freeTcpPort(), await freeTcpPort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(conf, config(dir, rpc, http));
  const url = `http://127.0.0.1:${http}`;
  let child: ChildProcess | undefined;
  // INFLUXDB_* variables would override the file
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await stopGently(c);
  };

  const start = async (): Promise<void> => {
    if (await portAnswers(http)) throw new Error(`port ${http} is taken: another server would answer /ping`);
    // setpriv: influxd dies with the test process even when teardown never runs
    const c = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', INFLUXD, 'run', '-config', conf],
      { stdio: ['ignore', 'ignore', 'pipe'], env });
    child = c;
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`influxd exited with ${c.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`influxd not ready after 15 s: ${stderr}`);
      const ok = await httpCall(`${url}/ping`, 'GET').catch(() => undefined);
      if (ok?.status === 204 && ok.headers['x-influxdb-version']) return;
      await sleep(10);
    }
  };

  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await killHard(c);
  };

  const query = async (q: string, db?: string): Promise<SeriesResult[]> => {
    const form = new URLSearchParams({ q, ...(db ? { db } : {}), epoch: 's' }).toString();
    const r = await httpCall(`${url}/query`, 'POST', form, { 'content-type': 'application/x-www-form-urlencoded' });
    const j = JSON.parse(r.body) as { error?: string; results?: { error?: string; series?: SeriesResult[] }[] };
    const err = j.error ?? j.results?.find((x) => x.error)?.error;
    if (err) throw new Error(`InfluxQL ${q}: ${err}`);
    return j.results?.flatMap((x) => x.series ?? []) ?? [];
  };

  t.teardown(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  for (const db of opts.databases ?? []) await query(`CREATE DATABASE "${db}"`);
  return { url, httpPort: http, dir, query, stop, start, running: () => child !== undefined, kill };
}

export interface ShimRequest {
  path: string;
  authorization: string | undefined;
  contentEncoding: string | undefined;
  status: number;
}

export interface V2Shim {
  url: string;
  requests: ShimRequest[];
}

const V1_PRECISION: Record<string, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };

/**
 * Accepts /api/v2/write?org=&bucket=db/rp&precision= and forwards the body unchanged (gzip included)
 * to influxd's /write?db=&rp=&precision=, returning influxd's status; 503 while influxd is down, so
 * the client retries as it would against a real 2.x that is unavailable.
 */
export async function startV2Shim(t: Teardown, influxd: Pick<Influxd, 'url'>): Promise<V2Shim> {
  const requests: ShimRequest[] = [];
  const server = createHttpServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://shim');
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const rec: ShimRequest = { path: u.pathname + u.search, authorization: req.headers.authorization,
        contentEncoding: req.headers['content-encoding'], status: 0 };
      requests.push(rec);
      const reply = (status: number, body = '', type = 'application/json'): void => {
        rec.status = status;
        res.writeHead(status, body ? { 'content-type': type } : {});
        res.end(body);
      };
      if (u.pathname !== '/api/v2/write' || req.method !== 'POST') return reply(404, '{"code":"not found","message":"shim: only /api/v2/write"}');
      const bucket = u.searchParams.get('bucket') ?? '';
      const [db, rp] = bucket.split('/', 2) as [string, string | undefined];
      const precision = V1_PRECISION[u.searchParams.get('precision') ?? 'ns'] ?? 'n';
      const q = new URLSearchParams({ db, precision, ...(rp ? { rp } : {}) });
      const headers: Record<string, string> = { 'content-type': req.headers['content-type'] ?? 'text/plain' };
      if (req.headers['content-encoding']) headers['content-encoding'] = req.headers['content-encoding'];
      httpCall(`${influxd.url}/write?${q}`, 'POST', Buffer.concat(parts), headers)
        .then((r) => reply(r.status, r.body, String(r.headers['content-type'] ?? 'application/json')))
        .catch(() => reply(503, '{"code":"unavailable","message":"shim: influxd is down"}'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${port}`, requests };
}
