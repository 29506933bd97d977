// Configuration that a careless or hostile hand wrote: prototype keys, options given twice, options
// that do not exist, credentials that must not reach --print-config or an error message.
import t from 'tap';
import { join } from 'node:path';
import { printConfig, type LoadOptions } from '../../src/config/load.js';
import { main, parseCli } from '../../src/cli.js';
import { errorOf, load } from '../helpers/config.js';

t.test('__proto__, constructor and prototype keys are unknown keys, not silently dropped', (t) => {
  const dir = t.testdir({
    'top.json': '{"__proto__": {"interval": 20}}',
    'nested.json': '{"aggregate": {"__proto__": {"topHosts": 5}}}',
    'top.yaml': '__proto__:\n  interval: 20\n',
    'nested.yaml': 'aggregate:\n  __proto__:\n    topHosts: 5\n',
    'constructor.json': '{"output": {"constructor": {"prototype": {"x": 1}}}}',
    'prototype.yaml': 'log:\n  prototype: 1\n',
    'group.json': '{"networks": {"__proto__": ["10.0.0.0/8"], "lan": ["192.0.2.0/24"]}}',
    'group.yaml': 'networks:\n  constructor: [10.0.0.0/8]\n',
  });
  const TOP = /^config: __proto__ = \{"interval":20\}: expected a known key, one of listen, exporters, networks, interval, /;
  const cases: [string, LoadOptions, string, RegExp][] = [
    ['JSON, top level', { file: join(dir, 'top.json') }, '__proto__', TOP],
    ['YAML, top level', { file: join(dir, 'top.yaml') }, '__proto__', TOP],
    ['JSON, in a section', { file: join(dir, 'nested.json') }, 'aggregate.__proto__',
      /^config: aggregate\.__proto__ = \{"topHosts":5\}: expected a known key, one of assign, hold, /],
    ['YAML, in a section', { file: join(dir, 'nested.yaml') }, 'aggregate.__proto__', /^config: aggregate\.__proto__ = /],
    ['overrides', { overrides: JSON.parse('{"__proto__": {"interval": 20}}') as object }, '__proto__', TOP],
    ['nested overrides', { overrides: JSON.parse('{"output": {"__proto__": {"format": "json"}}}') as object }, 'output.__proto__',
      /^config: output\.__proto__ = \{"format":"json"\}: expected a known key, one of format, path$/],
    ['constructor', { file: join(dir, 'constructor.json') }, 'output.constructor', /^config: output\.constructor = .*: expected a known key/],
    ['prototype', { file: join(dir, 'prototype.yaml') }, 'log.prototype', /^config: log\.prototype = 1: expected a known key/],
    ['group named __proto__ in a file', { file: join(dir, 'group.json') }, 'networks',
      /^config: networks\.__proto__ = "__proto__": expected a group name other than __proto__, constructor and prototype$/],
    ['group named constructor', { file: join(dir, 'group.yaml') }, 'networks', /^config: networks\.constructor = "constructor": expected a group name /],
    ['group named __proto__ in the environment', { env: { FLOWBRIDGE_NETWORKS: '__proto__=10.0.0.0/8;lan=192.0.2.0/24' } }, 'networks',
      /^config: networks\.__proto__ = "__proto__": expected a group name /],
  ];
  for (const [name, opts, key, message] of cases) {
    const e = errorOf(t, opts);
    t.equal(e.key, key, `${name}: key`);
    t.match(e.message, message, name);
  }
  t.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'interval'), false, 'nothing reached Object.prototype');
  t.end();
});

t.test('an option given twice is an error naming the key; list options add up', (t) => {
  const cases: [string[], string, string][] = [
    [['--influx-url', 'http://a:8086', '--influx-url', 'http://b:8086'], 'influx.url',
      'config: influx.url: expected --influx-url once, not 2 times (only list options, such as --listen-netflow, add up)'],
    [['--state-file', 'a', '--state-file=b'], 'state.file', 'config: state.file: expected --state-file once, not 2 times (only list options, such as --listen-netflow, add up)'],
    [['--interval', '10', '--interval', '20', '--interval', '30'], 'interval', 'config: interval: expected --interval once, not 3 times (only list options, such as --listen-netflow, add up)'],
    [['--no-influx-enabled', '--influx-enabled'], 'influx.enabled', 'config: influx.enabled: expected --influx-enabled once, not 2 times (only list options, such as --listen-netflow, add up)'],
    [['--networks', 'a=10.0.0.0/8', '--networks', 'b=192.0.2.0/24'], 'networks', 'config: networks: expected --networks once, not 2 times (only list options, such as --listen-netflow, add up)'],
  ];
  for (const [argv, key, message] of cases) {
    const e = errorOf(t, { argv });
    t.equal(e.key, key);
    t.equal(e.message, message);
  }
  const c = load({ argv: ['--listen-netflow', '0.0.0.0:2055', '--listen-netflow', '[::]:2055,127.0.0.1:9995', '--exporters-allow', '192.0.2.0/24', '--exporters-allow=198.51.100.0/24'] });
  t.same(c.listen.netflow, ['0.0.0.0:2055', '[::]:2055', '127.0.0.1:9995'], 'a repeated list option adds its items');
  t.same(c.exporters.allow, ['192.0.2.0/24', '198.51.100.0/24']);
  t.end();
});

t.test('an option that is no configuration key is an error on the command line, with a suggestion', (t) => {
  // convict ignores options it does not know, so `--intreval 20` used to run with the default interval
  t.throws(() => parseCli(['--intreval', '20']), { name: 'ConfigError', key: 'intreval', message: 'config: unknown option --intreval (did you mean --interval?)' });
  t.throws(() => parseCli(['replay', 'a.pcap', '--influxUrl=http://x:8086']), { name: 'ConfigError', message: 'config: unknown option --influxUrl (did you mean --influx-url?)' });
  t.throws(() => parseCli(['--no-such-thing']), { name: 'ConfigError', message: 'config: unknown option --no-such-thing' });
  const c = parseCli(['--no-influx-enabled', '--influx-url=http://x:8086']);
  t.same(typeof c === 'object' && c.argv, ['--no-influx-enabled', '--influx-url=http://x:8086'], 'known options and --no-KEY pass to loadConfig');
  t.end();
});

t.test('the CLI: a repeated shortcut is an error, and a repeated option exits with status 2', async (t) => {
  t.throws(() => parseCli(['--config', 'a.yaml', '--config', 'b.yaml']), { name: 'ConfigError', key: 'config', message: 'config: config: expected --config once, not 2 times' });
  t.throws(() => parseCli(['--home', '10.0.0.0/8', '--home=192.0.2.0/24']), { key: 'home', message: 'config: home: expected --home once, not 2 times' });
  t.throws(() => parseCli(['--output', 'json', '--output', 'none']), { name: 'ConfigError', message: 'config: output: expected --output once, not 2 times' });
  const err: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => err.push(s) > 0) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['--print-config', '--influx-url', 'http://a:8086', '--influx-url', 'http://b:8086']);
  } finally {
    process.stderr.write = write;
  }
  t.equal(code, 2);
  t.same(err, ['config: influx.url: expected --influx-url once, not 2 times (only list options, such as --listen-netflow, add up)\n']);
});

t.test('credentials in influx.url are redacted by --print-config and in error messages', (t) => {
  const shown = (url: string) => (JSON.parse(printConfig(load({ argv: ['--influx-url', url] }))) as { influx: { url: string } }).influx.url;
  t.equal(shown('http://writer:s3cret@influx.example:8086'), 'http://writer:[redacted]@influx.example:8086', 'the user name stays, the password goes');
  t.equal(shown('https://s3cret@influx.example/prefix'), 'https://[redacted]@influx.example/prefix', 'userinfo without ":" may be a token: all of it goes');
  t.equal(shown('http://127.0.0.1:8086'), 'http://127.0.0.1:8086', 'a URL without credentials is shown as given');
  t.equal(load({ argv: ['--influx-url', 'http://writer:s3cret@influx.example:8086'] }).influx.url, 'http://writer:s3cret@influx.example:8086', 'the loaded value is the real one');
  const bad: [LoadOptions, string, string][] = [
    [{ argv: ['--influx-url', 'ftp://writer:s3cret@influx.example'] }, 'influx.url',
      'config: influx.url = "ftp://writer:[redacted]@influx.example": expected an http or https URL such as "http://127.0.0.1:8086"'],
    [{ env: { FLOWBRIDGE_INFLUX_URL: 'writer:s3cret@influx.example:8086' } }, 'influx.url',
      'config: influx.url = "writer:[redacted]@influx.example:8086": expected an http or https URL such as "http://127.0.0.1:8086"'],
    [{ env: { FLOWBRIDGE_GRAPHITE_ADDRESS: 'user:s3cret@carbon.example:2003' } }, 'graphite.address',
      'config: graphite.address = "user:[redacted]@carbon.example:2003": expected host:port such as "127.0.0.1:2003", "[::1]:2003" or "collector.example:2003"'],
    [{ overrides: { influx: { ulr: 'http://writer:s3cret@influx.example:8086' } } }, 'influx.ulr',
      'config: influx.ulr = "http://writer:[redacted]@influx.example:8086": expected a known key, one of '],
  ];
  for (const [opts, key, message] of bad) {
    const e = errorOf(t, opts);
    t.equal(e.key, key);
    t.notMatch(e.message, /s3cret/, `${key}: the password is not shown`);
    t.equal(e.message.slice(0, message.length), message);
  }
  t.end();
});

t.test('__proto__ inside a structured value (alert definitions) is refused, not lost', (t) => {
  const dir = t.testdir({ 'flows.json': '{"alerts": {"flows": [{"__proto__": {"x": 1}, "name": "a"}]}}' });
  for (const opts of [{ file: join(dir, 'flows.json') }, { env: { FLOWBRIDGE_ALERTS_FLOWS: '[{"__proto__": {"x": 1}, "name": "a"}]' } }]) {
    const e = errorOf(t, opts);
    t.equal(e.key, 'alerts.flows[0].__proto__');
    t.match(e.message, /^config: alerts\.flows\[0\]\.__proto__ = .*: expected a key other than __proto__$/);
  }
  t.end();
});
