// The compose stack's demo exporter and flowbridge container, without Docker: in a private network
// namespace (its own loopback, so the stack's fixed ports are free), the built collector runs with the
// mounted deploy/flowbridge.yaml until the image's HEALTHCHECK command passes, then deploy/demo/exporter.sh
// plays the capture onto the loopback at 100× speed while pmacctd captures it live and exports IPFIX and
// sFlow to it. What flowbridge counts per exporter must be the capture's truth, at present-day times.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { have } from '../helpers/process.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { truth } from '../helpers/truth.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const netns = spawnSync('unshare', ['--net', '--pid', '--fork', 'true'], { stdio: 'ignore' }).status === 0;
const missing = [
  ...['pmacctd', 'tcpreplay', 'ip', 'unshare', 'setpriv'].filter((c) => !have(c)).map((c) => `${c} not installed`),
  ...(netns ? [] : ['cannot create network and PID namespaces (needs root or CAP_SYS_ADMIN)']),
  ...(existsSync(join(ROOT, 'dist/main.js')) ? [] : ['dist/main.js missing (npm run build)']),
];
if (missing.length) {
  t.plan(0, missing.join('; '));
  process.exit(0);
}

const total = Object.values(truth.by_direction).reduce((a, [b, p]) => [a[0] + b, a[1] + p], [0, 0]);
// the image's health check, run as Docker would (its JSON exec form)
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
const healthcheck = JSON.parse(/^HEALTHCHECK .*CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
const AGENT = '192.0.2.10';

const dir = mkdtempSync(join(tmpdir(), 'flowbridge-demo-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const hc = healthcheck.map(q).join(' ');
const script = `set -e
ip link set lo up
cd ${q(ROOT)}
if ${hc}; then echo "HEALTHY BEFORE START"; exit 4; fi
FLOWBRIDGE_INFLUX_ENABLED=false FLOWBRIDGE_GRAPHITE_ENABLED=false FLOWBRIDGE_STATE_FILE= \\
FLOWBRIDGE_OUTPUT_FORMAT=json FLOWBRIDGE_OUTPUT_PATH=${q(join(dir, 'summaries.jsonl'))} \\
  node dist/main.js --config deploy/flowbridge.yaml 2> ${q(join(dir, 'flowbridge.log'))} &
FB=$!
trap 'kill $FB 2>/dev/null || true' EXIT
i=0
until ${hc}; do i=$((i + 1)); [ $i -lt 100 ] || exit 3; sleep 0.1; done
echo HEALTHY
DEMO_COLLECTOR=127.0.0.1 DEMO_EXPORT=ipfix,sflow DEMO_AGENT_IP=${AGENT} DEMO_SPEED=100 DEMO_LOOPS=1 \\
DEMO_TIMEOUTS=maxlife=2:general=2:tcp=2:udp=2:icmp=2:expint=1 DEMO_DRAIN_SECONDS=3 \\
DEMO_CAPTURE=${q(join(ROOT, 'test/fixtures/traffic.pcap.gz'))} DEMO_WORKDIR=${q(join(dir, 'demo'))} \\
  sh deploy/demo/exporter.sh > ${q(join(dir, 'exporter.log'))} 2>&1
kill -TERM $FB
wait $FB
echo "FLOWBRIDGE EXIT $?"
trap - EXIT
`;

t.test('pmacctd on live packets, exporting IPFIX and sFlow to the collector of the stack', async (t) => {
  const started = Date.now();
  // nothing outlives the test, also when it is killed: pdeathsig takes unshare down with this process,
  // --kill-child takes the namespace's first process down with unshare, and with it the whole PID
  // namespace (collector, pmacctd, tcpreplay); the process group is killed on teardown besides
  const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', 'unshare', '--net', '--pid', '--fork', '--kill-child', 'sh', '-c', script], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL'); });
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 50_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const log = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-3000) : '');
  t.equal(code, 0, 'the run completed', { output: out, exporter: log('exporter.log'), flowbridge: log('flowbridge.log') });
  t.match(out, /^HEALTHY$/m, 'the image\'s HEALTHCHECK command passes against the collector (and failed before it ran)');
  t.match(out, /^FLOWBRIDGE EXIT 0$/m, 'SIGTERM: the collector flushes and exits 0');
  t.comment(`namespace run: ${Date.now() - started} ms`);

  const conf = readFileSync(join(dir, 'demo', 'pmacctd.conf'), 'utf8');
  t.match(conf, /^plugins: nfprobe\[ipfix\], sfprobe\[sflow\]$/m);
  t.match(conf, /^nfprobe_version\[ipfix\]: 10$/m);

  const summaries = readFileSync(join(dir, 'summaries.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as IntervalSummary & { type?: string }).filter((s) => s.type !== 'alert');
  const per: Record<string, [number, number, number]> = {};
  for (const s of summaries) {
    for (const e of s.exporters) {
      const x = (per[e.exporter] ??= [0, 0, 0]);
      x[0] += e.bytes; x[1] += e.packets; x[2] += e.records;
    }
  }
  t.same(Object.keys(per).sort(), ['127.0.0.1', AGENT], 'two exporters: IPFIX from the datagrams\' source, sFlow by its agent address');
  t.same(per['127.0.0.1']!.slice(0, 2), total, `IPFIX: every byte and packet of the capture (${total[0]} bytes, ${total[1]} packets)`);
  t.ok(per['127.0.0.1']![2] > 1000, `in ${per['127.0.0.1']![2]} flow records`);
  const [sb, sp] = per[AGENT]!;
  t.ok(sb <= total[0]! && sb >= total[0]! * 0.995 && sp <= total[1]! && sp >= total[1]! * 0.995,
    `sFlow (1 in 1): ${sb} bytes, ${sp} packets, within 0.5 % of the capture`);
  const now = Date.now() / 1000;
  t.ok(summaries.every((s) => s.start >= started / 1000 - 20 && s.end <= now + 10), 'flow times are the present: a live exporter, not a replay');
});
