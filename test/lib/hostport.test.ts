import t from 'tap';
import { splitHostPort, type HostPortOptions } from '../../src/lib/hostport.js';

const LISTEN: HostPortOptions = { names: false, emptyHost: '0.0.0.0' };
const SINK: HostPortOptions = { names: true, anyZone: true };

t.test('accepts IP literals, bracketed IPv6 with a zone, and the empty host where allowed', async (t) => {
  t.same(splitHostPort('0.0.0.0:2055', LISTEN), { ok: true, host: '0.0.0.0', port: 2055, v6: false });
  t.same(splitHostPort(' [::1]:0 ', LISTEN), { ok: true, host: '::1', port: 0, v6: true });
  t.same(splitHostPort('[fe80::1%eth0]:65535', LISTEN), { ok: true, host: 'fe80::1%eth0', port: 65535, v6: true });
  t.same(splitHostPort(':6343', LISTEN), { ok: true, host: '0.0.0.0', port: 6343, v6: false });
  t.match(splitHostPort('0:0::1]:1', SINK), { ok: false, problem: 'unbracketed-v6' }, 'no opening bracket');
  t.same(splitHostPort('[0:0::1]:2003', SINK), { ok: true, host: '0:0::1', port: 2003, v6: true }, 'as written, not canonical');
});

t.test('host names only where allowed; digits and dots are always an address', async (t) => {
  t.same(splitHostPort('graphite.example.org:2003', SINK), { ok: true, host: 'graphite.example.org', port: 2003, v6: false });
  t.match(splitHostPort('localhost:2055', LISTEN), { ok: false, problem: 'not-v4', host: 'localhost' });
  t.match(splitHostPort('10.0.0:80', SINK), { ok: false, problem: 'not-v4' });
  t.match(splitHostPort('a_b:80', SINK), { ok: false, problem: 'bad-name' });
  t.match(splitHostPort('-a:80', SINK), { ok: false, problem: 'bad-name' });
});

t.test('names each problem, the address before the port', async (t) => {
  const cases: [string, HostPortOptions, string][] = [
    ['[::1]2055', LISTEN, 'bracket'],
    ['[::1', LISTEN, 'bracket'],
    ['[1.2.3.4]:80', LISTEN, 'not-v6'],
    ['[zz::1]:x', LISTEN, 'not-v6'],
    ['2055', LISTEN, 'no-port'],
    ['::1:2055', LISTEN, 'unbracketed-v6'],
    [':2003', SINK, 'empty-host'],
    ['0.0.0.0:65536', LISTEN, 'bad-port'],
    ['0.0.0.0:', LISTEN, 'bad-port'],
    ['host:20x5', SINK, 'bad-port'],
    ['[::1]:20:03', SINK, 'bad-port'],
  ];
  for (const [text, opts, problem] of cases) t.match(splitHostPort(text, opts), { ok: false, problem }, text);
  t.same(splitHostPort('0.0.0.0:20x5', LISTEN), { ok: false, problem: 'bad-port', host: '0.0.0.0', portText: '20x5' });
});

t.test('zones: node\'s rule unless any zone text is allowed', async (t) => {
  t.match(splitHostPort('[fe80::1%]:0', LISTEN), { ok: false, problem: 'not-v6' });
  t.same(splitHostPort('[fe80::1%]:0', SINK), { ok: true, host: 'fe80::1%', port: 0, v6: true });
  t.match(splitHostPort('[zz::1%eth0]:0', SINK), { ok: false, problem: 'not-v6' });
});
