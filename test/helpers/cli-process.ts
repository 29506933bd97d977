// The real CLI (dist/main.js) as a child process for drills: its JSON lines on stdout, its log on
// stderr, the ports it bound (read from the log, so any free port works), and /metrics parsed.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import type { AlertEvent } from '../../src/alert/event.js';
import { cat, ip4, u16, u32, u8 } from '../decode/nf-build.js';

const BIN = new URL('../../dist/main.js', import.meta.url).pathname;

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface CliProcess {
  child: ChildProcess;
  /** the first UDP listener's port */
  udpPort: number;
  /** http://127.0.0.1:PORT of the web server ('' when started without it) */
  web: string;
  /** interval summaries written so far, in order */
  summaries(): IntervalSummary[];
  /** alerts written so far (`"type":"alert"` lines), in order */
  alerts(): AlertEvent[];
  stderr(): string;
  /** GET /metrics, parsed */
  metrics(): Promise<Prom>;
  /** SIGTERM; resolves with the exit code (null: killed after `timeoutMs`) */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Prometheus text samples: name → [labels, value][]. */
export class Prom {
  readonly samples = new Map<string, [Record<string, string>, number][]>();
  constructor(text: string) {
    for (const line of text.split('\n')) {
      const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) continue;
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
      const list = this.samples.get(m[1]!) ?? [];
      list.push([labels, Number(m[3])]);
      this.samples.set(m[1]!, list);
    }
  }

  /** sum over the samples of `name` whose labels include `labels` (0 when there are none) */
  total(name: string, labels: Record<string, string> = {}): number {
    let n = 0;
    for (const [l, v] of this.samples.get(name) ?? []) {
      if (Object.entries(labels).every(([k, x]) => l[k] === x)) n += v;
    }
    return n;
  }
}

/**
 * Starts `node dist/main.js ARGS` (with `env` added to a bare PATH and HOME) and waits (at most 20 s)
 * for its UDP listener and, unless `web` is false (`--web-enabled false`), its web server.
 */
export async function startCli(t: Teardown, args: string[], opts: { env?: Record<string, string>; web?: boolean } = {}): Promise<CliProcess> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...opts.env };
  const waitWeb = opts.web ?? true;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '', err = '', parsed = 0;
  const summaries: IntervalSummary[] = [];
  const alerts: AlertEvent[] = [];
  const parse = (): void => {
    const end = out.lastIndexOf('\n');
    if (end < parsed) return;
    for (const line of out.slice(parsed, end).split('\n')) {
      if (!line.startsWith('{')) continue;
      const o = JSON.parse(line) as { type?: string };
      if (o.type === 'alert') {
        const { type: _, ...a } = o;
        alerts.push(a as AlertEvent);
      } else {
        summaries.push(o as IntervalSummary);
      }
    }
    parsed = end + 1;
  };
  child.stdout!.on('data', (d: Buffer) => { out += d; });
  child.stderr!.on('data', (d: Buffer) => { err += d; });
  const deadline = Date.now() + 20_000;
  let udpPort = 0, web = '';
  while (!(udpPort && (web || !waitWeb))) {
    if (child.exitCode !== null) throw new Error(`flowbridge exited with ${child.exitCode}: ${err}`);
    if (Date.now() > deadline) throw new Error(`flowbridge did not start within 20 s: ${err}`);
    udpPort ||= Number(/"port":(\d+)[^\n]*"msg":"listening"/.exec(err)?.[1] ?? 0);
    web ||= /"url":"(http:\/\/127\.0\.0\.1:\d+)\/"[^\n]*"msg":"web page"/.exec(err)?.[1] ?? '';
    await sleep(20);
  }
  return {
    child, udpPort, web,
    summaries: () => { parse(); return summaries; },
    alerts: () => { parse(); return alerts; },
    stderr: () => err,
    metrics: async () => new Prom(await (await fetch(`${web}/metrics`)).text()),
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      // 'close', not 'exit': stdout is read to its end by then
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      parse();
      return code;
    },
  };
}

/** A NetFlow v5 datagram of `n` records src → dst (TCP to 443), `bytes` and 2 packets each, flows ending now. */
export function v5Datagram(src: string, dst: string, n: number, bytes: number): Buffer {
  const now = Date.now(), uptime = 100_000;
  const recs: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    recs.push(cat(ip4(src), ip4(dst), u32(0), u16(1), u16(2), u32(2), u32(bytes), u32(uptime - 500), u32(uptime - 100),
      u16(40000 + i), u16(443), u8(0), u8(0x18), u8(6), u8(0), u16(0), u16(0), u8(24), u8(24), u16(0)));
  }
  return cat(u16(5), u16(n), u32(uptime), u32(Math.floor(now / 1000)), u32((now % 1000) * 1e6), u32(0), u8(0), u8(0), u16(0), ...recs);
}
