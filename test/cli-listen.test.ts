// Addresses the collector cannot listen on: one line naming the key, status 2, no stack, no process
// left running (the built bin, real sockets on 127.0.0.1).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { startCli } from './helpers/cli-process.js';

const BIN = new URL('../dist/main.js', import.meta.url).pathname;
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args, '--output', 'none', '--state-file', ''], { encoding: 'utf8', env, timeout: 30_000 });
}

t.test('a UDP port already taken ends the start naming listen.netflow, listen.sflow or listen.extra', async (t) => {
  const held = createSocket('udp4');
  await new Promise<void>((r) => held.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => held.close());
  const taken = `127.0.0.1:${held.address().port}`;
  const cases: [string, string[]][] = [
    ['listen.netflow', ['--listen-netflow', taken, '--listen-sflow', '', '--web-listen', '127.0.0.1:0']],
    ['listen.sflow', ['--listen-netflow', '127.0.0.1:0', '--listen-sflow', taken, '--web-enabled', 'false']],
    ['listen.extra', ['--listen-netflow', '127.0.0.1:0', '--listen-sflow', '', '--listen-extra', taken, '--listen-thread', 'false', '--web-enabled', 'false']],
  ];
  for (const [key, args] of cases) {
    const r = run(args);
    t.equal(r.status, 2, `${key}: ${r.stderr.slice(-400)}`);
    const own = r.stderr.trim().split('\n').filter((l) => !l.startsWith('{'));
    t.equal(own.length, 1, `${key}: one line, no stack`);
    t.match(own[0], new RegExp(`^config: ${key.replace('.', '\\.')} = "${taken}": address already in use`), key);
  }
});

t.test('the web port already taken ends the start naming web.listen; with the page disabled it is not needed', async (t) => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => srv.close());
  const taken = `127.0.0.1:${(srv.address() as { port: number }).port}`;
  const r = run(['--listen-netflow', '127.0.0.1:0', '--listen-sflow', '', '--web-listen', taken]);
  t.equal(r.status, 2, r.stderr.slice(-400));
  const own = r.stderr.trim().split('\n').filter((l) => !l.startsWith('{'));
  t.equal(own.length, 1, 'one line');
  t.match(own[0], new RegExp(`^config: web\\.listen = "${taken}": address already in use.*web\\.enabled: false`));
  const off = await startCli(t, ['--listen-netflow', '127.0.0.1:0', '--listen-sflow', '', '--web-listen', taken, '--web-enabled', 'false',
    '--output', 'none', '--state-file', ''], { web: false });
  t.equal(await off.stop(), 0, 'a disabled page does not need its port');
});
