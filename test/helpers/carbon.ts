// A private carbon-cache for tests and benchmarks (../shared/recipes/graphite.md): its own carbon.conf
// (never Debian's, which drops new series), storage on tmpfs when there is one, loopback ports, and a
// whisper reader in Node so points are read back without python.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort, freeUdpPort, retryPortClash } from './ports.js';
import { killHard, stopGently } from './process.js';

export const CARBON_CACHE = process.env.CARBON_CACHE_PATH || '/usr/bin/carbon-cache';

export function carbonMissing(): string | null {
  return existsSync(CARBON_CACHE) ? null : `carbon-cache not found at ${CARBON_CACHE} (apt-get install graphite-carbon)`;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface CarbonOptions {
  /** storage-schemas.conf retentions for every series (default 10s:1h: 4 KB per series) */
  retentions?: string;
  /** whole storage-schemas.conf / storage-aggregation.conf texts (e.g. the shipped examples) */
  schemas?: string;
  aggregation?: string;
  udp?: boolean;
}

/** Whisper header: aggregation method and archives (seconds per point, points). */
export interface WhisperInfo {
  aggregation: 'average' | 'sum' | 'last' | 'max' | 'min' | 'avg_zero' | 'absmax' | 'absmin' | 'unknown';
  xFilesFactor: number;
  archives: { secondsPerPoint: number; points: number }[];
}

const AGGREGATIONS = ['unknown', 'average', 'sum', 'last', 'max', 'min', 'avg_zero', 'absmax', 'absmin'] as const;

export function whisperInfo(file: string): WhisperInfo | null {
  if (!existsSync(file)) return null;
  const b = readFileSync(file);
  if (b.length < 16) return null;
  const n = b.readUInt32BE(12);
  if (b.length < 16 + 12 * n) return null;
  const archives = Array.from({ length: n }, (_, i) => ({ secondsPerPoint: b.readUInt32BE(20 + 12 * i), points: b.readUInt32BE(24 + 12 * i) }));
  return { aggregation: AGGREGATIONS[b.readUInt32BE(0)] ?? 'unknown', xFilesFactor: b.readFloatBE(8), archives };
}

export interface Carbon {
  linePort: number;
  udpPort: number;
  dir: string;
  /** the whisper file of a metric path (plain or tagged, as carbon names them) */
  file(metric: string): string;
  /** value stored for `metric` in the slot holding `ts` (null: no point), from the first archive */
  value(metric: string, ts: number): number | null;
  /** polls until every [metric, ts] has a point (or the timeout); returns the ones still missing */
  waitFor(points: [string, number][], timeoutMs?: number): Promise<[string, number][]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGKILL, as a crash: points still in carbon's cache are lost; start() brings it back */
  kill(): Promise<void>;
  log(): string;
}

function conf(d: string, line: number, pickle: number, cache: number, udp: number, useUdp: boolean): string {
  return `[cache]
STORAGE_DIR = ${d}/storage
LOCAL_DATA_DIR = ${d}/storage/whisper
WHITELISTS_DIR = ${d}/storage/lists
CONF_DIR = ${d}/conf
LOG_DIR = ${d}/log
PID_DIR = ${d}/run
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = ${line}
ENABLE_UDP_LISTENER = ${useUdp ? 'True' : 'False'}
UDP_RECEIVER_INTERFACE = 127.0.0.1
UDP_RECEIVER_PORT = ${udp}
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = ${pickle}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = ${cache}
ENABLE_TAGS = False
TAG_HASH_FILENAMES = True
ENABLE_MANHOLE = False
CARBON_METRIC_INTERVAL = 0
LOG_UPDATES = False
LOG_CREATES = False
WHISPER_FALLOCATE_CREATE = True
`;
}

/**
 * carbon's TaggedSeries.encode with TAG_HASH_FILENAMES (its default, set in our carbon.conf): a tagged
 * series is _tagged/<sha256[0:3]>/<sha256[3:6]>/<sha256>.wsp, the hash of "name;k=v;…" (tags sorted).
 */
export function whisperRelPath(metric: string): string {
  if (metric.includes(';')) {
    const h = createHash('sha256').update(metric, 'utf8').digest('hex');
    return join('_tagged', h.slice(0, 3), h.slice(3, 6), `${h}.wsp`);
  }
  return `${metric.replace(/\./g, '/')}.wsp`;
}

/**
 * Reads one point from a whisper file: header (aggregation, max retention, xff, archive count), archive
 * infos (offset, seconds per point, points), then (uint32 time, float64 value) big-endian per slot.
 * A slot holds a point only when its stored time equals the slot's time.
 */
export function readWhisper(file: string, ts: number): number | null {
  if (!existsSync(file)) return null;
  const b = readFileSync(file);
  // a file being created can be shorter than its header for a moment
  if (b.length < 28) return null;
  const archives = b.readUInt32BE(12);
  if (archives < 1) return null;
  const offset = b.readUInt32BE(16), step = b.readUInt32BE(20), points = b.readUInt32BE(24);
  const slotTime = ts - (ts % step);
  if (offset + 12 > b.length) return null;
  const base = b.readUInt32BE(offset);
  if (base === 0) return null;
  const idx = (((slotTime - base) / step) % points + points) % points;
  const at = offset + idx * 12;
  if (offset + 12 > b.length || at + 12 > b.length || b.readUInt32BE(at) !== slotTime) return null;
  return b.readDoubleBE(at + 4);
}

/** Starts carbon-cache on free loopback ports; stopped and its directory removed at `t`'s teardown. */
export function startCarbon(t: Teardown, opts: CarbonOptions = {}): Promise<Carbon> {
  return retryPortClash(() => startCarbonOnce(t, opts));
}

async function startCarbonOnce(t: Teardown, opts: CarbonOptions): Promise<Carbon> {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'flowbridge-carbon-'));
  for (const d of ['conf', 'log', 'run', 'storage/whisper', 'storage/lists']) mkdirSync(join(dir, d), { recursive: true });
  const [line, pickle, cache, udp] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort(), await freeUdpPort()];
  const confFile = join(dir, 'conf', 'carbon.conf');
  writeFileSync(confFile, conf(dir, line, pickle, cache, udp, opts.udp === true));
  writeFileSync(join(dir, 'conf', 'storage-schemas.conf'), opts.schemas ?? `[all]\npattern = .*\nretentions = ${opts.retentions ?? '10s:1h'}\n`);
  // last value per slot, no averaging: a read-back must equal what was written
  writeFileSync(join(dir, 'conf', 'storage-aggregation.conf'), opts.aggregation ?? '[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = last\n');
  let child: ChildProcess | undefined;
  let output = '';
  const whisperDir = join(dir, 'storage', 'whisper');

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await stopGently(c);
  };

  const start = async (): Promise<void> => {
    output = '';
    const c = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', CARBON_CACHE, `--config=${confFile}`,
      `--pidfile=${join(dir, 'run', 'carbon-cache.pid')}`, '--nodaemon', 'start'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
    child = c;
    const onOut = (d: Buffer): void => { output = (output + d.toString()).slice(-20_000); };
    c.stdout!.on('data', onOut);
    c.stderr!.on('data', onOut);
    const deadline = Date.now() + 20_000;
    // a stale carbon on the port would fool a bare port check: also wait for this one's own message
    for (;;) {
      if (c.exitCode !== null) throw new Error(`carbon-cache exited with ${c.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`carbon-cache not ready after 20 s: ${output}`);
      if (output.includes(`CarbonReceiverFactory starting on ${line}`)) {
        const ok = await new Promise<boolean>((resolve) => {
          const s = netConnect({ host: '127.0.0.1', port: line }, () => { s.destroy(); resolve(true); });
          s.on('error', () => resolve(false));
        });
        if (ok) return;
      }
      await sleep(20);
    }
  };

  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await killHard(c);
    // a crash leaves the pid file behind: should its pid be reused meanwhile, carbon would refuse to start
    rmSync(join(dir, 'run', 'carbon-cache.pid'), { force: true });
  };

  const file = (metric: string): string => join(whisperDir, whisperRelPath(metric));
  const value = (metric: string, ts: number): number | null => readWhisper(file(metric), ts);

  t.teardown(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return {
    linePort: line, udpPort: udp, dir, file, value,
    async waitFor(points, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let missing = points;
      for (;;) {
        missing = missing.filter(([m, ts]) => value(m, ts) === null);
        if (missing.length === 0 || Date.now() > deadline) return missing;
        await sleep(50);
      }
    },
    stop, start, kill, log: () => output,
  };
}
