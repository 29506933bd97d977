// End to end over loopback UDP: a sender child process replays a pool of synthetic datagrams
// (bench/gen.ts: Zipf over 20,000 local hosts) at a fixed rate to flowbridge's live Pipeline in this
// process, then the same stream (same seed, rate and duration) to Debian's nfacctd. Loss = records sent
// − records decoded (nfacctd: Σ FLOWS of its print plugin). Also the kernel's drop counter of each
// receiving socket (/proc/net/udp), CPU time and, for flowbridge, RSS sampled every second.
// `npm run bench udp` sweeps 0.8, 1.0, 1.3, 1.6 and 2.0M records/s, each collector at each rate for
// 75 s of warm-up and 60 s measured, and prints the curve, each knee (the highest rate under 0.1 %
// lost) and CPU per million records. BENCH_UDP_RATES (M records/s, comma-separated) changes the
// sweep; BENCH_UDP_RATE (records/s) runs one rate with every detail; BENCH_UDP_WARMUP and
// BENCH_UDP_SECONDS (seconds), BENCH_UDP_FORMAT (netflow5, netflow9, ipfix, sflow5; nfacctd only takes
// the NetFlow/IPFIX ones) apply to both; BENCH_UDP_VIEWS=none (without the default views) and
// BENCH_UDP_ASSIGN (aggregate.assign: spread, end or arrival) to flowbridge.
// flowbridge runs in this process rate after rate: its RSS includes what earlier rates left.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { LiveCollector } from '../src/live.js';
import { kernelDrops } from '../src/ingest/kernel-drops.js';
import { createGenerator, type GenFormat } from './gen.js';
import { rssMB, type BenchRow } from './report.js';

const SELF = fileURLToPath(import.meta.url);
const HOME = ['10.1.0.0/16', '2001:db8:1::/48'];

interface Params { format: GenFormat; seconds: number; warmup: number; recordsPerSec: number; pool: number; seed: number }

function params(): Params {
  const env = process.env;
  return {
    format: (env.BENCH_UDP_FORMAT as GenFormat | undefined) ?? 'netflow5',
    seconds: Number(env.BENCH_UDP_SECONDS ?? 60),
    // sent before the measured part: flows reaching back before the collector started are partly late
    // (as in any collector's first minute) and late portions are cheaper than spread ones, so a run
    // without warm-up flatters the collector; 75 s (aggregate.hold) reaches the steady state
    warmup: Number(env.BENCH_UDP_WARMUP ?? 75),
    recordsPerSec: Number(env.BENCH_UDP_RATE ?? 1_000_000),
    pool: 16384,
    seed: 7,
  };
}

/** What the sender reports when done (totals include the warm-up; seconds is the measured part). */
interface SendResult { datagrams: number; records: number; seconds: number; totalSeconds: number; errors: number; poolHosts: number; recordsPerDatagram: number }

// ---- sender (child process) -------------------------------------------------------------------

/** Distinct local (10.1/16) IPv4 hosts in a NetFlow v5 pool; 0 for other formats (not parsed here). */
function poolHosts(format: GenFormat, pool: Buffer[]): number {
  if (format !== 'netflow5') return 0;
  const seen = new Set<number>();
  for (const b of pool) {
    for (let o = 24; o + 48 <= b.length; o += 48) {
      for (const a of [b.readUInt32BE(o), b.readUInt32BE(o + 4)]) if (a >>> 16 === 0x0a01) seen.add(a);
    }
  }
  return seen.size;
}

async function sender(port: number, p: Params): Promise<SendResult> {
  const g = createGenerator(p.format, { seed: p.seed });
  const pool: Buffer[] = [], counts: number[] = [];
  const t = Date.now();
  for (let i = 0; i < p.pool; i++) {
    pool.push(Buffer.from(g.next(t)));
    counts.push(g.records);
  }
  const perDatagram = counts.reduce((a, c) => a + c, 0) / counts.length;
  const pps = p.recordsPerSec / perDatagram;
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  sock.setSendBufferSize(4 * 1024 * 1024);
  sock.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', r));
  process.send!({ ready: true });
  await new Promise<void>((r) => process.once('message', () => r()));
  let sent = 0, records = 0, errors = 0, i = 0, measuring = p.warmup <= 0, tm = performance.now();
  const onSent = (err: Error | null) => { if (err) errors++; };
  const t0 = performance.now(), end = t0 + (p.warmup + p.seconds) * 1000;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, end) - t0) * pps) / 1000);
      while (sent < due) {
        const b = pool[i]!;
        // NetFlow v5/v9/IPFIX carry the export time in the header: keep it current so the flows are
        // (sysUptime stays, so the flows' uptime-relative times move with it)
        if (p.format === 'netflow5') {
          const ms = Date.now();
          b.writeUInt32BE(Math.floor(ms / 1000), 8);
          b.writeUInt32BE((ms % 1000) * 1e6, 12);
          b.writeUInt32BE(records >>> 0, 16);
        }
        sock.send(b, onSent);
        records += counts[i]!;
        sent++;
        i = (i + 1) % pool.length;
      }
      if (!measuring && now - t0 >= p.warmup * 1000) {
        measuring = true;
        tm = now;
        process.send!({ measuring: true });
      }
      if (now >= end) return done();
      // ahead of schedule: yield the CPU (the receiver and nfacctd's processes need it), else spin
      if (due - sent < pps / 1000) setTimeout(tick, 1);
      else setImmediate(tick);
    };
    tick();
  });
  const seconds = (performance.now() - tm) / 1000, totalSeconds = (performance.now() - t0) / 1000;
  await new Promise<void>((r) => setTimeout(r, 200));
  sock.close();
  return { datagrams: sent, records, seconds, totalSeconds, errors, poolHosts: poolHosts(p.format, pool), recordsPerDatagram: perDatagram };
}

if (process.argv[1] === SELF && process.argv[2] === '--udp-sender') {
  process.once('message', (m: { port: number; p: Params }) => {
    void sender(m.port, m.p).then((r) => {
      process.send!({ result: r }, () => process.exit(0));
    });
  });
}

/** Starts the sender, waits until its pool is built, then runs it; `onMeasure` marks the end of the warm-up. */
async function send(port: number, p: Params, onMeasure: () => void): Promise<SendResult> {
  const child: ChildProcess = fork(SELF, ['--udp-sender'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  try {
    child.send({ port, p });
    return await new Promise<SendResult>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; measuring?: boolean; result?: SendResult }) => {
        if (m.ready) {
          if (p.warmup <= 0) onMeasure();
          child.send('go');
        } else if (m.measuring) onMeasure();
        else if (m.result) resolve(m.result);
      });
      child.once('exit', (code) => reject(new Error(`sender exited with ${code}`)));
    });
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

// ---- helpers ----------------------------------------------------------------------------------

/** CPU seconds (user + system) of a process and its reaped children, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return NaN;
  }
}

/** Raises net.core.rmem_max (root only) so the receive buffers asked for are granted; returns the undo. */
function raiseRmemMax(bytes: number): { before: number; after: number; restore: () => void } {
  const file = '/proc/sys/net/core/rmem_max';
  let before = NaN;
  try {
    before = Number(readFileSync(file, 'utf8'));
    if (before < bytes && process.env.BENCH_UDP_KEEP_RMEM !== '1') writeFileSync(file, String(bytes));
  } catch { /* not root, or not Linux: the OS cap stays and is reported */ }
  const after = (() => { try { return Number(readFileSync(file, 'utf8')); } catch { return NaN; } })();
  return { before, after, restore: () => { if (after !== before) try { writeFileSync(file, String(before)); } catch { /* ignore */ } } };
}

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (lost: number, sent: number) => (sent > 0 ? (100 * lost) / sent : 0);

// ---- flowbridge -------------------------------------------------------------------------------

/** One collector at one rate: what the sweep's curve is made of. */
interface Point { offered: number; received: number; loss: number; cpuPerM: number; rss: number }

async function flowbridge(p: Params, recvBuf: number): Promise<{ rows: BenchRow[]; point: Point }> {
  const cfg = loadConfig({ argv: [], env: {}, overrides: {
    networks: { home: HOME }, state: { file: '' },
    listen: { netflow: ['127.0.0.1:0'], sflow: [], extra: [], recvBufferSize: recvBuf },
    // BENCH_UDP_VIEWS=none: without the default views, to see what they cost end to end
    ...(process.env.BENCH_UDP_VIEWS === 'none' ? { views: [] } : {}),
    // BENCH_UDP_ASSIGN=end: each record in the interval of its end, to see what spreading costs end to end
    ...(process.env.BENCH_UDP_ASSIGN ? { aggregate: { assign: process.env.BENCH_UDP_ASSIGN } } : {}),
  } });
  let summaries = 0, late = 0;
  const pipe = new LiveCollector(cfg, { onSummary: (s) => {
    summaries++;
    late += s.stats.late;
  } });
  await pipe.start();
  const port = pipe.listenerAddresses()[0]!.port;
  (globalThis as { gc?: () => void }).gc?.();
  const rss: number[] = [];
  let cpu0 = process.cpuUsage(), decoded0 = 0;
  const timer = setInterval(() => rss.push(rssMB()), 1000);
  const sent = await send(port, p, () => {
    cpu0 = process.cpuUsage();
    decoded0 = pipe.pipeline.metrics.total('records_total');
    rss.push(rssMB());
  });
  await sleep(1000); // let the socket buffer drain
  clearInterval(timer);
  const cpu = process.cpuUsage(cpu0);
  const m = pipe.pipeline.metrics;
  const decoded = m.total('records_total'), datagrams = m.total('datagrams_received_total');
  const drops = kernelDrops('127.0.0.1', port) ?? NaN;
  const behind = m.total('datagrams_shed_total', { reason: 'decoder_behind' }) + m.total('datagrams_shed_total', { reason: 'unknown_source' });
  const granted = m.total('udp_recv_buffer_bytes');
  await pipe.stop();
  const lost = sent.records - decoded;
  const mem = process.memoryUsage(), mb = (n: number) => (n / 2 ** 20).toFixed(0);
  const q = Math.max(1, Math.floor(rss.length / 4));
  const early = Math.max(...rss.slice(0, q)), lateRss = Math.max(...rss.slice(-q));
  const received = (decoded - decoded0) / sent.seconds, cpuS = (cpu.user + cpu.system) / 1e6;
  const point = { offered: p.recordsPerSec, received, loss: pct(lost, sent.records), cpuPerM: cpuS / ((decoded - decoded0) / 1e6), rss: Math.max(...rss) };
  return { point, rows: [
    { name: `sender (${p.format}, to flowbridge)`, value: sent.records / sent.totalSeconds, unit: 'records/s',
      notes: `${Math.round(sent.datagrams / sent.totalSeconds).toLocaleString('en-US')} datagrams/s for ${sent.totalSeconds.toFixed(1)} s, ${sent.recordsPerDatagram.toFixed(1)} records/datagram, pool of ${p.pool} datagrams with ${sent.poolHosts.toLocaleString('en-US')} local hosts, ${sent.errors} send errors` },
    { name: 'flowbridge received', value: (decoded - decoded0) / sent.seconds, unit: 'records/s',
      notes: `${decoded.toLocaleString('en-US')} of ${sent.records.toLocaleString('en-US')} records, ${datagrams.toLocaleString('en-US')} datagrams${p.warmup > 0 ? ` (after a ${p.warmup} s warm-up)` : ''}; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s in ${sent.seconds.toFixed(0)} s; SO_RCVBUF ${(granted / 2 ** 20).toFixed(0)} MiB granted (Linux reports twice the set size)` },
    { name: 'flowbridge loss', value: pct(lost, sent.records), unit: '%', notes: `${lost.toLocaleString('en-US')} records; kernel socket drops ${drops} datagrams; shed by the receiving thread ${behind.toLocaleString('en-US')} datagrams; goal < 0.1 %` },
    { name: 'flowbridge RSS, max over the run', value: Math.max(...rss), unit: 'MB',
      notes: `first quarter max ${early} MB, last quarter max ${lateRss} MB, ${rss.length} samples; every interval sees the pool's ${sent.poolHosts.toLocaleString('en-US')} local hosts (the pool cycles every ${(p.pool / (sent.datagrams / sent.totalSeconds)).toFixed(1)} s); ${summaries} summaries, ${late} late portions; at the end the main thread's V8 heap ${mb(mem.heapTotal)} MB and array buffers ${mb(mem.arrayBuffers)} MB; goal < 200 MB, flat` },
  ] };
}

// ---- nfacctd ----------------------------------------------------------------------------------

function haveNfacctd(): boolean {
  return spawnSync('nfacctd', ['-V'], { stdio: 'ignore', timeout: 5000 }).error === undefined;
}

async function nfacctd(p: Params, recvBuf: number): Promise<{ rows: BenchRow[]; point?: Point }> {
  if (p.format === 'sflow5' || process.env.BENCH_UDP_NFACCTD === '0') return { rows: [] };
  if (!haveNfacctd()) return { rows: [{ name: 'nfacctd', value: 0, unit: '', notes: 'not installed: skipped' }] };
  const dir = mkdtempSync(join(tmpdir(), 'fb-nfacctd-'));
  const port = await freePort();
  // print plugin with aggregate "flows": one row per refresh with the number of flow records seen
  writeFileSync(join(dir, 'nfacctd.conf'), [
    'daemonize: false', 'nfacctd_ip: 127.0.0.1', `nfacctd_port: ${port}`, `nfacctd_pipe_size: ${recvBuf}`,
    'plugins: print[bench]', 'aggregate[bench]: flows', 'print_output[bench]: csv',
    `print_output_file[bench]: ${dir}/out-%s.csv`, 'print_output_file_append[bench]: true',
    'print_refresh_time[bench]: 5', 'plugin_pipe_size[bench]: 67108864', 'plugin_buffer_size[bench]: 65536',
    `logfile: ${dir}/nfacctd.log`, `pidfile: ${dir}/nfacctd.pid`, '',
  ].join('\n'));
  const proc = spawn('nfacctd', ['-f', join(dir, 'nfacctd.conf')], { stdio: 'ignore' });
  try {
    const t0 = Date.now();
    const log = () => { try { return readFileSync(join(dir, 'nfacctd.log'), 'utf8'); } catch { return ''; } };
    while (!log().includes('waiting for NetFlow') && Date.now() - t0 < 10_000) await sleep(50);
    let cpu0 = 0;
    const pids = () => [proc.pid!, ...readdirSync(dir).filter((f) => f.startsWith('nfacctd.pid-')).map((f) => Number(readFileSync(join(dir, f), 'utf8')))];
    const flowsWritten = () => {
      let n = 0;
      for (const f of readdirSync(dir).filter((x) => x.startsWith('out-'))) {
        for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
          const cols = line.split(',');
          if (cols.length === 3 && /^\d+$/.test(cols[1]!)) n += Number(cols[1]);
        }
      }
      return n;
    };
    const sent = await send(port, p, () => {
      cpu0 = pids().reduce((a, pid) => a + cpuSeconds(pid), 0);
    });
    await sleep(1000);
    const drops = kernelDrops('127.0.0.1', port) ?? NaN;
    const cpu = pids().reduce((a, pid) => a + cpuSeconds(pid), 0) - cpu0;
    proc.kill('SIGINT'); // nfacctd purges its caches on SIGINT (it ignores SIGTERM while busy)
    await Promise.race([new Promise((r) => proc.once('exit', r)), sleep(15_000)]);
    const flows = flowsWritten();
    const granted = /nfacctd_pipe_size: obtained=(\d+)/.exec(log())?.[1];
    const lost = sent.records - flows;
    // its output comes every 5 s, so what it delivered while measured is taken from its loss over the run
    const delivered = (sent.records / sent.totalSeconds) * (flows / sent.records);
    const point = { offered: p.recordsPerSec, received: delivered, loss: pct(lost, sent.records),
      cpuPerM: cpu / ((delivered * sent.seconds) / 1e6), rss: NaN };
    return { point, rows: [
      { name: `sender (${p.format}, to nfacctd)`, value: sent.records / sent.totalSeconds, unit: 'records/s',
        notes: `${Math.round(sent.datagrams / sent.totalSeconds).toLocaleString('en-US')} datagrams/s for ${sent.totalSeconds.toFixed(1)} s, the same pool and seed` },
      { name: 'nfacctd received', value: delivered, unit: 'records/s',
        notes: `${flows.toLocaleString('en-US')} of ${sent.records.toLocaleString('en-US')} records (print plugin, aggregate flows); CPU ${cpu.toFixed(1)} s in ${sent.seconds.toFixed(0)} s (core + plugin); socket buffer ${granted ? (Number(granted) / 2 ** 20).toFixed(0) : '?'} MiB granted` },
      { name: 'nfacctd loss', value: pct(lost, sent.records), unit: '%', notes: `${lost.toLocaleString('en-US')} records; kernel socket drops ${drops} datagrams` },
    ] };
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loss below which a rate counts as kept up with (the issue's knee). */
const KNEE_LOSS = 0.1;

/** The highest offered rate with loss under KNEE_LOSS, below the first one at or above it. */
function knee(points: readonly Point[]): Point | undefined {
  let k: Point | undefined;
  for (const pt of points) {
    if (pt.loss >= KNEE_LOSS) break;
    k = pt;
  }
  return k;
}

/** One line of the curve: loss at the offered rate, what got through, CPU per million records, RSS. */
function curveRow(who: string, pt: Point): BenchRow {
  return { name: `${who} at ${(pt.offered / 1e6).toFixed(2)}M records/s`, value: pt.loss, unit: '% lost',
    notes: `${Math.round(pt.received).toLocaleString('en-US')} records/s delivered; ${pt.cpuPerM.toFixed(2)} CPU s per million records` +
      (Number.isNaN(pt.rss) ? '' : `; RSS max ${pt.rss} MB`) };
}

export async function run(): Promise<BenchRow[]> {
  const p = params();
  // BENCH_UDP_RATE: one rate, every detail; otherwise a sweep over BENCH_UDP_RATES (M records/s)
  const rates = process.env.BENCH_UDP_RATE !== undefined ? [p.recordsPerSec]
    : (process.env.BENCH_UDP_RATES ?? '0.8,1.0,1.3,1.6,2.0').split(',').map((r) => Number(r) * 1e6);
  // What the collector asks for by default (listen.recvBufferSize); as root the OS cap is raised for
  // the run and restored after, so both collectors get the buffer they ask for.
  const recvBuf = 32 * 1024 * 1024;
  const rmem = raiseRmemMax(recvBuf);
  try {
    const rows: BenchRow[] = [], ours: Point[] = [], theirs: Point[] = [];
    for (const rate of rates) {
      const at = { ...p, recordsPerSec: rate };
      const fb = await flowbridge(at, recvBuf), nf = await nfacctd(at, recvBuf);
      ours.push(fb.point);
      if (nf.point) theirs.push(nf.point);
      if (rates.length === 1) rows.push(...fb.rows, ...nf.rows);
    }
    if (rates.length > 1) {
      for (const pt of ours) rows.push(curveRow('flowbridge', pt));
      for (const pt of theirs) rows.push(curveRow('nfacctd', pt));
      for (const [who, pts] of [['flowbridge', ours], ['nfacctd', theirs]] as const) {
        if (pts.length === 0) continue;
        const k = knee(pts);
        rows.push({ name: `${who} knee`, value: k ? k.offered : 0, unit: 'records/s',
          notes: k ? `highest rate swept with < ${KNEE_LOSS} % lost` : `lost ${KNEE_LOSS} % or more at every rate swept` });
      }
    }
    rows.push({ name: 'net.core.rmem_max during the run', value: rmem.after, unit: 'bytes',
      notes: rmem.after !== rmem.before ? `raised from ${rmem.before} for this run and restored after` : 'unchanged (not root, or already large enough)' });
    return rows;
  } finally {
    rmem.restore();
  }
}
