// The command line as a user runs it: the built bin, real processes, real exit codes.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../src/cli.js';
import { readUdpPackets } from '../src/ingest/pcap.js';
import { ConfigError } from '../src/lib/errors.js';
import { directionTotals, parseLines } from './helpers/totals.js';
import { truth } from './helpers/truth.js';

const BIN = new URL('../dist/main.js', import.meta.url).pathname;
const FIX = new URL('./fixtures/', import.meta.url).pathname;
const HOME = '10.1.0.0/16,2001:db8:1::/48';
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

const totals = (jsonl: string) => directionTotals(parseLines(jsonl));

t.test('parseCli separates commands, shortcuts, files and config options', (t) => {
  const c = parseCli(['replay', 'a.pcap', '--home', '10.0.0.0/8', '--interval', '5', '--output=json', 'b.pcapng', '--realtime', '--aggregate-top-hosts', '7']);
  t.not(c, 'help');
  if (typeof c === 'object') {
    t.equal(c.command, 'replay');
    t.same(c.files, ['a.pcap', 'b.pcapng']);
    t.same(c.overrides, { networks: { home: ['10.0.0.0/8'] }, output: { format: 'json' } });
    t.same(c.argv, ['--interval', '5', '--aggregate-top-hosts', '7']);
    t.ok(c.realtime);
  }
  t.equal(parseCli(['--help']), 'help');
  t.equal(parseCli(['--version']), 'version');
  t.throws(() => parseCli(['replay']), ConfigError, 'replay needs a file');
  t.throws(() => parseCli(['x.pcap']), /did you mean "flowbridge replay x.pcap"/);
  t.throws(() => parseCli(['-x']), ConfigError);
  t.throws(() => parseCli(['--config']), /expected a value/);
  t.end();
});

t.test('replay --output json gives the truth per direction on stdout, logs on stderr', (t) => {
  const r = spawnSync('node', [BIN, 'replay', `${FIX}pmacctd-ipfix.pcap`, '--home', HOME, '--interval', '10', '--output', 'json'], { encoding: 'utf8', env, timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  t.same(totals(r.stdout), truth.by_direction);
  t.match(r.stderr, /"msg":"replay done"/);
  t.end();
});

t.test('bad configuration: one line naming the key, status 2', (t) => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--interval', '10x'], {}, /^config: interval = "10x": expected a duration/],
    [['--home', '10.0.0.1/8'], {}, /^config: networks\.home\[0\] = "10\.0\.0\.1\/8": expected a prefix with no host bits/],
    [[], { FLOWBRIDGE_AGGREGATE_TOP_HOSTS: 'many' }, /^config: aggregate\.topHosts = "many": expected a positive integer/],
    [['--output', 'xml'], {}, /^config: output\.format = "xml": expected one of/],
    [['--config', '/nonexistent/flowbridge.yaml'], {}, /^config: config = .*expected a readable file/],
  ];
  for (const [args, extra, re] of cases) {
    const r = spawnSync('node', [BIN, ...args, '--print-config'], { encoding: 'utf8', env: { ...env, ...extra }, timeout: 30_000 });
    t.equal(r.status, 2, args.join(' ') || JSON.stringify(extra));
    t.match(r.stderr.trim(), re);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  t.end();
});

t.test('--print-config: CLI overrides env overrides file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'c.yaml'), 'interval: 30s\naggregate:\n  topHosts: 5\n  topPorts: 6\n');
  const r = spawnSync('node', [BIN, '--config', join(dir, 'c.yaml'), '--print-config', '--aggregate-top-hosts', '9'],
    { encoding: 'utf8', env: { ...env, FLOWBRIDGE_AGGREGATE_TOP_HOSTS: '7', FLOWBRIDGE_AGGREGATE_TOP_PORTS: '8' }, timeout: 30_000 });
  t.equal(r.status, 0, r.stderr);
  const c = JSON.parse(r.stdout) as { interval: string; aggregate: { topHosts: number; topPorts: number } };
  t.equal(c.interval, '30s', 'file');
  t.equal(c.aggregate.topPorts, 8, 'env over file');
  t.equal(c.aggregate.topHosts, 9, 'CLI over env');
  t.end();
});

t.test('live collector: SIGTERM flushes the open interval, totals equal what was sent, exit 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-live-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn('node', [BIN, '--home', HOME, '--output', 'json', '--listen-netflow', '127.0.0.1:0', '--listen-sflow', '',
    '--state-file', join(dir, 'state.json'), '--interval', '60', '--web-listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '', err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${err}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d;
      const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const sock = createSocket('udp4');
  for (const p of readUdpPackets(`${FIX}softflowd-v9.pcap`)) {
    const buf = Buffer.from(p.payload);
    await new Promise<void>((r) => sock.send(buf, port, '127.0.0.1', () => r()));
  }
  sock.close();
  await new Promise((r) => setTimeout(r, 500));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit 0 after SIGTERM');
  t.same(totals(out), truth.by_direction, 'every byte sent was written out on shutdown');
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { format: string };
  t.equal(state.format, 'flowbridge-decoder-state', 'templates persisted on stop');
});

t.test('replay with the uport definition writes one alert per distinct unreachable tuple beside the intervals', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-alert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'uport.yaml'), 'alerts:\n  flows:\n    - name: uport\n      keys: [ipsource, ipdestination, icmpunreachableport]\n      value: frames\n      event: each\n');
  const r = spawnSync('node', [BIN, 'replay', `${FIX}pmacctd-sflow.pcap`, '--config', join(dir, 'uport.yaml'), '--home', HOME, '--output', 'json'], { encoding: 'utf8', env, timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const alerts = r.stdout.split('\n').filter((l) => l.includes('"type":"alert"')).map((l) => JSON.parse(l) as { keys: Record<string, string | number> });
  t.equal(alerts.length, 400);
  t.equal(new Set(alerts.map((a) => `${a.keys.ipsource}|${a.keys.ipdestination}|${a.keys.icmpunreachableport}`)).size, 400, 'all distinct');
  t.ok(alerts.every((a) => a.keys.ipdestination === '203.0.113.66'));
  const bad = spawnSync('node', [BIN, 'replay', `${FIX}pmacctd-sflow.pcap`, '--config', join(dir, 'uport.yaml'), '--alerts-flows', '[{"name":"x","keys":["nope"],"value":"frames","event":"each"}]'], { encoding: 'utf8', env, timeout: 30_000 });
  t.equal(bad.status, 2, 'a bad definition exits 2');
  t.match(bad.stderr, /^config: alerts\.flows/);
  t.end();
});
