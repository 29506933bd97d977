// Hostile flood (issue 17's goal): the built collector (dist/main.js, live, web page on, state file on)
// takes 50,000 datagrams/s for 60 s from a sender process: a tenth sound NetFlow v5 from 127.0.0.1, the
// rest crafted (bench/hostile-gen.ts) from 1,000 loopback addresses (127.1.x.y, so each is a spoofed
// exporter) and from made-up sFlow agents. /healthz is asked every 200 ms (its answer time recorded),
// the collector's RSS read from /proc every second. Goals: /healthz within 1 s throughout, RSS under
// 200 MB, the collector still counting the sound exporter's records, and SIGTERM ending it.
// BENCH_HOSTILE_SECONDS, BENCH_HOSTILE_RATE (datagrams/s) and BENCH_HOSTILE_SOURCES change it;
// BENCH_HOSTILE_NODE_ARGS adds node options to the collector (profiling), BENCH_HOSTILE_ARGS its own
// options (e.g. lower aggregate.maxHosts and templates.max to see what they bound).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshen, HostileMix } from './hostile-gen.js';
import type { BenchRow } from './report.js';

const SELF = fileURLToPath(import.meta.url);
// the built collector (npm run build), from bench/ (tests) or dist-bench/bench/ (npm run bench)
const BIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../dist/main.js' : '../../dist/main.js', import.meta.url));

export interface HostileParams {
  /** the flood's length, after `warmup` seconds of the sound exporter alone (a collector is up before an attack starts) */
  seconds: number;
  warmup: number;
  /** datagrams/s during the flood; the sound exporter sends a tenth of that throughout */
  rate: number;
  sources: number;
}

export function hostileParams(env = process.env): HostileParams {
  return {
    seconds: Number(env.BENCH_HOSTILE_SECONDS ?? 60),
    warmup: Number(env.BENCH_HOSTILE_WARMUP ?? 15),
    rate: Number(env.BENCH_HOSTILE_RATE ?? 50_000),
    sources: Number(env.BENCH_HOSTILE_SOURCES ?? 1000),
  };
}

interface SendResult { datagrams: number; sound: number; seconds: number; errors: number }

// ---- sender (child process) -------------------------------------------------------------------

async function bindAll(sources: number): Promise<Socket[]> {
  const socks: Socket[] = [];
  for (let i = 0; i <= sources; i++) {
    const s = createSocket('udp4');
    s.on('error', () => undefined);
    const addr = i === 0 ? '127.0.0.1' : `127.1.${i >> 8}.${i & 255}`;
    await new Promise<void>((r) => s.bind(0, addr, r));
    socks.push(s);
  }
  return socks;
}

/** Datagrams built before sending (the crafted ones cost more to build than to send); the sound ones are made as sent. */
const POOL = 40_000;

async function sender(port: number, p: HostileParams): Promise<SendResult> {
  const socks = await bindAll(p.sources);
  const mix = new HostileMix(p.sources);
  const pool = Array.from({ length: POOL }, () => mix.next(Date.now()));
  process.send!({ ready: true });
  await new Promise<void>((r) => process.once('message', () => r()));
  let sent = 0, sound = 0, errors = 0, warm = 0;
  const onSent = (err: Error | null) => { if (err) errors++; };
  const t0 = performance.now(), flood = t0 + p.warmup * 1000, end = flood + p.seconds * 1000;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      if (now < flood) {
        // warm-up: the sound exporter's tenth of the rate
        for (const due = Math.floor(((now - t0) * p.rate) / 10_000); warm < due; warm++) {
          const d = mix.sound(Date.now());
          socks[0]!.send(d.buf, port, '127.0.0.1', onSent);
          sound += d.sound;
        }
        setTimeout(tick, 1);
        return;
      }
      const due = Math.floor(((Math.min(now, end) - flood) * p.rate) / 1000);
      for (let n = 0; sent < due && n < 2000; n++) {
        let d = pool[sent % POOL]!;
        if (d.source === 0) d = mix.sound(Date.now());
        else freshen(d);
        socks[d.source]!.send(d.buf, port, '127.0.0.1', onSent);
        sound += d.sound;
        sent++;
      }
      if (now >= end && sent >= due) return done();
      setTimeout(tick, 1);
    };
    tick();
  });
  const seconds = (performance.now() - flood) / 1000;
  await new Promise<void>((r) => setTimeout(r, 300));
  for (const s of socks) s.close();
  return { datagrams: sent, sound, seconds, errors };
}

if (process.argv[1] === SELF && process.argv[2] === '--hostile-sender') {
  process.once('message', (m: { port: number; p: HostileParams }) => {
    void sender(m.port, m.p).then((r) => process.send!({ result: r }, () => process.exit(0)));
  });
}

async function send(port: number, p: HostileParams): Promise<SendResult> {
  // from the sources (the drill under tap) the child needs this process's TypeScript loader
  const execArgv = SELF.endsWith('.ts') ? process.execArgv : [];
  const child: ChildProcess = fork(SELF, ['--hostile-sender'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  try {
    child.send({ port, p });
    return await new Promise<SendResult>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; result?: SendResult }) => {
        if (m.ready) child.send('go');
        else if (m.result) resolve(m.result);
      });
      child.once('exit', (code) => reject(new Error(`sender exited with ${code}`)));
    });
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

// ---- the collector ----------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Sum of a Prometheus metric's samples (optionally those whose labels contain `match`). */
export function promTotal(text: string, name: string, match = ''): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`flowbridge_${name}`) || !line.includes(match)) continue;
    const rest = line.slice(`flowbridge_${name}`.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

export interface HostileResult {
  sent: SendResult;
  /** /healthz answer times, ms (a timed-out ask counts as its timeout) */
  health: number[];
  healthFailures: number;
  rss: number[];
  /** the collector's own memory figures (MB) read from /metrics every 5 s, at the read with the largest RSS */
  peak: { rss: number; heapUsed: number; heapTotal: number; external: number };
  /** records the collector counted from the sound exporter */
  soundCounted: number;
  metrics: string;
  exitCode: number | null;
  stopMs: number;
  stderrTail: string;
}

/** Runs the flood against `node dist/main.js` and measures it (used by the bench and the drill test). */
export async function hostileRun(p: HostileParams): Promise<HostileResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-hostile-'));
  // BENCH_HOSTILE_NODE_ARGS: node options for the collector, e.g. "--cpu-prof --cpu-prof-dir=DIR"
  const nodeArgs = (process.env.BENCH_HOSTILE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, ['--max-semi-space-size=8', ...nodeArgs, BIN, '--home', '10.0.0.0/8', '--listen-netflow', '127.0.0.1:0',
    '--listen-sflow', '', '--web-listen', '127.0.0.1:0', '--output', 'none', '--state-file', join(dir, 'state.json'),
    '--shutdown-timeout', '5s', ...(process.env.BENCH_HOSTILE_ARGS ?? '').split(' ').filter(Boolean)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-200_000); });
  try {
    const deadline = Date.now() + 20_000;
    let port = 0, web = '';
    while (!(port && web)) {
      if (child.exitCode !== null) throw new Error(`flowbridge exited with ${child.exitCode}: ${err}`);
      if (Date.now() > deadline) throw new Error(`flowbridge did not start within 20 s: ${err}`);
      port ||= Number(/"port":(\d+)[^\n]*"msg":"listening"/.exec(err)?.[1] ?? 0);
      web ||= /"url":"(http:\/\/127\.0\.0\.1:\d+)\/"[^\n]*"msg":"web page"/.exec(err)?.[1] ?? '';
      await sleep(20);
    }
    const health: number[] = [], rss: number[] = [];
    let failures = 0, polling = true;
    const poll = (async () => {
      while (polling) {
        const t0 = performance.now();
        try {
          const r = await fetch(`${web}/healthz`, { signal: AbortSignal.timeout(5000) });
          await r.text();
          if (r.status !== 200) failures++;
        } catch {
          failures++;
        }
        health.push(performance.now() - t0);
        await sleep(200);
      }
    })();
    const rssTimer = setInterval(() => rss.push(rssOf(child.pid!)), 1000);
    const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
    const memTimer = setInterval(() => {
      void fetch(`${web}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => {
        const mb = (name: string) => promTotal(t, name) / 2 ** 20;
        if (mb('resident_memory_bytes') > peak.rss) {
          Object.assign(peak, { rss: mb('resident_memory_bytes'), heapUsed: mb('heap_used_bytes'), heapTotal: mb('heap_total_bytes'), external: mb('external_memory_bytes') });
        }
      }, () => undefined);
    }, 5000);
    let sent: SendResult;
    try {
      sent = await send(port, p);
      await sleep(2000); // the backlog drains
    } finally {
      polling = false;
      await poll;
      clearInterval(rssTimer);
      clearInterval(memTimer);
    }
    const metrics = await (await fetch(`${web}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const t0 = Date.now();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const exitCode = await Promise.race([exited, sleep(30_000).then(() => null)]);
    return {
      sent, health, healthFailures: failures, rss, peak, metrics, exitCode, stopMs: Date.now() - t0,
      soundCounted: promTotal(metrics, 'records_total', 'exporter="127.0.0.1"'), stderrTail: err.slice(-2000),
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

export async function run(): Promise<BenchRow[]> {
  const p = hostileParams();
  const r = await hostileRun(p);
  const m = (name: string, match = '') => promTotal(r.metrics, name, match);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  return [
    { name: 'sender', value: r.sent.datagrams / r.sent.seconds, unit: 'datagrams/s',
      notes: `${fmt(r.sent.datagrams)} datagrams in ${r.sent.seconds.toFixed(1)} s from ${p.sources} spoofed sources and the sound exporter, after ${p.warmup} s of the sound exporter alone; ${r.sent.errors} send errors` },
    { name: '/healthz answer time, max', value: Math.max(...r.health), unit: 'ms',
      notes: `p99 ${quantile(r.health, 0.99).toFixed(0)} ms, median ${quantile(r.health, 0.5).toFixed(1)} ms over ${r.health.length} asks every 200 ms; ${r.healthFailures} failed; goal < 1,000 ms throughout` },
    { name: 'collector RSS, max', value: Math.max(...r.rss), unit: 'MB',
      notes: `first ${r.rss[0]?.toFixed(0)} MB, last ${r.rss.at(-1)?.toFixed(0)} MB, ${r.rss.length} samples; goal < 200 MB; ` +
        `at the largest of the 5 s reads of /metrics (${r.peak.rss.toFixed(0)} MB): V8 heap ${r.peak.heapUsed.toFixed(0)} MB used of ${r.peak.heapTotal.toFixed(0)}, ` +
        `Buffers ${r.peak.external.toFixed(0)} MB` },
    { name: 'sound exporter records counted', value: r.sent.sound > 0 ? (100 * r.soundCounted) / r.sent.sound : 0, unit: '%',
      notes: `${fmt(r.soundCounted)} of ${fmt(r.sent.sound)}; the collector received ${fmt(m('datagrams_received_total'))} datagrams, decoded ${fmt(m('datagrams_decoded_total'))}; ` +
        `decode errors ${fmt(m('decode_errors_total'))}, records adjusted ${fmt(m('records_adjusted_total'))}, templates refused ${fmt(m('templates_refused_total'))}, ` +
        `template misses ${fmt(m('template_misses_total'))}, log lines suppressed ${fmt(m('logs_suppressed_total'))}; shed undecoded: ` +
        ['decoder_behind', 'unknown_source', 'socket_buffer'].map((why) => `${why} ${fmt(promTotal(r.metrics, 'datagrams_shed_total', `reason="${why}"`))}`).join(', ') },
    { name: 'SIGTERM to exit', value: r.stopMs, unit: 'ms', notes: `exit code ${r.exitCode}` },
  ];
}
