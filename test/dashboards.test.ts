// The bundled Grafana dashboards are the generator's output for the default configuration, and
// `flowbridge dashboards` writes them (or those of another configuration) as the other commands run:
// the built bin, real processes, real exit codes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { DASHBOARD_FILES, dashboardFiles } from '../src/dashboards/index.js';

const ROOT = new URL('../', import.meta.url).pathname;
const BIN = `${ROOT}dist/main.js`;
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
const tmp = mkdtempSync(join(tmpdir(), 'flowbridge-dashboards-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

t.test('grafana/dashboards/ holds the generator\'s output for the default configuration', (t) => {
  const files = dashboardFiles(loadConfig({ argv: [], env: {}, overrides: {} }));
  for (const [backend, file] of Object.entries(DASHBOARD_FILES) as [keyof typeof files, string][]) {
    const bundled = readFileSync(`${ROOT}grafana/dashboards/${file}`, 'utf8');
    // one line, not a diff of thousands: the fix is the same whatever changed
    const same = bundled === files[backend];
    t.ok(same, same ? `grafana/dashboards/${file} is what the generator makes`
      : `grafana/dashboards/${file} differs from what the generator makes for the default configuration: run \`npm run dashboards\``);
  }
  t.end();
});

const run = (args: string[], extraEnv: Record<string, string> = {}) =>
  spawnSync('node', [BIN, 'dashboards', ...args], { encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 60_000 });

t.test('flowbridge dashboards --out DIR writes both files for the configuration given', (t) => {
  const out = join(tmp, 'default');
  const r = run(['--out', out]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, `wrote ${join(out, DASHBOARD_FILES.influxdb)} and ${join(out, DASHBOARD_FILES.graphite)}`);
  for (const file of Object.values(DASHBOARD_FILES)) {
    t.equal(readFileSync(join(out, file), 'utf8'), readFileSync(`${ROOT}grafana/dashboards/${file}`, 'utf8'), `${file}: the bundled one`);
  }
  // a configuration file with its own views and prefix: panels named after them
  const cfgFile = join(tmp, 'flowbridge.yaml');
  writeFileSync(cfgFile, 'views:\n  - { name: uplinks, keys: [exporter, interface] }\n  - { name: peers, keys: [remoteas], per: none }\n' +
    'graphite:\n  prefix: site1\n');
  const mine = join(tmp, 'mine');
  const m = run(['--config', cfgFile, `--out=${mine}`]);
  t.equal(m.status, 0, m.stderr);
  t.match(m.stdout, '(views: uplinks, peers)');
  const influx = readFileSync(join(mine, DASHBOARD_FILES.influxdb), 'utf8');
  const graphite = readFileSync(join(mine, DASHBOARD_FILES.graphite), 'utf8');
  t.match(influx, 'FROM view_uplinks');
  t.match(influx, '"title": "peers: bytes by remote AS over the range"');
  t.notMatch(influx, 'view_remotehosts', 'the default views are the configuration\'s, not the generator\'s');
  t.match(graphite, '$prefix.views.peers.*.bps');
  t.match(JSON.parse(graphite).templating.list[0], { name: 'prefix', query: 'site1', current: { value: 'site1' } }, 'Prefix starts at graphite.prefix');
  // options and the environment count as for every command
  const none = join(tmp, 'none');
  t.equal(run(['--out', none, '--views', '[]']).status, 0);
  t.notMatch(readFileSync(join(none, DASHBOARD_FILES.influxdb), 'utf8'), 'view_');
  const tagged = run(['--out', none], { FLOWBRIDGE_GRAPHITE_TAGGED: 'true' });
  t.equal(tagged.status, 0);
  t.match(tagged.stderr, 'graphite.tagged is set, but the Graphite dashboard reads plain paths');
  t.end();
});

t.test('bad arguments: one line saying what is wrong, status 2, nothing written', (t) => {
  const cases: [string[], RegExp][] = [
    [[], /^config: out: dashboards needs --out DIR \(usage: flowbridge dashboards --out DIR/],
    [['--out'], /^config: out: expected a directory after --out$/],
    [['--out', '--config', 'x.yaml'], /^config: out: expected a directory after --out$/],
    [['--out', join(tmp, 'a'), '--out', join(tmp, 'b')], /^config: out: expected --out once$/],
    [['--out', join(tmp, 'c'), 'capture.pcap'], /^config: dashboards takes no files: unexpected capture\.pcap/],
    [['--out', join(tmp, 'd'), '--realtime'], /^config: dashboards takes --config, --out and configuration options only/],
    [['replay', 'capture.pcap', '--out', join(tmp, 'd')], /^config: dashboards takes --config, --out and configuration options only/],
    [['--out', join(tmp, 'e'), '--no-such-option', '1'], /^config: unknown option --no-such-option/],
    [['--out', join(tmp, 'f'), '--views', '[{"name":"x","keys":["ifindx"]}]'], /^config: views\[0\]\.keys\[0\] = "ifindx": expected one of .*did you mean/],
    [['--out', join(tmp, 'g'), '--config', '/nonexistent/flowbridge.yaml'], /^config: config = .*expected a readable file/],
    [['--out', '/dev/null/dashboards'], /^config: out = "\/dev\/null\/dashboards": cannot write the dashboards there: ENOTDIR/],
  ];
  for (const [args, re] of cases) {
    const r = run(args);
    t.equal(r.status, 2, `dashboards ${args.join(' ')}`);
    t.match(r.stderr.trim(), re);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.equal(r.stdout, '');
  }
  for (const dir of ['c', 'd', 'e', 'f', 'g']) t.throws(() => readFileSync(join(tmp, dir, DASHBOARD_FILES.influxdb)), `${dir}: nothing written`);
  const help = run(['--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /flowbridge dashboards --out DIR \[options\] +write the Grafana dashboards/);
  const main = spawnSync('node', [BIN, '--help'], { encoding: 'utf8', env, timeout: 30_000 });
  t.match(main.stdout, /\n {2}flowbridge dashboards --out DIR \[options\] +write the Grafana dashboards/, 'in flowbridge --help too');
  t.end();
});
