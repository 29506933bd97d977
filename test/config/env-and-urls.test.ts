// Issue 18, items 9–11 (configuration that lies): a misspelt FLOWBRIDGE_* variable is an error like a
// misspelt key, while the documented non-config ones pass; URL-ish keys are checked at load, naming the
// key and the form; --print-config shows an empty secret as "".
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_NOT_CONFIG, printConfig } from '../../src/config/load.js';
import { renderReference } from '../../src/config/reference.js';
import { listLeaves, schema } from '../../src/config/schema.js';
import { main } from '../../src/cli.js';
import { errorOf, load } from '../helpers/config.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const ENV_NAMES = new Set(listLeaves(schema).map((l) => l.env));

t.test('an unknown FLOWBRIDGE_ variable is an error naming it, with the nearest name', (t) => {
  const cases: [Record<string, string>, string][] = [
    [{ FLOWBRIDGE_INFLUX_URLL: 'http://127.0.0.1:8086' }, 'config: environment variable FLOWBRIDGE_INFLUX_URLL is no configuration key (did you mean FLOWBRIDGE_INFLUX_URL?)'],
    [{ FLOWBRIDGE_INTERVALL: '30' }, 'config: environment variable FLOWBRIDGE_INTERVALL is no configuration key (did you mean FLOWBRIDGE_INTERVAL?)'],
    [{ flowbridge_interval: '30' }, 'config: environment variable flowbridge_interval is no configuration key (did you mean FLOWBRIDGE_INTERVAL?)'],
    [{ FLOWBRIDGE_HOME: '10.0.0.0/8' }, 'config: environment variable FLOWBRIDGE_HOME is no configuration key: expected'],
  ];
  for (const [env, message] of cases) {
    const e = errorOf(t, { env });
    t.equal(e.key, Object.keys(env)[0]);
    t.equal(e.message.slice(0, message.length), message);
    t.match(e.message, 'unset it or correct its name');
    t.notMatch(e.message, Object.values(env)[0]!, 'the value (maybe a secret) is not shown');
  }
  t.end();
});

t.test('known names, the documented non-config names and other variables still load', (t) => {
  const env: Record<string, string | undefined> = { FLOWBRIDGE_INTERVAL: '30', PATH: '/bin', INFLUX_TOKEN: 'x', FLOWBRIDGE_TYPO: undefined };
  for (const k of ENV_NOT_CONFIG) env[k] = '1';
  t.equal(load({ env }).interval, 30_000);
  t.ok(ENV_NOT_CONFIG.includes('FLOWBRIDGE_FUZZ_ITERATIONS'));
  const md = renderReference();
  for (const k of ENV_NOT_CONFIG) t.match(md, `\`${k}\``, `${k} is documented in configuration.md`);
  t.end();
});

/** Files that set or read FLOWBRIDGE_ variables for real (test/config spells wrong ones on purpose). */
function* sources(dir: string, depth = 0): Generator<string> {
  if (depth > 6) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules' && name !== 'config' && name !== 'fixtures') yield* sources(p, depth + 1);
    } else if (/\.(ts|js|ya?ml|sh|json)$/.test(name)) {
      yield p;
    }
  }
}

t.test('every FLOWBRIDGE_ name the project uses is a configuration key or in ENV_NOT_CONFIG', (t) => {
  const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'test')), ...sources(join(ROOT, 'deploy')),
    join(ROOT, 'docker-compose.yml'), join(ROOT, '.env.example'), join(ROOT, 'package.json')];
  const used = new Set<string>();
  for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(/FLOWBRIDGE_[A-Z0-9_]*[A-Z0-9]/g)) used.add(m[0]);
  t.ok(used.has('FLOWBRIDGE_FUZZ_ITERATIONS') && used.has('FLOWBRIDGE_WEB_PORT'), 'the scan finds the non-config names');
  for (const name of used) t.ok(ENV_NAMES.has(name) || ENV_NOT_CONFIG.includes(name), name);
  t.end();
});

t.test('the CLI exits with status 2 and one line for a misspelt variable', async (t) => {
  const err: string[] = [];
  const write = process.stderr.write;
  process.env.FLOWBRIDGE_INFLUX_URLL = 'http://127.0.0.1:8086';
  process.stderr.write = ((s: string) => err.push(s) > 0) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['--print-config']);
  } finally {
    process.stderr.write = write;
    delete process.env.FLOWBRIDGE_INFLUX_URLL;
  }
  t.equal(code, 2);
  t.equal(err.length, 1);
  t.match(err[0], /^config: environment variable FLOWBRIDGE_INFLUX_URLL is no configuration key \(did you mean FLOWBRIDGE_INFLUX_URL\?\)/);
});

t.test('influx.url without a scheme names the key and the form', (t) => {
  for (const opts of [{ argv: ['--influx-url', '127.0.0.1:8086'] }, { env: { FLOWBRIDGE_INFLUX_URL: '127.0.0.1:8086' } }]) {
    const e = errorOf(t, opts);
    t.equal(e.key, 'influx.url');
    t.equal(e.message, 'config: influx.url = "127.0.0.1:8086": expected an http or https URL such as "http://127.0.0.1:8086" (add the scheme: "http://127.0.0.1:8086")');
  }
  const creds = errorOf(t, { env: { FLOWBRIDGE_INFLUX_URL: 'writer:s3cret@influx.example:8086' } });
  t.match(creds.message, '(add the scheme: "http://writer:[redacted]@influx.example:8086")');
  t.notMatch(creds.message, 's3cret', 'the suggestion is redacted too');
  t.notMatch(errorOf(t, { env: { FLOWBRIDGE_INFLUX_URL: 'ftp://influx.example' } }).message, 'add the scheme', 'a wrong scheme gets no suggestion');
  t.end();
});

t.test('alerts.syslog.host: a URL or host:port is an error at load, naming the key and the form', (t) => {
  const bad = ['udp://syslog.example:514', 'syslog.example:514', '[2001:db8::1]', 'tcp://user:s3cret@syslog.example', 'sys log'];
  for (const host of bad) {
    const e = errorOf(t, { overrides: { alerts: { syslog: { host } } } });
    t.equal(e.key, 'alerts.syslog.host', host);
    t.match(e.message, /^config: alerts\.syslog\.host = ".*": expected a host name or IP address such as "syslog\.example" or "192\.0\.2\.10", without scheme, brackets or port \(that is alerts\.syslog\.port\)/);
    t.notMatch(e.message, 's3cret');
  }
  const e = errorOf(t, { argv: ['--alerts-syslog-host', 'udp://127.0.0.1:514'] });
  t.equal(e.key, 'alerts.syslog.host', 'from the command line too');
  for (const host of ['', 'localhost', 'syslog.example', 'syslog.example.', '192.0.2.10', '2001:db8::1', '::1']) {
    t.equal(load({ overrides: { alerts: { syslog: { host } } } }).alerts.syslog.host, host, `${JSON.stringify(host)} loads`);
  }
  t.end();
});

t.test('--print-config shows an empty secret as "" and a set one as "[redacted]"', (t) => {
  const token = (argv: string[]) => (JSON.parse(printConfig(load({ argv }))) as { influx: { token: string } }).influx.token;
  t.equal(token([]), '', 'the default empty token');
  t.equal(token(['--influx-token', '']), '');
  t.equal(token(['--influx-token', 's3cret']), '[redacted]');
  t.end();
});
