// The compose stack without a Docker engine: Debian's docker-compose accepts docker-compose.yml (also
// with the demo profile) and refuses it without the secrets; what the services share agrees (token, org,
// bucket, mounts, ports); the Dockerfile builds as the README does; the mounted flowbridge config loads
// through the real loader with the stack's environment; the InfluxDB and carbon init scripts do what
// their images need.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { have } from '../helpers/process.js';
import { accessSync, constants, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');
const dotenv = Object.fromEntries(read('.env.example').split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const executable = (f: string) => { try { accessSync(join(ROOT, f), constants.X_OK); return true; } catch { return false; } };

type Port = string | { protocol?: string; published?: number; target: number; host_ip?: string };
interface Service { image?: string; build?: unknown; environment?: Record<string, string>; volumes?: string[]; ports?: Port[]; profiles?: string[]; cap_add?: string[] }
/** docker-compose prints short ports as text ("127.0.0.1:8080:8080/tcp") and others as objects */
function port(p: Port): { hostIp: string; target: string } {
  if (typeof p !== 'string') return { hostIp: p.host_ip ?? '', target: `${p.target}/${p.protocol ?? 'tcp'}` };
  const parts = p.split(':');
  return { hostIp: parts.length === 3 ? parts[0]! : '', target: parts[parts.length - 1]!.includes('/') ? parts[parts.length - 1]! : `${parts[parts.length - 1]}/tcp` };
}
/** docker-compose config, as the engine would get it; the environment carries no INFLUX_* of the caller */
function composeConfig(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  return spawnSync('docker-compose', [...args, '-f', join(ROOT, 'docker-compose.yml'), 'config'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
}

const dockerfile = read('Dockerfile').replace(/\\\n\s*/g, ' ');
const flowbridgeYaml = join(ROOT, 'deploy/flowbridge.yaml');

t.test('docker-compose accepts the stack, with and without the demo profile, and refuses it without secrets', { skip: have('docker-compose') ? false : 'docker-compose not installed (apt-get install docker-compose)' }, async (t) => {
  const r = composeConfig(['--env-file', join(ROOT, '.env.example')]);
  t.equal(r.status, 0, `docker-compose config: ${r.stderr.trim()}`);
  const demo = composeConfig(['--env-file', join(ROOT, '.env.example'), '--profile', 'demo']);
  t.equal(demo.status, 0, `--profile demo: ${demo.stderr.trim()}`);
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-compose-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'empty.env'), '');
  const bare = composeConfig(['--env-file', join(dir, 'empty.env')]);
  t.not(bare.status, 0, 'no token, no stack');
  t.match(bare.stderr, /INFLUX_TOKEN|INFLUX_PASSWORD|GRAFANA_ADMIN_PASSWORD/, 'the error names the missing setting');

  const cfg = parseYaml(r.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const s = cfg.services;
  t.same(Object.keys(s).sort(), ['demo-exporter', 'flowbridge', 'grafana', 'graphite', 'influxdb']);
  t.same(s['demo-exporter']!.profiles, ['demo'], 'the exporter starts only with --profile demo');
  t.same(s['demo-exporter']!.cap_add, ['NET_RAW']);
  for (const [name, svc] of Object.entries(s)) {
    if (svc.build) continue;
    t.match(svc.image, /^[\w./-]+:\d+(\.\d+)+[\w.-]*$/, `${name}: image pinned to a version (${svc.image})`);
  }
  t.match(s.influxdb!.image, /^influxdb:2\.\d+\.\d+$/, 'InfluxDB 2.x');

  // one token, org and bucket for InfluxDB's setup, flowbridge's writes and Grafana's reads
  const fe = s.flowbridge!.environment!, ie = s.influxdb!.environment!, ge = s.grafana!.environment!;
  t.equal(fe.FLOWBRIDGE_INFLUX_TOKEN, dotenv.INFLUX_TOKEN);
  t.equal(ie.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN, dotenv.INFLUX_TOKEN);
  t.equal(ge.INFLUX_TOKEN, dotenv.INFLUX_TOKEN);
  t.equal(fe.FLOWBRIDGE_INFLUX_ORG, ie.DOCKER_INFLUXDB_INIT_ORG);
  t.equal(fe.FLOWBRIDGE_INFLUX_BUCKET, ie.DOCKER_INFLUXDB_INIT_BUCKET);
  t.equal(ge.INFLUX_BUCKET, ie.DOCKER_INFLUXDB_INIT_BUCKET, 'Grafana queries the database the DBRP mapping names after the bucket');
  t.equal(ie.DOCKER_INFLUXDB_INIT_MODE, 'setup');

  // every bind mount's source is in the repository; the targets are where each image looks
  const mounts = Object.fromEntries(Object.entries(s).map(([n, svc]) => [n, (svc.volumes ?? []).map((v) => v.split(':')).filter(([src]) => src!.startsWith('/'))]));
  for (const [name, list] of Object.entries(mounts)) for (const [src] of list) t.ok(existsSync(src!), `${name}: ${src!.slice(ROOT.length)} exists`);
  const target = (svc: string, src: string) => mounts[svc]!.find(([from]) => from === join(ROOT, src))?.[1];
  t.equal(target('flowbridge', 'deploy/flowbridge.yaml'), /--config", "([^"]+)"/.exec(dockerfile)?.[1], 'the config lands where the image\'s CMD reads it');
  t.match(target('influxdb', 'deploy/influxdb/init-dbrp.sh'), /^\/docker-entrypoint-initdb\.d\/[^/]+\.sh$/, 'InfluxDB runs *.sh from /docker-entrypoint-initdb.d');
  t.match(target('graphite', 'deploy/graphite/carbon-limits.sh'), /^\/etc\/run_once\/[A-Za-z0-9_-]+$/, 'run-parts takes names without dots only');
  t.equal(target('graphite', 'examples/carbon/storage-schemas.conf'), '/opt/graphite/conf/storage-schemas.conf');
  t.equal(target('graphite', 'examples/carbon/storage-aggregation.conf'), '/opt/graphite/conf/storage-aggregation.conf');
  const provider = parseYaml(read('grafana/provisioning/dashboards/flowbridge.yaml')) as { providers: { options: { path: string } }[] };
  t.equal(target('grafana', 'grafana/dashboards'), provider.providers[0]!.options.path, 'dashboards mounted where the provider reads');
  t.equal(target('grafana', 'grafana/provisioning/datasources'), '/etc/grafana/provisioning/datasources');
  t.ok(existsSync(join(ROOT, 'grafana/dashboards', basename(ge.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!))), 'the home dashboard is one of ours');
  t.equal(target('demo-exporter', 'test/fixtures/traffic.pcap.gz'), '/demo/traffic.pcap.gz');
  for (const f of ['deploy/influxdb/init-dbrp.sh', 'deploy/graphite/carbon-limits.sh', 'deploy/demo/exporter.sh']) t.ok(executable(f), `${f} is executable`);

  // flowbridge's published ports are the ones its configuration listens on
  const fb = loadConfig({ argv: [], env: fe, file: flowbridgeYaml });
  const portOf = (hp: string) => hp.slice(hp.lastIndexOf(':') + 1);
  const published = s.flowbridge!.ports!.map(port);
  t.same(published.map((p) => p.target).sort(),
    [`${portOf(fb.listen.netflow[0]!)}/udp`, `${portOf(fb.listen.sflow[0]!)}/udp`, `${portOf(fb.web.listen)}/tcp`].sort(), 'published: the ports it listens on');
  t.equal(published.find((p) => p.target.endsWith('/tcp'))?.hostIp, '127.0.0.1', 'the unauthenticated page on the host\'s loopback');
  t.same(published.filter((p) => p.target.endsWith('/udp')).map((p) => p.hostIp), ['', ''], 'flow ports on every interface');
  t.equal(new URL(fb.influx.url).hostname, 'influxdb', 'flowbridge writes to the influxdb service');
  t.ok(s.graphite && fb.graphite.address === 'graphite:2003', 'and to carbon\'s line receiver of the graphite service');
  t.equal(fb.influx.token, dotenv.INFLUX_TOKEN, 'with the token from the environment');
});

t.test('the Dockerfile builds as the README does and runs unprivileged with a health check', (t) => {
  const readme = read('README.md');
  t.match(readme, /npm ci && npm run build/, 'the README builds with npm ci && npm run build');
  const runs = [...dockerfile.matchAll(/^RUN (.*)$/gm)].map((m) => m[1]!);
  t.ok(runs.some((r) => /\bnpm ci\b.*&& npm run build\b/.test(r)), 'a RUN does npm ci, then npm run build');
  const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
  t.ok(froms.length >= 2, 'multi-stage');
  for (const f of froms) t.match(f, /^[\w./-]+:\d+\.\d+\.\d+-[\w.-]+$/, `${f}: pinned`);
  // the image ships the Node.js that CI runs the suite on besides the machine's (.ci/run)
  const lts = /^NODE_LTS="([\d.]+)"$/m.exec(read('.ci/run'))?.[1];
  t.ok(lts, `.ci/run names the LTS it tests on: ${lts}`);
  for (const f of froms) t.ok(f.startsWith(`node:${lts}-`), `${f} is Node.js ${lts}`);
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const user = /^USER (\S+)/m.exec(lastStage)?.[1];
  t.ok(user && user !== 'root' && user !== '0', `runs as ${user}`);
  const hc = /^HEALTHCHECK .*CMD (\[.*\])$/m.exec(dockerfile)?.[1];
  t.ok(hc, 'HEALTHCHECK');
  t.match(JSON.parse(hc!).join(' '), /http:\/\/127\.0\.0\.1:8080\/healthz/, 'on /healthz of the web server');
  const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
  const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start.split(' ');
  t.same(entry, start, 'the image runs the collector as npm start does, with the same node options');
  t.ok(start.includes('dist/main.js') && start.some((a) => a.startsWith('--max-semi-space-size=')), start.join(' '));
  const ignore = read('.dockerignore');
  for (const keep of ['!src', '!package.json', '!package-lock.json', '!tsconfig.json', '!tsconfig.build.json']) t.ok(ignore.split('\n').includes(keep), `.dockerignore keeps ${keep.slice(1)}`);
  t.end();
});

t.test('deploy/flowbridge.yaml: the web page reachable in a container, and Graphite\'s schema fits the interval', (t) => {
  const cfg = loadConfig({ argv: [], env: {}, file: flowbridgeYaml });
  t.equal(cfg.web.listen, '0.0.0.0:8080', 'web.listen on the container\'s interfaces');
  t.ok(cfg.web.allowedHosts.split(',').includes('flowbridge'), 'the service name is an accepted Host');
  t.equal(cfg.state.file, '/var/lib/flowbridge/state.json', 'state in the image\'s volume');
  t.ok(cfg.aggregate.hold >= 60_000 + cfg.interval, 'hold covers a 60 s active timeout');
  // carbon takes the first section whose pattern matches: its first archive must be the interval
  const schemas = read('examples/carbon/storage-schemas.conf').split(/^\[/m).slice(1).map((sec) => ({
    pattern: /^pattern = (.*)$/m.exec(sec)![1]!, retentions: /^retentions = (.*)$/m.exec(sec)![1]!,
  }));
  const mine = schemas.find((x) => new RegExp(x.pattern).test(`${cfg.graphite.prefix}.total.in.bps`))!;
  t.equal(mine.retentions.split(',')[0]!.split(':')[0], `${cfg.interval / 1000}s`, `first archive ${mine.retentions}`);
  t.end();
});

t.test('the InfluxDB init script maps the bucket for InfluxQL', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-dbrp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // a stand-in for the image's influx CLI that records its arguments
  writeFileSync(join(dir, 'influx'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${join(dir, 'args')}\n`, { mode: 0o755 });
  const out = execFileSync('bash', [join(ROOT, 'deploy/influxdb/init-dbrp.sh')], { encoding: 'utf8', env: {
    PATH: `${dir}:${process.env.PATH}`, DOCKER_INFLUXDB_INIT_ORG: 'flowbridge', DOCKER_INFLUXDB_INIT_BUCKET: 'flows', DOCKER_INFLUXDB_INIT_BUCKET_ID: '0123456789abcdef',
  } });
  t.same(readFileSync(join(dir, 'args'), 'utf8').trim().split('\n'),
    ['v1', 'dbrp', 'create', '--org', 'flowbridge', '--bucket-id', '0123456789abcdef', '--db', 'flows', '--rp', 'autogen', '--default']);
  t.match(out, /database "flows"/);
  t.end();
});

t.test('the carbon script lifts the create and update limits of carbon.conf', { skip: existsSync('/etc/carbon/carbon.conf') ? false : 'no /etc/carbon/carbon.conf (graphite-carbon)' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-carbon-conf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'carbon.conf');
  copyFileSync('/etc/carbon/carbon.conf', conf);
  execFileSync('sh', [join(ROOT, 'deploy/graphite/carbon-limits.sh')], { env: { PATH: process.env.PATH ?? '', CARBON_CONF: conf }, stdio: 'ignore' });
  const text = readFileSync(conf, 'utf8');
  t.match(text, /^MAX_CREATES_PER_MINUTE = inf$/m);
  t.match(text, /^MAX_UPDATES_PER_SECOND = 2000$/m);
  t.match(text, /^MAX_CACHE_SIZE = inf$/m);
  t.notMatch(text, /^MAX_CREATES_PER_MINUTE = 50$/m);
  t.end();
});
