import t, { type Test } from 'tap';
import {
  bool, duration, FormatError, hostPort, hostPortList, oneOf, parseHostPort, positiveInt, prefixGroups, prefixList,
  rateMap, text, wholeSeconds, MAX_DURATION_MS,
} from '../../src/config/formats.js';
import { renderDuration } from '../../src/lib/duration.js';

function fails(t: Test, fn: () => unknown, expected: RegExp, sub = '', value?: unknown): void {
  try {
    fn();
    t.fail(`expected a FormatError matching ${expected}`);
  } catch (e) {
    t.ok(e instanceof FormatError, 'FormatError');
    const fe = e as FormatError;
    t.match(fe.expected, expected);
    t.equal(fe.sub, sub);
    if (value !== undefined) t.same(fe.value, value);
  }
}

t.test('duration: seconds as numbers, units as text, stored as integer ms', (t) => {
  t.equal(duration.normalize(10), 10000);
  t.equal(duration.normalize(0.25), 250);
  t.equal(duration.normalize('250ms'), 250);
  t.equal(duration.normalize('10s'), 10000);
  t.equal(duration.normalize('10'), 10000);
  t.equal(duration.normalize('5m'), 300000);
  t.equal(duration.normalize('1h'), 3600000);
  t.equal(duration.normalize('1.5m'), 90000);
  t.equal(duration.normalize(0), 0);
  for (const bad of ['10x', '', 's', '-1s', '1 hour', '0.0001s', -1, NaN, Infinity, null, true, [10], {}]) {
    fails(t, () => duration.normalize(bad), /^a duration such as 10, "10s", "1m"$/);
  }
  fails(t, () => duration.normalize('25d'), /a duration/);
  fails(t, () => duration.normalize(`${MAX_DURATION_MS + 1}ms`), /at most 24 days/);
  t.equal(duration.normalize(`${MAX_DURATION_MS}ms`), MAX_DURATION_MS);
  t.end();
});

t.test('whole-seconds: ≥ 1 s and a whole number of seconds', (t) => {
  t.equal(wholeSeconds.normalize('10s'), 10000);
  t.equal(wholeSeconds.normalize(1), 1000);
  t.equal(wholeSeconds.normalize('1m'), 60000);
  fails(t, () => wholeSeconds.normalize('1500ms'), /^a whole number of seconds ≥ 1/);
  fails(t, () => wholeSeconds.normalize(0), /^a whole number of seconds ≥ 1/);
  fails(t, () => wholeSeconds.normalize('500ms'), /^a whole number of seconds ≥ 1/);
  fails(t, () => wholeSeconds.normalize('10x'), /^a duration such as 10, "10s", "1m"$/);
  t.end();
});

t.test('renderDuration gives the shortest exact text, and it parses back', (t) => {
  const cases: [number, string][] = [[0, '0s'], [250, '250ms'], [1500, '1500ms'], [10000, '10s'], [75000, '75s'],
    [60000, '1m'], [1800000, '30m'], [3600000, '1h'], [5400000, '90m']];
  for (const [ms, s] of cases) {
    t.equal(renderDuration(ms), s);
    t.equal(duration.normalize(s), ms);
  }
  t.end();
});

t.test('positive-int, bool, text, one-of', (t) => {
  t.equal(positiveInt.normalize(5), 5);
  t.equal(positiveInt.coerce!('42'), 42);
  t.equal(positiveInt.coerce!('4x'), '4x');
  for (const bad of [0, -1, 1.5, '5', NaN, 2 ** 53, null]) fails(t, () => positiveInt.normalize(bad), /positive integer/);
  t.equal(bool.coerce!('0'), false);
  t.equal(bool.coerce!('No'), false);
  t.equal(bool.coerce!('on'), true);
  t.equal(bool.coerce!('TRUE'), true);
  t.equal(bool.coerce!('maybe'), 'maybe');
  t.equal(bool.normalize(false), false);
  fails(t, () => bool.normalize('maybe'), /^true or false$/);
  t.equal(text.normalize(''), '');
  fails(t, () => text.normalize(3), /^a string$/);
  const f = oneOf(['a', 'b'] as const);
  t.equal(oneOf(['a', 'b']), f, 'one format object per set');
  t.equal(f.normalize('b'), 'b');
  fails(t, () => f.normalize('c'), /^one of "a", "b"$/);
  t.end();
});

t.test('prefix-list: arrays or comma text, canonical output, host bits refused', (t) => {
  t.same(prefixList.normalize(['10.0.0.0/8', '2001:DB8:0::/32', '192.0.2.7', '::1', '0.0.0.0/0', '::/0']),
    ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7/32', '::1/128', '0.0.0.0/0', '::/0']);
  t.same(prefixList.coerce!(' 10.0.0.0/8, fd00::/8 ,,'), ['10.0.0.0/8', 'fd00::/8']);
  t.same(prefixList.coerce!(''), []);
  t.same(prefixList.normalize('192.168.0.0/16'), ['192.168.0.0/16'], 'text is accepted in files too');
  t.same(prefixList.normalize(['::ffff:10.0.0.0/104']), ['::ffff:a00:0/104'], 'IPv4-mapped stays IPv6');
  fails(t, () => prefixList.normalize(['10.0.0.0/8', '10.0.0.1/8']), /^a prefix with no host bits set, such as "10\.0\.0\.0\/8"$/, '[1]', '10.0.0.1/8');
  fails(t, () => prefixList.normalize(['fd00::1/8']), /such as "fd00::\/8"/, '[0]', 'fd00::1/8');
  for (const bad of ['10.0.0.0/33', '::/129', '10/8', '010.0.0.0/8', '10.0.0.0/', '10.0.0.0/8/8', 'fe80::1%eth0/64', 'x', '1.2.3.4/-1']) {
    fails(t, () => prefixList.normalize([bad]), /^an IPv4\/IPv6 prefix such as/, '[0]', bad);
  }
  fails(t, () => prefixList.normalize([42]), /^an IPv4\/IPv6 prefix/, '[0]', 42);
  fails(t, () => prefixList.normalize({ a: 1 }), /^a list of IPv4\/IPv6 prefixes/);
  t.end();
});

t.test('prefix-groups: names, lists, compact text, one group per prefix', (t) => {
  t.same(prefixGroups.normalize({ home: ['10.0.0.0/8'], 'dmz_2-b': '192.0.2.0/24,2001:db8::/32' }),
    { home: ['10.0.0.0/8'], 'dmz_2-b': ['192.0.2.0/24', '2001:db8::/32'] });
  t.same(prefixGroups.coerce!('home=10.0.0.0/8,fd00::/8; dmz=192.0.2.0/24'), { home: ['10.0.0.0/8', 'fd00::/8'], dmz: ['192.0.2.0/24'] });
  t.same(prefixGroups.coerce!('{"lan": ["10.1.0.0/16"]}'), { lan: ['10.1.0.0/16'] });
  t.equal(prefixGroups.coerce!('{bad json'), '{bad json');
  t.equal(prefixGroups.coerce!('10.0.0.0/8'), '10.0.0.0/8', 'no "=": left for validation to refuse');
  t.same(prefixGroups.normalize({}), {});
  fails(t, () => prefixGroups.normalize({ 'my net': ['10.0.0.0/8'] }), /^a group name made of/, '.my net', 'my net');
  fails(t, () => prefixGroups.normalize({ 'a.b': ['10.0.0.0/8'] }), /^a group name made of/, '.a.b', 'a.b');
  fails(t, () => prefixGroups.normalize({ home: ['10.0.0.0/8', '10.1.0.1/16'] }), /no host bits set, such as "10\.1\.0\.0\/16"/, '.home[1]', '10.1.0.1/16');
  fails(t, () => prefixGroups.normalize({ a: ['10.0.0.0/8'], b: ['10.0.0.0/8'] }), /one group only \(already in "a"\)/, '.b[0]', '10.0.0.0/8');
  fails(t, () => prefixGroups.normalize({ a: 5 }), /^a list of IPv4\/IPv6 prefixes/, '.a', 5);
  fails(t, () => prefixGroups.normalize(['10.0.0.0/8']), /^an object of group name/);
  fails(t, () => prefixGroups.normalize('10.0.0.0/8'), /^an object of group name/);
  t.end();
});

t.test('host-port and host-port-list', (t) => {
  t.same(parseHostPort('127.0.0.1:2003'), { host: '127.0.0.1', port: 2003 });
  t.same(parseHostPort('[::1]:2003'), { host: '::1', port: 2003 });
  t.same(parseHostPort(' [fe80::1%eth0]:0 '), { host: 'fe80::1%eth0', port: 0 });
  t.same(parseHostPort('graphite.example.org:2003'), { host: 'graphite.example.org', port: 2003 });
  t.same(parseHostPort('localhost:65535'), { host: 'localhost', port: 65535 });
  for (const bad of ['::1:2003', '[::1]', '127.0.0.1', '127.0.0.1:65536', '[1.2.3.4]:80', '[zz::1]:80', '10.0.0:80',
    'a_b:80', '-a:80', ':2003', 'host:', 'host:abc', '[::1]:20:03']) {
    t.equal(parseHostPort(bad), null, bad);
  }
  t.equal(hostPort.normalize('[0:0::1]:2003'), '[::1]:2003', 'canonical text');
  fails(t, () => hostPort.normalize('nope'), /^host:port such as/);
  fails(t, () => hostPort.normalize(2003), /^host:port such as/);
  t.same(hostPortList.coerce!('0.0.0.0:2055, [::]:2055'), ['0.0.0.0:2055', '[::]:2055']);
  t.same(hostPortList.normalize(['0.0.0.0:2055', '[::]:2055']), ['0.0.0.0:2055', '[::]:2055']);
  t.same(hostPortList.normalize('a.example:1,b.example:2'), ['a.example:1', 'b.example:2']);
  fails(t, () => hostPortList.normalize(['0.0.0.0:2055', '0.0.0.0']), /^host:port such as/, '[1]', '0.0.0.0');
  fails(t, () => hostPortList.normalize({}), /^a list of host:port/);
  t.end();
});

t.test('rate-map: exporter address → positive rate, canonical keys', (t) => {
  t.same(rateMap.normalize({ '192.0.2.1': 512, '2001:DB8:0::1': 64 }), { '192.0.2.1': 512, '2001:db8::1': 64 });
  t.same(rateMap.coerce!('192.0.2.1=512, 2001:db8::1=64'), { '192.0.2.1': 512, '2001:db8::1': 64 });
  t.same(rateMap.coerce!('{"192.0.2.1": 100}'), { '192.0.2.1': 100 });
  t.same(rateMap.coerce!('192.0.2.1=x'), { '192.0.2.1': 'x' });
  t.equal(rateMap.coerce!('192.0.2.1'), '192.0.2.1');
  fails(t, () => rateMap.normalize({ '192.0.2.1': 0 }), /positive integer/, '["192.0.2.1"]', 0);
  fails(t, () => rateMap.normalize({ '192.0.2.1': 'x' }), /positive integer/, '["192.0.2.1"]', 'x');
  fails(t, () => rateMap.normalize({ '192.0.2.0/24': 4 }), /exporter IPv4\/IPv6 address/, '["192.0.2.0/24"]', '192.0.2.0/24');
  fails(t, () => rateMap.normalize({ '2001:db8::1': 4, '2001:DB8::1': 8 }), /each exporter once/, '["2001:DB8::1"]');
  fails(t, () => rateMap.normalize([]), /^an object of exporter address/);
  t.end();
});
