// `flowbridge replay` as a user runs it (the built bin, real processes, captures built here): time
// jumps, the figures line, a reader that goes away, and sinks that cannot be reached.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cat, set, u32, v9, v9OptTpl } from './decode/nf-build.js';
import { directionTotals, parseLines } from './helpers/totals.js';
import { v5At, writePcap, type Captured } from './helpers/pcap-write.js';

const BIN = new URL('../dist/main.js', import.meta.url).pathname;
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
const HOME = ['--home', '10.1.0.0/16'];

const dir = mkdtempSync(join(tmpdir(), 'flowbridge-replay-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const pcap = (name: string, packets: Captured[]) => writePcap(join(dir, name), packets);
const at = (ms: number, host = '10.1.0.1'): Captured => ({ tsMs: ms, payload: v5At(ms, host, '198.51.100.1') });

function run(args: string[], timeout = 60_000) {
  return spawnSync(process.execPath, [BIN, 'replay', ...args], { encoding: 'utf8', env, timeout, maxBuffer: 64 << 20 });
}

/** The `"type":"replay"` line: the last one on stdout. */
function figures(stdout: string): Record<string, unknown> {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}

const Y2015 = Date.UTC(2015, 2, 1, 12), Y2024 = Date.UTC(2024, 5, 1, 12), Y2100 = Date.UTC(2100, 0, 1);

t.test('captures years apart, backwards and far in the future: cost follows the records, nothing lost', async (t) => {
  const old = pcap('old.pcap', [at(Y2015)]), recent = pcap('new.pcap', [at(Y2024, '10.1.0.2')]);
  const future = pcap('future.pcap', [at(Y2015), at(Y2100, '10.1.0.2'), at(Y2015 + 1000, '10.1.0.3')]);
  const cases: [string, string[]][] = [
    ['forward across files', [old, recent]],
    ['backward across files', [recent, old]],
    ['one datagram far in the future', [future]],
  ];
  for (const [name, files] of cases) {
    for (const pace of [[], ['--realtime']]) {
      const r = run([...files, ...HOME, '--output', 'json', ...pace], 30_000);
      const what = `${name}${pace.length ? ' (--realtime)' : ''}`;
      t.equal(r.status, 0, `${what}: ${r.stderr.slice(-400)}`);
      // no timed assertion (a loaded CI machine): the summary count below shows the cost follows the
      // records, and run() gives up after 30 s
      const summaries = parseLines(r.stdout);
      // at most hold (75 s) + 64 empty intervals after a jump, not one per empty interval of the years
      t.ok(summaries.length <= 3 * (8 + 64 + 2), `${what}: ${summaries.length} summaries`);
      const sent = files.length === 1 ? 3 : 2;
      t.same(directionTotals(summaries), { out: [1000 * sent, 2 * sent] }, `${what}: every record counted`);
      t.equal(figures(r.stdout).records, sent);
    }
  }
});

t.test('a capture of options only prints its figures as the last JSON line', async (t) => {
  const ms = Y2024;
  const opts = v9({ sysUptime: 100_000, unixSecs: Math.floor(ms / 1000) },
    set(1, v9OptTpl(256, [[1, 4]], [[34, 4]])), set(256, cat(u32(0), u32(100))));
  const r = run([pcap('options.pcap', [{ tsMs: ms, payload: opts }]), '--output', 'json']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.trim().split('\n').length, 1, 'no interval, one line');
  t.match(figures(r.stdout), { type: 'replay', files: 1, packets: 1, datagrams: 1, records: 0, decodeErrors: 0, templatesLearned: 1, intervals: 0 });
  t.match(r.stderr, /"msg":"replay done"/);
});

t.test('--output json | head -1: a reader that goes away ends the replay quietly, status 0', async (t) => {
  // 2,000 intervals: far more than a pipe holds, so the writer meets the closed pipe
  const many = pcap('many.pcap', Array.from({ length: 2000 }, (_, i) => at(Y2024 + i * 10_000)));
  const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" replay "${many}" --output json | head -1`],
    { encoding: 'utf8', env, timeout: 60_000 });
  t.equal(r.status, 0, r.stderr.slice(-600));
  t.equal(r.stdout.trim().split('\n').length, 1);
  t.notMatch(r.stderr, /EPIPE|Unhandled|\n\s+at /, 'no error, no stack');
  t.match(r.stderr, /"cutShort":true[^\n]*"msg":"replay done"/, 'reading stopped early');
});

/** A local TCP port nothing listens on (connections are refused). */
async function refusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

t.test('a sink that refuses every line: status 1 and one line naming the sink, the count and the reason', async (t) => {
  const file = pcap('two.pcap', [at(Y2024), at(Y2024 + 30_000, '10.1.0.2')]);
  const port = await refusedPort();
  const sinks: [string, string[]][] = [
    ['graphite', ['--graphite-enabled', 'true', '--graphite-address', `127.0.0.1:${port}`]],
    ['influx', ['--influx-enabled', 'true', '--influx-url', `http://127.0.0.1:${port}`, '--influx-token', 'x']],
  ];
  for (const [sink, args] of sinks) {
    const r = run([file, ...HOME, '--output', 'json', '--shutdown-timeout', '2s', ...args]);
    t.equal(r.status, 1, `${sink}: ${r.stderr.slice(-400)}`);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('flowbridge:'));
    t.equal(lines.length, 1, `${sink}: one line`);
    t.match(lines[0], new RegExp(`^flowbridge: sink ${sink} \\((graphite\\.address|influx\\.url) [^)]+\\) lost \\d+ of \\d+ lines: .*ECONNREFUSED`), sink);
    const lost = figures(r.stdout).linesLost as Record<string, number>;
    t.ok(lost[sink]! > 0, `${sink}: the figures line counts the lost lines`);
  }
});
