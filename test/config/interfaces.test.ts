// `interfaces`: exporter address → ifIndex → name. Canonical addresses and ifIndexes, JSON from the
// environment and the command line, YAML with bare keys, and one line naming the key for a bad value
// (status 2 from the built bin).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printConfig, RELOADABLE_KEYS } from '../../src/config/load.js';
import { errorOf, load } from '../helpers/config.js';

const BIN = new URL('../../dist/main.js', import.meta.url).pathname;

t.test('none by default; addresses and ifIndexes canonical, names trimmed; reloadable', async (t) => {
  t.same(load().interfaces, {});
  const c = load({ overrides: { interfaces: { '2001:DB8:0::1': { '0010': ' xe-0/0/1 ', 3: 'ge 0/1 – Übergabe' }, '192.0.2.1': {} } } });
  t.same(c.interfaces, { '2001:db8::1': { 10: 'xe-0/0/1', 3: 'ge 0/1 – Übergabe' }, '192.0.2.1': {} });
  t.same(JSON.parse(printConfig(c)).interfaces, c.interfaces, '--print-config shows them as a file would give them');
  t.ok(RELOADABLE_KEYS.includes('interfaces'), 'applied by SIGHUP');
  const env = load({ env: { FLOWBRIDGE_INTERFACES: '{"192.0.2.7": {"4294967295": "last"}}' } });
  t.same(env.interfaces, { '192.0.2.7': { 4294967295: 'last' } }, 'JSON in the environment');
  const argv = load({ argv: ['--interfaces', '{"192.0.2.8":{"1":"a,b=c"}}'] });
  t.same(argv.interfaces, { '192.0.2.8': { 1: 'a,b=c' } }, 'JSON on the command line; commas and = are name characters');
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-ifnames-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'c.yaml'), 'interfaces:\n  192.0.2.1: { 3: xe-0/0/1, 4: "ge-0/0/0 uplink" }\n');
  t.same(load({ file: join(dir, 'c.yaml') }).interfaces, { '192.0.2.1': { 3: 'xe-0/0/1', 4: 'ge-0/0/0 uplink' } }, 'YAML with bare keys');
});

t.test('bad values: one line naming the key and the expected form', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ '192.0.2.300': { 3: 'x' } }, /^config: interfaces\["192\.0\.2\.300"\] = "192\.0\.2\.300": expected an exporter IPv4\/IPv6 address such as "192\.0\.2\.1"$/],
    [{ 'router-1': { 3: 'x' } }, /^config: interfaces\["router-1"\] = "router-1": expected an exporter IPv4\/IPv6 address/],
    [{ '192.0.2.1': { 0: 'x' } }, /^config: interfaces\["192\.0\.2\.1"\]\["0"\] = "0": expected an ifIndex: a whole number from 1 to 4294967295/],
    [{ '192.0.2.1': { 4294967296: 'x' } }, /\["4294967296"\] = "4294967296": expected an ifIndex/],
    [{ '192.0.2.1': { '-3': 'x' } }, /\["-3"\] = "-3": expected an ifIndex/],
    [{ '192.0.2.1': { eth0: 'x' } }, /\["eth0"\] = "eth0": expected an ifIndex/],
    [{ '192.0.2.1': { 3: '' } }, /^config: interfaces\["192\.0\.2\.1"\]\["3"\] = "": expected an interface name: a non-empty string of at most 64 characters/],
    [{ '192.0.2.1': { 3: '   ' } }, /\["3"\] = "   ": expected an interface name/],
    [{ '192.0.2.1': { 3: 7 } }, /\["3"\] = 7: expected an interface name/],
    [{ '192.0.2.1': { 3: 'a\u0007b' } }, /\["3"\] = "a\\u0007b": expected an interface name: .*without control characters/],
    [{ '192.0.2.1': { 3: 'x'.repeat(65) } }, /\["3"\] = "x{65}": expected an interface name/],
    [{ '192.0.2.1': { 3: 'a', '03': 'b' } }, /\["03"\] = "03": expected each ifIndex once/],
    [{ '192.0.2.1': { 3: 'a' }, ' 192.0.2.1': { 4: 'b' } }, /\[" 192\.0\.2\.1"\] = " 192\.0\.2\.1": expected each exporter once/],
    [{ '192.0.2.1': 'xe-0/0/1' }, /^config: interfaces\["192\.0\.2\.1"\] = "xe-0\/0\/1": expected an object of ifIndex → interface name/],
    [['192.0.2.1'], /^config: interfaces = \["192\.0\.2\.1"\]: expected an object of exporter address → \{ ifIndex → interface name \}/],
  ];
  for (const [interfaces, re] of cases) {
    const e = errorOf(t, { overrides: { interfaces } });
    t.match(e.message, re, JSON.stringify(interfaces));
  }
  const env = errorOf(t, { env: { FLOWBRIDGE_INTERFACES: '192.0.2.1=eth0' } });
  t.match(env.message, /^config: interfaces = "192\.0\.2\.1=eth0": expected an object of exporter address/, 'no compact form: JSON only');
});

t.test('the bin exits 2 with that line', async (t) => {
  const r = spawnSync('node', [BIN, '--interfaces', '{"192.0.2.1":{"0":"x"}}', '--print-config'],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });
  t.equal(r.status, 2);
  t.equal(r.stderr.trim(), 'config: interfaces["192.0.2.1"]["0"] = "0": expected an ifIndex: a whole number from 1 to 4294967295, such as "3"');
});
