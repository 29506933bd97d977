// Table-driven replay cases (test/cases/README.md): every folder under test/cases/ holds captures, a
// config and the expected output of `flowbridge replay CAPTURES --config CONFIG --output json`. Each is
// replayed through the built CLI (dist/main.js, as a user runs it) and compared; FLOWBRIDGE_UPDATE_CASES=1
// rewrites the expected files instead. Whether comparing or rewriting, the output must also keep the
// summary's documented sums (docs/output.md) and, for a case with a truth.json, add up to that ground truth.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { BlockList, isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { IntervalSummary } from '../src/aggregate/summary.js';
import { directionTotals } from './helpers/totals.js';

const CASES = new URL('./cases/', import.meta.url).pathname;
const BIN = new URL('../dist/main.js', import.meta.url).pathname;
const UPDATE = process.env.FLOWBRIDGE_UPDATE_CASES === '1';
const CAPTURE = /\.(pcap|pcapng)$/;
const CONFIG = /^config\.(json|yaml|yml)$/;
/** a bare environment, so no FLOWBRIDGE_* variable of the caller changes a case */
const ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

// What legitimately varies between runs. Replay takes its clock from the capture, so stdout (summaries,
// alerts, the replay line) must be identical run after run: nothing is dropped from it. Of stderr only
// log lines of level warn (40) and above are compared (info repeats the replay line), without the
// fields pino fills from the wall clock and the host; lines that are not JSON are compared as text.
const VARYING_LOG_FIELDS = ['time', 'pid', 'hostname'];
const MIN_LOG_LEVEL = 40;

type ErrLine = Record<string, unknown> | string;

function comparableStderr(stderr: string): ErrLine[] {
  const out: ErrLine[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.trim()) continue;
    let log: Record<string, unknown> | undefined;
    try {
      const o: unknown = JSON.parse(line);
      if (o && typeof o === 'object' && typeof (o as { level?: unknown }).level === 'number') log = o as Record<string, unknown>;
    } catch { /* not a log line */ }
    if (!log) out.push(line);
    else if ((log.level as number) >= MIN_LOG_LEVEL) {
      for (const k of VARYING_LOG_FIELDS) delete log[k];
      out.push(log);
    }
  }
  return out;
}

const parseErrLines = (text: string): ErrLine[] =>
  text.split('\n').filter((l) => l.trim()).map((l) => (l.startsWith('{') ? JSON.parse(l) as Record<string, unknown> : l));
const parseJsonLines = (text: string): Record<string, unknown>[] =>
  text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);

interface Run { status: number | null; signal: string | null; stdout: string; stderr: string }

function replayCase(dir: string, captures: string[], config: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    // relative names from the case folder: messages naming a file do not depend on where the repo is
    const child = spawn(process.execPath, [BIN, 'replay', ...captures, '--config', config, '--output', 'json'], { cwd: dir, env: ENV });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => void (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** Runs `jobs` with at most `limit` at a time; the promises settle in any order. */
function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T>[] {
  let next = 0;
  const starters: (() => void)[] = [];
  const promises = jobs.map((job, i) => new Promise<T>((resolve, reject) => {
    starters[i] = () => void job().then(resolve, reject).finally(() => starters[next++]?.());
  }));
  for (; next < Math.min(limit, jobs.length); next++) starters[next]!();
  return promises;
}

// ---- ground truth ----

/** test/cases/NAME/truth.json: which truth the case's totals must add up to. */
interface CaseTruth {
  /** relative to the case folder: traffic.truth.json or a file with the same by_direction/by_local_host */
  file: string;
  /** only that address family of the truth's flows (NetFlow v5 carries no IPv6) */
  family?: 'ipv4';
  /** Σ stats.records over the summaries */
  records?: number;
}

interface TruthFile {
  home?: string[];
  by_direction: Record<string, [number, number]>;
  by_local_host: Record<string, [number, number, number, number]>;
  flows?: Record<string, [number, number]>;
}

type Totals = Pick<TruthFile, 'by_direction' | 'by_local_host'>;

/** Totals per direction and per local host of the truth's flows ("src|dst|proto|sport|dport"), classified by its home networks. */
function totalsOfFlows(truth: TruthFile, keep: (src: string) => boolean): Totals {
  const home = new BlockList();
  for (const p of truth.home ?? []) {
    const [addr, len] = p.split('/') as [string, string];
    home.addSubnet(addr, Number(len), isIPv6(addr) ? 'ipv6' : 'ipv4');
  }
  const inside = (a: string) => home.check(a, isIPv6(a) ? 'ipv6' : 'ipv4');
  const byDir: Totals['by_direction'] = {}, byHost: Totals['by_local_host'] = {};
  for (const [key, [bytes, packets]] of Object.entries(truth.flows ?? {})) {
    const [src, dst] = key.split('|') as [string, string];
    if (!keep(src)) continue;
    const s = inside(src), d = inside(dst);
    const dir = s && d ? 'internal' : s ? 'out' : d ? 'in' : 'external';
    const e = (byDir[dir] ??= [0, 0]);
    e[0] += bytes;
    e[1] += packets;
    if (s) { const h = (byHost[src] ??= [0, 0, 0, 0]); h[2] += bytes; h[3] += packets; }
    if (d) { const h = (byHost[dst] ??= [0, 0, 0, 0]); h[0] += bytes; h[1] += packets; }
  }
  return { by_direction: byDir, by_local_host: byHost };
}

/** {host: [in bytes, in packets, out bytes, out packets]} summed over the summaries. */
function hostTotals(summaries: IntervalSummary[]): Totals['by_local_host'] {
  const tot: Totals['by_local_host'] = {};
  for (const s of summaries) {
    for (const h of s.hosts) {
      const e = (tot[h.host] ??= [0, 0, 0, 0]);
      const o = h.direction === 'in' ? 0 : 2;
      e[o] += h.bytes;
      e[o + 1] += h.packets;
    }
  }
  return tot;
}

function checkTruth(t: Test, dir: string, summaries: IntervalSummary[]): void {
  const spec = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as CaseTruth;
  const truth = JSON.parse(readFileSync(join(dir, spec.file), 'utf8')) as TruthFile;
  let want: Totals = truth;
  if (spec.family) {
    t.strictSame(totalsOfFlows(truth, () => true), { by_direction: truth.by_direction, by_local_host: truth.by_local_host },
      'the truth\'s flows add up to its own totals');
    want = totalsOfFlows(truth, (src) => !isIPv6(src));
  }
  t.strictSame(directionTotals(summaries), want.by_direction, `totals per direction equal ${spec.file}${spec.family ? ` (${spec.family})` : ''}`);
  t.ok(summaries.every((s) => s.hostsOther.in.bytes + s.hostsOther.out.bytes === 0), 'every host fits the top-N table');
  t.strictSame(hostTotals(summaries), want.by_local_host, 'totals per local host equal the truth');
  if (spec.records !== undefined) t.equal(summaries.reduce((a, s) => a + s.stats.records, 0), spec.records, 'every record counted once');
}

// ---- what every replay's output must keep (docs/output.md) ----

type Counters = { bytes: number; packets: number; flows: number };
const METRICS = ['bytes', 'packets', 'flows'] as const;
const sum = (rows: Iterable<Counters>, m: keyof Counters) => { let n = 0; for (const r of rows) n += r[m]; return n; };

function checkSummaries(t: Test, lines: Record<string, unknown>[]): IntervalSummary[] {
  const summaries = lines.filter((l) => l.type === undefined) as unknown as IntervalSummary[];
  const last = lines.at(-1) as { type?: string; intervals?: number; skippedIntervals?: number } | undefined;
  if (!t.equal(last?.type, 'replay', 'the last line is the replay line')) return summaries;
  t.equal(summaries.length, last!.intervals, 'one summary per interval the replay line counts');
  if (last!.skippedIntervals === 0) {
    t.ok(summaries.every((s, i) => i === 0 || s.start === summaries[i - 1]!.end), 'no interval skipped: they are consecutive');
  }
  const bad: string[] = [];
  for (const s of summaries) {
    const d = s.directions;
    for (const m of METRICS) {
      for (const dir of ['in', 'out'] as const) {
        const hosts = sum(s.hosts.filter((h) => h.direction === dir), m) + s.hostsOther[dir][m];
        if (hosts !== d[dir][m] + d.internal[m]) bad.push(`${s.start} hosts ${dir} ${m}`);
      }
      for (const dir of Object.keys(d) as (keyof typeof d)[]) {
        const ports = sum(s.ports.filter((p) => p.direction === dir), m) + (s.portsOther[dir]?.[m] ?? 0);
        if (ports !== d[dir][m]) bad.push(`${s.start} ports ${dir} ${m}`);
      }
    }
  }
  t.same(bad, [], 'Σ hosts + hostsOther and Σ ports + portsOther equal the directions in every summary');
  return summaries;
}

// ---- the cases ----

const names = readdirSync(CASES).filter((n) => statSync(join(CASES, n)).isDirectory()).sort();
const layouts = names.map((name) => {
  const dir = join(CASES, name);
  const files = readdirSync(dir).sort();
  return { name, dir, captures: files.filter((f) => CAPTURE.test(f)), configs: files.filter((f) => CONFIG.test(f)) };
});
const runnable = (l: (typeof layouts)[number]) => existsSync(BIN) && l.captures.length > 0 && l.configs.length === 1;
const runs = pool(layouts.map((l) => () => (runnable(l) ? replayCase(l.dir, l.captures, l.configs[0]!) : Promise.resolve(undefined))),
  Math.min(2, availableParallelism()));

t.ok(existsSync(BIN), 'dist/main.js is built (npm run build)');
t.ok(names.length > 0, 'test/cases holds case folders');

layouts.forEach(({ name, dir, captures, configs }, i) => {
  t.test(name, async (t) => {
    t.ok(captures.length > 0, 'the folder holds at least one .pcap or .pcapng');
    t.equal(configs.length, 1, 'the folder holds one config.json, config.yaml or config.yml');
    const run = await runs[i]!;
    if (!run) return;
    t.equal(run.signal, null, 'the replay ended by itself');
    const got = { stdout: run.stdout, err: comparableStderr(run.stderr), status: run.status ?? -1 };
    const file = (f: string) => join(dir, f);

    if (UPDATE) {
      writeFileSync(file('expected.jsonl'), got.stdout);
      if (got.err.length) writeFileSync(file('expected.err'), got.err.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
      else rmSync(file('expected.err'), { force: true });
      if (got.status !== 0) writeFileSync(file('expected.status'), `${got.status}\n`);
      else rmSync(file('expected.status'), { force: true });
      t.comment(`${name}: expected files rewritten; review them (git diff) before committing`);
    } else {
      if (!t.ok(existsSync(file('expected.jsonl')), 'expected.jsonl exists (FLOWBRIDGE_UPDATE_CASES=1 writes it)')) return;
      const status = existsSync(file('expected.status')) ? Number(readFileSync(file('expected.status'), 'utf8').trim()) : 0;
      t.equal(got.status, status, `exit status ${status}`, { stderr: run.stderr });
      t.strictSame(parseJsonLines(got.stdout), parseJsonLines(readFileSync(file('expected.jsonl'), 'utf8')), 'stdout equals expected.jsonl');
      const err = existsSync(file('expected.err')) ? parseErrLines(readFileSync(file('expected.err'), 'utf8')) : [];
      t.strictSame(got.err, err, 'warnings and errors on stderr equal expected.err (none when it is absent)');
    }

    if (got.status !== 0) return;
    const summaries = checkSummaries(t, parseJsonLines(got.stdout));
    if (existsSync(file('truth.json'))) checkTruth(t, dir, summaries);
  });
});
