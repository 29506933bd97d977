import t from 'tap';
import { join } from 'node:path';
import { defaultConfig, loadConfigFrom, printConfig, renderConfig, type LoadOptions } from '../../src/config/load.js';
import { listLeaves, schema, type Config } from '../../src/config/schema.js';
import type { Section } from '../../src/config/section.js';
import { duration, positiveInt, text } from '../../src/config/formats.js';
import { errorOf, load } from '../helpers/config.js';

// Written by hand: the type makes tsc check the interface against the real defaults' shape. The
// sections of sinks, alerts, views, interfaces and web are checked by their own tests.
type CoreConfig = Omit<Config, 'influx' | 'graphite' | 'alerts' | 'web' | 'views' | 'interfaces'>;
const CORE_KEYS = ['listen', 'exporters', 'networks', 'interval', 'aggregate', 'sampling', 'templates', 'state', 'output', 'log', 'shutdownTimeout', 'instance'] as const;
const core = (c: Config): CoreConfig => Object.fromEntries(CORE_KEYS.map((k) => [k, c[k]])) as CoreConfig;
const EXPECTED_DEFAULTS: CoreConfig = {
  listen: { netflow: ['0.0.0.0:2055', '[::]:2055'], sflow: ['0.0.0.0:6343', '[::]:6343'], extra: [], recvBufferSize: 33554432, thread: true },
  exporters: { allow: [] },
  networks: { home: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] },
  interval: 10000,
  aggregate: {
    assign: 'spread', hold: 75000, maxFlowDuration: 7_200_000, maxPacketBytes: 65535, maxLinkGbps: 1000, topHosts: 1000, topPorts: 100,
    maxHosts: 100000, maxPorts: 20000, maxViewTuples: 10000, perExporter: true,
  },
  sampling: { default: 1, overrides: {}, maxRate: 1_000_000 },
  templates: {
    ttl: 1800000, max: 10000, maxBytes: 33554432, maxPerExporter: 1000, maxBytesPerExporter: 4194304, pendingTtl: 60000, pendingMaxSets: 64,
    pendingMaxSetsPerExporter: 256, pendingMaxBytesPerExporter: 1048576, pendingMaxBytes: 8388608,
  },
  state: { file: '.flowbridge/state.json', saveEvery: 60000, minInterval: 10000, maxBytes: 16777216 },
  output: { format: 'console', path: '-' },
  log: { level: 'info' },
  shutdownTimeout: 10000,
  instance: '',
};

t.test('the defaults satisfy Config and every schema leaf is in it', (t) => {
  const d = defaultConfig();
  t.same(core(d), EXPECTED_DEFAULTS);
  t.same(core(load()), EXPECTED_DEFAULTS);
  // Leaf paths of the schema equal the paths of the loaded object (maps and lists count as leaves).
  const paths = (o: Record<string, unknown>, p = ''): string[] => Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && !['networks', 'sampling.overrides', 'interfaces'].includes(p + k)
      ? paths(v as Record<string, unknown>, `${p}${k}.`) : [p + k]);
  t.same(listLeaves(schema).map((l) => l.path).sort(), paths(d as unknown as Record<string, unknown>).sort());
  t.end();
});

t.test('every key has doc, format, default, env and arg named after its path', (t) => {
  const leaves = listLeaves(schema);
  t.ok(leaves.length >= 26);
  for (const l of leaves) {
    t.ok(l.leaf.doc.length > 10, `${l.path} has a doc`);
    t.ok(l.leaf.format.name, `${l.path} has a format`);
    t.ok('default' in l.leaf, `${l.path} has a default`);
    t.match(l.env, /^FLOWBRIDGE_[A-Z0-9_]+$/);
    t.match(l.arg, /^[a-z0-9-]+$/);
  }
  const top = leaves.find((l) => l.path === 'aggregate.topHosts')!;
  t.equal(top.env, 'FLOWBRIDGE_AGGREGATE_TOP_HOSTS');
  t.equal(top.arg, 'aggregate-top-hosts');
  const rb = leaves.find((l) => l.path === 'listen.recvBufferSize')!;
  t.equal(rb.env, 'FLOWBRIDGE_LISTEN_RECV_BUFFER_SIZE');
  t.equal(rb.arg, 'listen-recv-buffer-size');
  t.equal(new Set(leaves.map((l) => l.env)).size, leaves.length, 'env names unique');
  t.equal(new Set(leaves.map((l) => l.arg)).size, leaves.length, 'arg names unique');
  t.end();
});

t.test('precedence: defaults < file < env < argv < overrides', (t) => {
  const dir = t.testdir({
    'c.json': JSON.stringify({
      interval: 20, aggregate: { topHosts: 20, topPorts: 20, maxHosts: 20, maxPorts: 20 }, log: { level: 'debug' },
    }),
  });
  const file = join(dir, 'c.json');
  const env = { FLOWBRIDGE_AGGREGATE_TOP_PORTS: '30', FLOWBRIDGE_AGGREGATE_MAX_HOSTS: '30', FLOWBRIDGE_AGGREGATE_MAX_PORTS: '30' };
  const argv = ['--aggregate-max-hosts', '40', '--aggregate-max-ports=40', '--home', 'ignored'];
  const c = load({ file, env, argv, overrides: { aggregate: { maxPorts: 50 } } });
  t.equal(c.interval, 20000, 'file over default');
  t.equal(c.log.level, 'debug');
  t.equal(c.aggregate.topHosts, 20, 'file');
  t.equal(c.aggregate.topPorts, 30, 'env overrides file');
  t.equal(c.aggregate.maxHosts, 40, 'argv overrides env');
  t.equal(c.aggregate.maxPorts, 50, 'overrides win');
  t.equal(c.aggregate.hold, 75000, 'untouched keys keep defaults');
  t.equal(load({ file, env }).aggregate.maxPorts, 30);
  t.equal(load({ env }).aggregate.topHosts, 1000, 'no file: default');
  t.end();
});

t.test('YAML and JSON files load the same; a file replaces a map such as networks', (t) => {
  const dir = t.testdir({
    'c.yaml': [
      'interval: 1m',
      'networks:',
      '  lan: [10.1.0.0/16, "fd00::/8"]',
      '  dmz: 192.0.2.0/24',
      'listen:',
      '  netflow: ["[::1]:9995", 127.0.0.1:9995]',
      'sampling:',
      '  default: 8',
      '  overrides: { 192.0.2.1: 512, "2001:db8::1": 64 }',
      'aggregate: { assign: end, perExporter: false }',
      '',
    ].join('\n'),
    'c.json': JSON.stringify({
      interval: '1m',
      networks: { lan: ['10.1.0.0/16', 'fd00::/8'], dmz: '192.0.2.0/24' },
      listen: { netflow: ['[::1]:9995', '127.0.0.1:9995'] },
      sampling: { default: 8, overrides: { '192.0.2.1': 512, '2001:db8::1': 64 } },
      aggregate: { assign: 'end', perExporter: false },
    }),
    'empty.yml': '',
  });
  const y = load({ file: join(dir, 'c.yaml') });
  const j = load({ file: join(dir, 'c.json') });
  t.same(y, j);
  t.equal(y.interval, 60000);
  t.same(y.networks, { lan: ['10.1.0.0/16', 'fd00::/8'], dmz: ['192.0.2.0/24'] }, 'no "home" merged in from the defaults');
  t.same(y.listen.netflow, ['[::1]:9995', '127.0.0.1:9995']);
  t.same(y.listen.sflow, EXPECTED_DEFAULTS.listen.sflow);
  t.equal(y.sampling.default, 8, 'a key named "default" works');
  t.same(y.sampling.overrides, { '192.0.2.1': 512, '2001:db8::1': 64 }, 'map keys with dots survive');
  t.equal(y.aggregate.assign, 'end');
  t.equal(y.aggregate.perExporter, false);
  t.same(core(load({ file: join(dir, 'empty.yml') })), EXPECTED_DEFAULTS, 'an empty file is all defaults');
  t.end();
});

t.test('env and argv take text forms of lists, maps and booleans', (t) => {
  const c = load({
    env: {
      FLOWBRIDGE_NETWORKS: 'home=10.0.0.0/8,fd00::/8;guest=192.168.50.0/24',
      FLOWBRIDGE_SAMPLING_OVERRIDES: '192.0.2.1=512,2001:DB8::1=64',
      FLOWBRIDGE_EXPORTERS_ALLOW: '192.0.2.0/24, 2001:db8::/32',
      FLOWBRIDGE_AGGREGATE_PER_EXPORTER: '0',
      FLOWBRIDGE_STATE_FILE: '/var/lib/flowbridge/state.json',
      FLOWBRIDGE_LOG_LEVEL: undefined,
      FLOWBRIDGE_INSTANCE: 'eu-1',
    },
    argv: ['--listen-extra', '0.0.0.0:9995,[::]:9995', '--templates-ttl', '1h', '--interval', '60', '--output-format', 'json'],
  });
  t.same(c.networks, { home: ['10.0.0.0/8', 'fd00::/8'], guest: ['192.168.50.0/24'] });
  t.same(c.sampling.overrides, { '192.0.2.1': 512, '2001:db8::1': 64 });
  t.same(c.exporters.allow, ['192.0.2.0/24', '2001:db8::/32']);
  t.equal(c.aggregate.perExporter, false);
  t.equal(c.state.file, '/var/lib/flowbridge/state.json');
  t.equal(c.log.level, 'info', 'an undefined env entry is ignored');
  t.same(c.listen.extra, ['0.0.0.0:9995', '[::]:9995']);
  t.equal(c.templates.ttl, 3600000);
  t.equal(c.interval, 60000);
  t.equal(c.output.format, 'json');
  t.equal(c.instance, 'eu-1');
  t.equal(load({ argv: ['--instance', 'b_2'] }).instance, 'b_2');
  t.equal(load({ argv: ['--no-aggregate-per-exporter'] }).aggregate.perExporter, false);
  t.equal(load({ env: { FLOWBRIDGE_AGGREGATE_PER_EXPORTER: 'false' }, argv: ['--aggregate-per-exporter'] }).aggregate.perExporter, true);
  t.same(load({ env: { FLOWBRIDGE_EXPORTERS_ALLOW: '' } }).exporters.allow, []);
  t.same(load({ overrides: { networks: { home: ['192.0.2.0/24'] } } }).networks, { home: ['192.0.2.0/24'] }, '--home via overrides');
  t.end();
});

t.test('every kind of bad value: one line naming key, value and expected form', (t) => {
  const dir = t.testdir({
    'interval.yaml': 'interval: 10x\n',
    'hostbits.yaml': 'networks:\n  home: [10.0.0.0/8, 10.0.0.1/8]\n',
    'group.json': JSON.stringify({ networks: { 'my lan': ['10.0.0.0/8'] } }),
    'hostport.json': JSON.stringify({ listen: { extra: ['0.0.0.0:9995', '::1:9995'] } }),
    'unknown.yaml': 'aggregate:\n  topHost: 5\n',
    'unknown-top.json': JSON.stringify({ intreval: 10 }),
    'type.json': JSON.stringify({ aggregate: { topHosts: 'many' } }),
    'type-list.json': JSON.stringify({ listen: { netflow: 2055 } }),
    'type-section.yaml': 'aggregate: 5\n',
    'null.yaml': 'interval:\n',
    'rate.json': JSON.stringify({ sampling: { overrides: { '192.0.2.1': -4 } } }),
    'list.yaml': '- 1\n- 2\n',
    'bad.json': '{"interval": }',
    'bad.yaml': 'a: [1,\n',
    'c.toml': 'interval = 10',
  });
  const cases: [string, LoadOptions, string, string | RegExp][] = [
    ['duration', { file: join(dir, 'interval.yaml') }, 'interval',
      'config: interval = "10x": expected a duration such as 10, "10s", "1m"'],
    ['duration from env', { env: { FLOWBRIDGE_INTERVAL: '1500ms' } }, 'interval',
      'config: interval = "1500ms": expected a whole number of seconds ≥ 1, such as 10, "10s", "1m"'],
    ['host bits', { file: join(dir, 'hostbits.yaml') }, 'networks',
      'config: networks.home[1] = "10.0.0.1/8": expected a prefix with no host bits set, such as "10.0.0.0/8"'],
    ['host bits from argv', { argv: ['--exporters-allow', '192.0.2.1/24'] }, 'exporters.allow',
      'config: exporters.allow[0] = "192.0.2.1/24": expected a prefix with no host bits set, such as "192.0.2.0/24"'],
    ['group name', { file: join(dir, 'group.json') }, 'networks',
      'config: networks.my lan = "my lan": expected a group name made of A-Z, a-z, 0-9, "_" and "-"'],
    ['host:port', { file: join(dir, 'hostport.json') }, 'listen.extra',
      'config: listen.extra[1] = "::1:9995": expected host:port such as "127.0.0.1:2003", "[::1]:2003" or "collector.example:2003"'],
    ['unknown key', { file: join(dir, 'unknown.yaml') }, 'aggregate.topHost',
      'config: aggregate.topHost = 5: expected a known key, one of assign, hold, maxFlowDuration, maxPacketBytes, maxLinkGbps, topHosts, topPorts, maxHosts, maxPorts, maxViewTuples, perExporter (did you mean aggregate.topHosts?)'],
    ['unknown top-level key', { file: join(dir, 'unknown-top.json') }, 'intreval',
      /^config: intreval = 10: expected a known key, one of listen, exporters, networks, interval, .* \(did you mean interval\?\)$/],
    ['wrong type', { file: join(dir, 'type.json') }, 'aggregate.topHosts',
      'config: aggregate.topHosts = "many": expected a positive integer such as 1, 100 or 1000'],
    ['wrong type for a list', { file: join(dir, 'type-list.json') }, 'listen.netflow',
      'config: listen.netflow = 2055: expected a list of host:port such as ["0.0.0.0:2055", "[::]:2055"] or "0.0.0.0:2055,[::]:2055"'],
    ['scalar for a section', { file: join(dir, 'type-section.yaml') }, 'aggregate',
      'config: aggregate = 5: expected a section (mapping) with keys assign, hold, maxFlowDuration, maxPacketBytes, maxLinkGbps, topHosts, topPorts, maxHosts, maxPorts, maxViewTuples, perExporter'],
    ['null', { file: join(dir, 'null.yaml') }, 'interval',
      'config: interval = null: expected a duration such as 10, "10s", "1m"'],
    ['rate', { file: join(dir, 'rate.json') }, 'sampling.overrides',
      'config: sampling.overrides["192.0.2.1"] = -4: expected a sampling rate that is a positive integer such as 512'],
    ['enum', { env: { FLOWBRIDGE_OUTPUT_FORMAT: 'xml' } }, 'output.format',
      'config: output.format = "xml": expected one of "console", "json", "none"'],
    ['boolean', { env: { FLOWBRIDGE_AGGREGATE_PER_EXPORTER: 'perhaps' } }, 'aggregate.perExporter',
      'config: aggregate.perExporter = "perhaps": expected true or false'],
    ['instance with a dot', { env: { FLOWBRIDGE_INSTANCE: 'eu.1' } }, 'instance',
      /^config: instance = "eu\.1": expected "" or up to 64 letters, digits, "_" and "-", not "total", "hosts", .*"alerts", "views", "interfaces"$/],
    ['instance named like a Graphite subtree', { argv: ['--instance', 'hosts'] }, 'instance', /^config: instance = "hosts": expected /],
    ['instance too long', { overrides: { instance: 'x'.repeat(65) } }, 'instance', /^config: instance = "x+": expected /],
    ['unknown override', { overrides: { output: { fromat: 'json' } } }, 'output.fromat',
      'config: output.fromat = "json": expected a known key, one of format, path (did you mean output.format?)'],
    ['file not a mapping', { file: join(dir, 'list.yaml') }, 'config', ''],
    ['bad JSON', { file: join(dir, 'bad.json') }, 'config', ''],
    ['bad YAML', { file: join(dir, 'bad.yaml') }, 'config', ''],
    ['unknown extension', { file: join(dir, 'c.toml') }, 'config', ''],
    ['missing file', { file: join(dir, 'nope.yaml') }, 'config', ''],
  ];
  for (const [name, opts, key, message] of cases) {
    const e = errorOf(t, opts);
    t.equal(e.key, key, `${name}: key`);
    if (message instanceof RegExp) t.match(e.message, message, name);
    else if (message) t.equal(e.message, message, name);
    else t.match(e.message, /^config: config = ".*": expected (a mapping|valid JSON \(|valid YAML \(|a \.json, \.yaml or \.yml file|a readable file \()/, name);
  }
  t.end();
});

t.test('printConfig renders a loadable config: durations as text', (t) => {
  const c = load({ env: {
    FLOWBRIDGE_INTERVAL: '2m', FLOWBRIDGE_AGGREGATE_HOLD: '1500ms', FLOWBRIDGE_SAMPLING_OVERRIDES: '192.0.2.1=10', FLOWBRIDGE_INFLUX_TOKEN: 's3cret',
  } });
  const out = printConfig(c);
  const parsed = JSON.parse(out);
  t.equal(parsed.interval, '2m');
  t.equal(parsed.aggregate.hold, '1500ms');
  t.equal(parsed.shutdownTimeout, '10s');
  t.same(parsed.listen.netflow, ['0.0.0.0:2055', '[::]:2055']);
  t.equal(parsed.influx.token, '[redacted]', 'the InfluxDB token is a secret');
  const dir = t.testdir({ 'printed.json': out });
  const back = load({ file: join(dir, 'printed.json') });
  back.influx.token = c.influx.token; // a redacted secret does not round-trip, by design
  t.same(back, c, 'round trip');
  t.end();
});

t.test('sensitive keys are redacted in printConfig and in error messages (schema fragment)', (t) => {
  const fragment: Section = {
    sink: {
      url: { doc: 'Where to send.', format: text, default: 'http://127.0.0.1:8086' },
      token: { doc: 'API token.', format: text, default: '', sensitive: true },
      retries: { doc: 'Retries.', format: positiveInt, default: 3, sensitive: true },
      every: { doc: 'Flush period.', format: duration, default: '5s' },
    },
  };
  const cfg = loadConfigFrom<{ sink: { url: string; token: string; retries: number; every: number } }>(fragment, {
    argv: ['--sink-token', 's3cret'], env: { FLOWBRIDGE_SINK_URL: 'http://127.0.0.1:9999' },
  });
  t.equal(cfg.sink.token, 's3cret', 'the loaded value is the real one');
  t.equal(cfg.sink.every, 5000);
  const shown = renderConfig(fragment, cfg);
  t.notMatch(shown, /s3cret/);
  t.same(JSON.parse(shown), { sink: { url: 'http://127.0.0.1:9999', token: '[redacted]', retries: '[redacted]', every: '5s' } });
  try {
    loadConfigFrom(fragment, { argv: [], env: { FLOWBRIDGE_SINK_RETRIES: 'hunter2' } });
    t.fail('should throw');
  } catch (e) {
    t.equal((e as Error).message, 'config: sink.retries = "[redacted]": expected a positive integer such as 1, 100 or 1000');
  }
  t.end();
});
