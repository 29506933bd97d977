// SIGHUP on the real CLI: home networks, sinks and alerts change while an interval is open, and
// nothing counted before the reload is lost; a bad configuration leaves the running one in place.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { v5Datagram } from './helpers/cli-process.js';
import { directionTotals, parseLines } from './helpers/totals.js';

const BIN = new URL('../dist/main.js', import.meta.url).pathname;
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

t.test('SIGHUP reloads networks, sinks and alerts; the open interval survives; a bad file changes nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-reload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'flowbridge.yaml'), outA = join(dir, 'a.jsonl'), outB = join(dir, 'b.jsonl');
  const config = (extra: string, interval = 60) => writeFileSync(file, `interval: ${interval}\nstate: { file: "" }\n${extra}`);
  config(`networks: { home: [10.1.0.0/16] }\noutput: { format: json, path: ${JSON.stringify(outA)} }\n`);
  const child = spawn('node', [BIN, '--config', file, '--listen-netflow', '127.0.0.1:0', '--listen-sflow', '', '--web-listen', '127.0.0.1:0'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const waitFor = async (re: RegExp, from = 0): Promise<RegExpExecArray> => {
    for (let i = 0; i < 400; i++) {
      const m = re.exec(err.slice(from));
      if (m) return m;
      await sleep(50);
    }
    throw new Error(`no ${re} in: ${err}`);
  };
  const port = Number((await waitFor(/"port":(\d+)[^\n]*"msg":"listening"/))[1]);
  const web = (await waitFor(/"url":"([^"]+)"[^\n]*"msg":"web page"/))[1]!;
  const sock = createSocket('udp4');
  t.teardown(() => sock.close());
  const send = (b: Buffer) => new Promise<void>((r) => sock.send(b, port, '127.0.0.1', () => r()));
  const metric = async (re: RegExp) => Number(re.exec(await (await fetch(`${web}metrics`)).text())?.[1] ?? 0);
  const records = () => metric(/^flowbridge_records_total(?:\{[^}]*\})? (\d+)/m);
  const views = async () => ((await (await fetch(`${web}api/info`)).json()) as { views: { name: string }[] }).views.map((v) => v.name);
  t.same(await views(), ['interfaces', 'remotehosts'], '/api/info: the default views');

  // before: 10.2/16 is not home, so lab traffic is external
  await send(v5Datagram('10.1.0.5', '192.0.2.9', 3, 1000));
  await send(v5Datagram('10.2.0.7', '192.0.2.9', 2, 500));
  for (let i = 0; i < 100 && (await records()) < 5; i++) await sleep(50);

  // a second group, another output file, an alert on it, and a key that needs a restart
  let mark = err.length;
  config(`networks: { home: [10.1.0.0/16], lab: [10.2.0.0/16] }\noutput: { format: json, path: ${JSON.stringify(outB)} }\n` +
    'alerts: { flows: [{ name: lab-out, keys: [ipsource], filter: "sourcegroup=lab", value: bytes, event: each }] }\n' +
    'views: [{ name: talkers, keys: [localhost] }]\n', 30);
  child.kill('SIGHUP');
  const done = await waitFor(/"msg":"configuration reloaded"/, mark);
  t.ok(done, 'reloaded');
  t.match(err.slice(mark), /"keys":\["interval"\][^\n]*apply only after a restart/, 'says which changed keys need a restart');
  t.same(await views(), ['talkers'], '/api/info: the reloaded views');
  await send(v5Datagram('10.1.0.5', '192.0.2.9', 3, 1000));
  await send(v5Datagram('10.2.0.7', '192.0.2.9', 2, 500));
  for (let i = 0; i < 100 && (await records()) < 10; i++) await sleep(50);

  // a broken file: reported, and the running configuration (lab included) keeps working
  mark = err.length;
  writeFileSync(file, 'networks: { home: [10.1.0.0/33] }\n');
  child.kill('SIGHUP');
  t.match((await waitFor(/"msg":"configuration not reloaded[^"]*"/, mark))[0], /not reloaded/);
  t.match(err.slice(mark), /networks/, 'the error names the key');
  await send(v5Datagram('10.2.0.8', '192.0.2.9', 1, 700));
  for (let i = 0; i < 100 && (await records()) < 11; i++) await sleep(50);
  t.equal(await metric(/^flowbridge_config_reloads_total\{result="ok"\} (\d+)/m), 1, 'one reload applied');
  t.equal(await metric(/^flowbridge_config_reloads_total\{result="invalid"\} (\d+)/m), 1, 'one refused');

  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit 0 after SIGTERM');
  t.notOk(existsSync(outA) && readFileSync(outA, 'utf8').includes('"directions"'), 'no interval had closed before the reload');
  const lines = readFileSync(outB, 'utf8');
  const summaries = parseLines(lines).filter((l) => 'directions' in l);
  // everything sent, the records from before the reload included, reached the new sink
  t.same(directionTotals(summaries), { out: [6000 + 1000 + 700, 18], external: [1000, 4] }, 'totals = everything sent');
  const groups = summaries.flatMap((s) => (s as unknown as { groups: { group: string; direction: string; bytes: number }[] }).groups);
  const sum = (g: string) => groups.filter((r) => r.group === g && r.direction === 'out').reduce((a, r) => a + r.bytes, 0);
  t.equal(sum('home'), 6000, 'home counted before and after');
  t.equal(sum('lab'), 1700, 'lab counts what arrived after the reload (two ways in: 1000 + 700)');
  const alerts = lines.split('\n').filter((l) => l.includes('"type":"alert"')).map((l) => JSON.parse(l) as { name: string; keys: Record<string, string> });
  t.same(alerts.map((a) => [a.name, a.keys.ipsource]).sort(), [['lab-out', '10.2.0.7'], ['lab-out', '10.2.0.8']], 'the new alert fires for new lab sources');
});
