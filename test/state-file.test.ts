// A state file that can never be written (issue 17 item 3): refused at start-up with one line naming
// state.file (exit 2), and a save that starts failing later is retried with backoff, never in a loop.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep, setImmediate as yieldLoop } from 'node:timers/promises';
import { main } from '../src/cli.js';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/lib/errors.js';
import { LiveCollector } from '../src/live.js';
import { readUdpPackets } from '../src/ingest/pcap.js';
import { startCli } from './helpers/cli-process.js';
import { ipfix, set, tpl, type Field } from './decode/nf-build.js';

const BIN = new URL('../dist/main.js', import.meta.url).pathname;
const FIX = new URL('./fixtures/', import.meta.url).pathname;
const normal = [...readUdpPackets(`${FIX}pmacctd-ipfix.pcap`)].map((d) => Buffer.from(d.payload));

/** Runs dist/main.js ARGS to its end (killed after `ms`): exit code (null when killed) and stderr. */
function run(args: string[], ms = 10_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const LIVE = ['--listen-netflow', '127.0.0.1:0', '--listen-sflow', '', '--web-enabled', 'false', '--output', 'none'];

t.test('a state.file under /proc/self: the collector exits 2 with one line naming state.file', async (t) => {
  const { code, stderr } = await run([...LIVE, '--state-file', '/proc/self/flowbridge/state.json'], 8000);
  t.equal(code, 2, 'exit status 2 (not a collector left running)');
  const lines = stderr.trim().split('\n');
  t.equal(lines.length, 1, 'one line');
  t.match(lines[0], /^config: state\.file = "\/proc\/self\/flowbridge\/state\.json": expected /);
});

t.test('state.file forms that can never be written are refused by the configuration, naming the key', async (t) => {
  const dir = t.testdir({ plain: 'a regular file', sub: {} });
  const bad = ['/proc/self/state.json', '/sys/flowbridge.json', path.join(dir, 'plain', 'state.json'), path.join(dir, 'sub'), `${dir}/new/`];
  for (const file of bad) {
    try {
      loadConfig({ argv: [], env: {}, overrides: { state: { file } } });
      t.fail(`${file} accepted`);
    } catch (e) {
      t.ok(e instanceof ConfigError && e.key === 'state.file' && !/\n/.test(e.message), `${file}: ${(e as Error).message}`);
    }
  }
  for (const file of ['', path.join(dir, 'state.json'), path.join(dir, 'new', 'deeper', 'state.json'), 'relative/state.json']) {
    t.equal(loadConfig({ argv: [], env: {}, overrides: { state: { file } } }).state.file, file, `${file || '""'} is accepted`);
  }
  const err: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => { err.push(s); return true; }) as typeof process.stderr.write;
  try {
    t.equal(await main(['--print-config', '--state-file', '/proc/self/x/state.json']), 2, 'main() returns 2');
  } finally {
    process.stderr.write = write;
  }
  t.match(err.join(''), /state\.file/);
});

/** IPFIX datagrams that each change template 256 (two layouts in turn): every one is a change to save. */
const LAYOUTS: Field[][] = [[[8, 4], [12, 4], [1, 4]], [[8, 4], [12, 4], [2, 4]]];
const changing = (i: number) => ipfix({ exportTime: 1793491200 }, set(2, tpl(256, LAYOUTS[i % 2]!)));

t.test('a save that starts failing later is retried with backoff, not on every datagram, and recovers', async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'sub', 'state.json');
  const cfg = loadConfig({ argv: [], env: {}, overrides: { state: { file } } });
  const p = new LiveCollector(cfg);
  const t0 = Date.now();
  p.onDatagram(normal[0]!, '127.0.0.1', t0);
  t.ok(existsSync(file), 'the first template is saved at once');
  // the directory becomes a regular file: every save fails from now on
  rmSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'sub'), 'in the way');
  const errors = () => p.pipeline.metrics.total('state_save_errors_total');
  for (let i = 0; i < 20_000; i++) {
    p.onDatagram(changing(i), '192.0.2.9', t0 + 1000 + i * 30); // 600 s of the injected clock
    if (i % 100 === 0) await yieldLoop();
  }
  const failed = errors();
  t.comment(`20,000 changing datagrams over 600 s: ${failed} failed saves`);
  t.ok(failed >= 3 && failed <= 12, `${failed} attempts, bounded by the backoff`);
  // the directory is back; datagrams that change nothing still get the unsaved changes written
  rmSync(path.join(dir, 'sub'));
  mkdirSync(path.join(dir, 'sub'));
  for (let i = 0; i < 100; i++) p.onDatagram(normal[1]!, '127.0.0.1', t0 + 602_000 + i * 10_000);
  t.equal(errors(), failed, 'no failure once the directory is back');
  t.ok(existsSync(file), 'the changes are written once a save succeeds again');
  t.match(readFileSync(file, 'utf8'), /"192\.0\.2\.9"/);
  await p.stop();
});

t.test('the directory turns into a link to /proc/self while running: saves fail, the collector still answers and stops', async (t) => {
  const dir = t.testdir({ link: {} });
  const file = path.join(dir, 'link', 'sub', 'state.json');
  const c = await startCli(t, ['--listen-netflow', '127.0.0.1:0', '--listen-sflow', '', '--web-listen', '127.0.0.1:0',
    '--output', 'none', '--state-file', file, '--state-save-every', '1s'], { env: { FLOWBRIDGE_STATE_MIN_INTERVAL: '1s' } });
  const sock = createSocket('udp4');
  t.teardown(() => sock.close());
  const send = (b: Buffer) => new Promise<void>((r) => sock.send(b, c.udpPort, '127.0.0.1', () => r()));
  await send(normal[0]!);
  for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(20);
  t.ok(existsSync(file), 'saved once');
  rmSync(path.join(dir, 'link'), { recursive: true });
  symlinkSync('/proc/self', path.join(dir, 'link'));
  for (let i = 0; i < 200; i++) {
    await send(changing(i));
    if (i % 20 === 0) await sleep(20);
  }
  await sleep(1500);
  const answered = await Promise.race([c.metrics().then(() => true, () => false), sleep(3000).then(() => false)]);
  t.ok(answered, '/metrics answers: the main thread is not stuck in a save');
  if (answered) {
    const m = await c.metrics();
    const failed = m.total('flowbridge_state_save_errors_total');
    t.ok(failed >= 1 && failed <= 4, `${failed} failed saves in about 2 s`);
  }
  t.equal(await c.stop(8000), 0, 'SIGTERM ends it');
});
