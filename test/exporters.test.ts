// Real exporters (Debian softflowd and pmacctd) read the known capture and send to flowbridge on
// loopback; what flowbridge counts must equal the capture's truth and what tshark decodes of the wire.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { have } from './helpers/process.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCollector } from './helpers/collector.js';
import { truth } from './helpers/truth.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;
const missing = ['softflowd', 'pmacctd', 'tshark'].filter((c) => !have(c));
if (missing.length) t.plan(0, `Debian packages missing: ${missing.join(', ')} (bash .ci/run installs them)`);

const dir = mkdtempSync(join(tmpdir(), 'flowbridge-exporters-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const capture = join(dir, 'traffic.pcap');
writeFileSync(capture, gunzipSync(readFileSync(`${FIX}traffic.pcap.gz`)));

/** The capture's truth restricted to IPv4 (NetFlow v5 cannot carry IPv6). */
function ipv4Truth(): Record<string, [number, number]> {
  const tot = { bytes: 0, packets: 0 };
  for (const [k, [b, p]] of Object.entries(truth.flows)) {
    if (k.includes(':')) continue;
    tot.bytes += b;
    tot.packets += p;
  }
  return { all: [tot.bytes, tot.packets] };
}

function sum(dirs: Record<string, [number, number]>): [number, number] {
  return Object.values(dirs).reduce<[number, number]>((a, [b, p]) => [a[0] + b, a[1] + p], [0, 0]);
}

function run(cmd: string, args: string[], ms = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd: dir, stdio: 'ignore' });
    const timer = setTimeout(() => c.kill('SIGKILL'), ms);
    c.on('error', reject);
    c.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

/** tshark on lo, capturing what the exporter puts on the wire to the given ports. */
async function sniff(ports: number[]): Promise<{ stop(): Promise<string> }> {
  const file = join(dir, `wire-${ports[0]}.pcapng`);
  const filter = ports.map((p) => `udp dst port ${p}`).join(' or ');
  const c = spawn('tshark', ['-q', '-i', 'lo', '-f', filter, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tshark did not start: ${err}`)), 15_000);
    c.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Capturing on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    c.on('exit', () => reject(new Error(`tshark exited: ${err}`)));
  });
  await sleep(1000); // "Capturing on" is printed before the capture filter is live
  return {
    async stop() {
      await sleep(300);
      const done = new Promise((r) => c.once('exit', r));
      c.kill('SIGINT');
      await done;
      return file;
    },
  };
}

/** Sum of NetFlow/IPFIX byte and packet counters as tshark decodes them. */
function tsharkCflow(file: string, port: number): [number, number, number] {
  const out = execFileSync('tshark', ['-r', file, '-d', `udp.port==${port},cflow`, '-T', 'fields', '-e', 'cflow.octets', '-e', 'cflow.packets'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  let b = 0, p = 0, n = 0;
  for (const line of out.split('\n')) {
    const [bs, ps] = line.split('\t');
    if (!bs) continue;
    for (const x of bs.split(',')) { b += Number(x); n++; }
    for (const x of (ps ?? '').split(',')) p += Number(x) || 0;
  }
  return [b, p, n];
}

/** Number of sFlow flow samples tshark sees on the wire. */
function tsharkSflowSamples(file: string, port: number): number {
  const out = execFileSync('tshark', ['-r', file, '-d', `udp.port==${port},sflow`, '-T', 'fields', '-e', 'sflow.flow_sample.sampling_rate'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split(/[,\n]/).filter((v) => v.trim() !== '').length;
}

for (const version of [5, 9]) {
  t.test(`softflowd -v ${version}: totals equal the truth and the wire`, async (t) => {
    const col = await startCollector();
    const wire = await sniff([col.port]);
    const code = await run('softflowd', ['-r', capture, '-n', `127.0.0.1:${col.port}`, '-v', String(version), '-t', 'maxlife=60', '-d']);
    t.equal(code, 0, 'softflowd exited cleanly');
    await col.settle();
    const file = await wire.stop();
    const got = await col.stop();
    const want = version === 5 ? ipv4Truth().all! : sum(truth.by_direction);
    t.same(sum(got), want, `flowbridge counted ${sum(got).join(' B / ')} packets`);
    if (version === 5) t.same([got.internal, got.external], [truth.by_direction.internal, truth.by_direction.external], 'internal and external (IPv4 only) per direction');
    else t.same(got, truth.by_direction, 'per direction');
    const [wb, wp] = tsharkCflow(file, col.port);
    if (version === 5) t.same([wb, wp], sum(got), 'tshark decodes the same totals from the wire');
    t.equal(col.pipeline.metrics.total('decode_errors_total'), 0, 'no decode errors');
  });
}

t.test('pmacctd nfprobe (IPFIX, v9) and sfprobe: totals equal the truth and the wire', async (t) => {
  const ipfix = await startCollector();
  const v9 = await startCollector();
  const sflow = await startCollector();
  const wire = await sniff([ipfix.port, v9.port, sflow.port]);
  const conf = readFileSync(`${FIX}pmacctd.conf`, 'utf8')
    .replace('127.0.0.1:9920', `127.0.0.1:${ipfix.port}`)
    .replace('127.0.0.1:9921', `127.0.0.1:${v9.port}`)
    .replace('127.0.0.1:9922', `127.0.0.1:${sflow.port}`);
  writeFileSync(join(dir, 'pmacctd.conf'), conf);
  t.equal(await run('pmacctd', ['-f', join(dir, 'pmacctd.conf')], 60_000), 0, 'pmacctd exited cleanly');
  await Promise.all([ipfix.settle(), v9.settle(), sflow.settle()]);
  const file = await wire.stop();
  const gotIpfix = await ipfix.stop();
  const gotV9 = await v9.stop();
  const gotSflow = await sflow.stop();
  t.same(gotIpfix, truth.by_direction, 'IPFIX per direction equals the truth');
  t.same(gotV9, truth.by_direction, 'NetFlow v9 per direction equals the truth');
  t.same(tsharkCflow(file, ipfix.port).slice(0, 2), sum(truth.by_direction), 'tshark decodes the IPFIX wire to the same totals');
  // sfprobe may miss a few packets of the capture (it did 6 when the fixture was made): compare with the wire
  const samples = sflow.pipeline.metrics.total('records_total');
  t.equal(samples, tsharkSflowSamples(file, sflow.port), `${samples} sFlow flow samples, as tshark counts on the wire`);
  t.equal(sum(gotSflow)[1], samples, 'one packet per flow sample at sampling rate 1');
  t.ok(sum(truth.by_direction)[1] - samples <= 20, `sfprobe sampled ${samples} of ${sum(truth.by_direction)[1]} packets`);
  for (const c of [ipfix, v9, sflow]) t.equal(c.pipeline.metrics.total('decode_errors_total'), 0, 'no decode errors');
});
