import t from 'tap';
import { checkViews } from '../../src/config/views.js';
import { DEFAULT_VIEWS } from '../../src/aggregate/views.js';
import { errorOf, load } from '../helpers/config.js';

t.test('two views by default, [] turns them off', (t) => {
  t.same(load().views, DEFAULT_VIEWS, 'interfaces and remotehosts');
  t.same(load({ overrides: { views: [] } }).views, [], 'views: [] in the configuration');
  t.same(load({ env: { FLOWBRIDGE_VIEWS: '[]' } }).views, [], 'and in the environment');
  const suggested = load().views;
  t.same(suggested.map((v) => [v.name, v.keys, v.per, v.top]), [
    ['interfaces', ['exporter', 'interface'], 'direction', 100], ['remotehosts', ['remotehost'], 'direction', 100],
  ]);
  t.end();
});

t.test('a view list replaces the defaults; keys are case-insensitive, fields default', (t) => {
  const v = load({ overrides: { views: [{ name: 'as', keys: ['RemoteAS', 'dscp'], per: 'none', filter: 'protocol=udp' }] } }).views;
  t.same(v, [{ name: 'as', keys: ['remoteas', 'dscp'], top: 100, filter: 'protocol=udp', per: 'none' }]);
  const env = load({ env: { FLOWBRIDGE_VIEWS: '[{"name":"x","keys":"srcas,dstas","top":5}]' } }).views;
  t.same(env, [{ name: 'x', keys: ['srcas', 'dstas'], top: 5, filter: '', per: 'direction' }], 'JSON in the environment');
  t.end();
});

t.test('invalid views exit 2 naming the key', (t) => {
  const ok = { name: 'ok', keys: ['protocol'] };
  const cases: [unknown, RegExp][] = [
    [[ok, { name: 'b', keys: ['ifindx'] }], /^config: views\[1\]\.keys\[0\] = "ifindx": expected one of ipsource, .* \(did you mean inputifindex\?\)$/],
    [[{ name: 'b', keys: ['protocl'] }], /views\[0\]\.keys\[0\] = "protocl": expected one of .* \(did you mean protocol\?\)/],
    [[{ name: 'b', keys: [] }], /views\[0\]\.keys = \[\]: expected a list of one or more flow keys/],
    [[{ name: 'b', keys: ['interface'] }], /views\[0\]\.keys = \["interface"\]: expected exporter beside interface/],
    [[{ name: 'b', keys: ['vlan', 'vlan'] }], /views\[0\]\.keys = .*: expected each key once/],
    [[{ name: 'b', keys: ['vlan'], per: 'key' }], /views\[0\]\.per = "key": expected one of "direction", "none"/],
    [[{ name: 'b', keys: ['vlan'], top: 0 }], /views\[0\]\.top = 0: expected a whole number from 1 to 100000/],
    [[{ name: 'b', keys: ['vlan'], filter: 'protocol=' }], /views\[0\]\.filter = "protocol=": expected a filter expression \(at 10: expected a value for protocol\)/],
    [[{ name: 'b', keys: ['vlan'], filter: 'interface=3' }], /views\[0\]\.filter = .*interface is a key of views and alert keys, not of filters/],
    [[{ name: 'b', keys: ['vlan'], tops: 3 }], /views\[0\]\.tops = 3: expected a known field, one of name, keys, top, filter, per/],
    [[ok, ok], /views\[1\]\.name = "ok": expected a name not used by another view/],
    [[{ name: 'a b', keys: ['vlan'] }], /views\[0\]\.name = "a b": expected a name of 1-32 characters/],
    [{ name: 'x' }, /^config: views = .*: expected a list of views/],
  ];
  for (const [views, re] of cases) {
    const e = errorOf(t, { overrides: { views } });
    t.match(e.message, re, JSON.stringify(views));
  }
  t.end();
});

t.test('interface is a key of alert definitions too, beside exporter', (t) => {
  const e = errorOf(t, { overrides: { alerts: { flows: [{ name: 'a', keys: ['interface'], event: 'each' }] } } });
  t.match(e.message, /^config: alerts\.flows\[0\]\.keys = \["interface"\]: expected exporter beside interface/);
  t.same(load({ overrides: { alerts: { flows: [{ name: 'a', keys: ['exporter', 'interface'], event: 'each' }] } } }).alerts.flows[0]!.keys, ['exporter', 'interface']);
  t.end();
});

t.test('a filter naming a group the networks lack', (t) => {
  const cfg = load({ overrides: { views: [{ name: 'a', keys: ['vlan'] }, { name: 'b', keys: ['vlan'], filter: 'group=lab' }] } });
  t.throws(() => checkViews(cfg, ['home']), /^config: views\[1\]\.filter = "group=lab": expected a filter expression \(at 7: unknown group "lab"; groups: home\)$/);
  t.doesNotThrow(() => checkViews(cfg, ['home', 'lab']));
  t.end();
});
