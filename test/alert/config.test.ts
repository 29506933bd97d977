// alerts.* configuration: the documented YAML loads as written; bad definitions give one-line errors
// naming the exact key.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { loadConfig, printConfig, type LoadOptions } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { ConfigError } from '../../src/lib/errors.js';
import { createAlerting } from '../../src/alert/alerting.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';

const load = (o: LoadOptions = {}): Config => loadConfig({ argv: [], env: {}, ...o });

const DOC_YAML = `alerts:
  syslog: { host: 127.0.0.1, port: 514, protocol: udp, format: rfc5424, facility: local0, severity: notice }
  flows:
    - name: uport
      keys: [ipsource, ipdestination, icmpunreachableport]
      value: frames
      event: each
    - name: host-in
      keys: [ipdestination]
      filter: direction=in
      value: bps
      threshold: { above: 100000000, clear: 80000000, for: 2 }
`;

function errorOf(t: Test, o: LoadOptions): string {
  try {
    load(o);
  } catch (e) {
    t.ok(e instanceof ConfigError, 'a ConfigError');
    t.notMatch((e as Error).message, /\n/, 'one line');
    return (e as Error).message;
  }
  t.fail('did not throw');
  return '';
}

const flows = (...defs: unknown[]): LoadOptions => ({ overrides: { alerts: { flows: defs } } });
const uport = { name: 'uport', keys: ['ipsource'], event: 'each' };

t.test('the documented YAML loads as written', (t) => {
  const dir = t.testdir({ 'c.yaml': DOC_YAML });
  const c = load({ file: join(dir, 'c.yaml') });
  const s = c.alerts.syslog;
  t.same([s.host, s.port, s.protocol, s.format, s.facility, s.severity], ['127.0.0.1', 514, 'udp', 'rfc5424', 'local0', 'notice']);
  t.same(c.alerts.flows, [
    { name: 'uport', keys: ['ipsource', 'ipdestination', 'icmpunreachableport'], value: 'frames', filter: '', table: 10000,
      event: { suppress: 600000 }, threshold: null, severity: null },
    { name: 'host-in', keys: ['ipdestination'], value: 'bps', filter: 'direction=in', table: 10000, event: null,
      threshold: { above: 100000000, clear: 80000000, for: 2, cooldown: 0, window: 1, per: 'key' }, severity: null },
  ]);
  t.equal(c.alerts.rateLimit, 1000);
  // printConfig renders a file that loads back to the same configuration
  const again = t.testdir({ 'p.json': printConfig(c) });
  t.same(load({ file: join(again, 'p.json') }).alerts, c.alerts);
  t.end();
});

t.test('defaults: alerting on, no syslog, no definitions, shortcuts off', (t) => {
  const a = load().alerts;
  t.equal(a.enabled, true);
  t.equal(a.syslog.host, '');
  t.same(a.flows, []);
  t.same(a.hosts, { inBps: null, outBps: null, inPps: null, outPps: null, inFlows: null, outFlows: null });
  t.same(a.syslog.tls, { ca: '', cert: '', key: '', verify: true, servername: '' });
  t.same([a.syslog.queue, a.syslog.reconnectMin, a.syslog.reconnectMax, a.syslog.framing], [10000, 500, 30000, 'octet-counting']);
  t.end();
});

t.test('bad definitions name the key, the value and the expected form', (t) => {
  const cases: [LoadOptions, RegExp][] = [
    [flows(uport, { name: 'x', keys: ['ipsource'], value: 'bitz', event: 'each' }), /^config: alerts\.flows\[1\]\.value = "bitz": expected one of "bytes", "packets", "frames", "flows", "bps", "pps"$/],
    [flows({ name: 'x', keys: ['ipsource', 'port'], event: 'each' }), /^config: alerts\.flows\[0\]\.keys\[1\] = "port": expected a flow key, one of ipsource, /],
    [flows({ name: 'x', keys: ['ipsource'] }), /^config: alerts\.flows\[0\]\.event = undefined|^config: alerts\.flows\[0\]\.event = .*expected an "event" or a "threshold"/],
    [flows({ name: 'x', keys: [], event: 'each' }), /^config: alerts\.flows\[0\]\.keys = \[\]: expected at least one key/],
    [flows({ name: 'x', keys: ['ipsource'], filter: 'direction=sideways', event: 'each' }),
      /^config: alerts\.flows\[0\]\.filter = "direction=sideways": expected a filter expression \(at 11: bad value "sideways" for direction: expected in, out, internal, external\)$/],
    [flows({ name: 'x', keys: ['ipsource'], threshold: { above: 10, clear: 20 } }), /^config: alerts\.flows\[0\]\.threshold\.clear = 20: expected a value to clear at that is ≤ above \(10\)$/],
    [flows({ name: 'x', keys: ['ipsource'], threshold: { above: 10, for: 0 } }), /^config: alerts\.flows\[0\]\.threshold\.for = 0: expected a whole number from 1 to 1000$/],
    [flows({ name: 'x', keys: ['ipsource'], threshold: { abve: 10 } }), /^config: alerts\.flows\[0\]\.threshold\.abve = 10: expected a known field/],
    [flows({ name: 'x', keys: ['ipsource'], threshold: { above: 1, cooldown: '5x' } }), /^config: alerts\.flows\[0\]\.threshold\.cooldown = "5x": expected a duration/],
    [flows({ name: 'x', keys: ['ipsource'], evnt: 'each' }), /^config: alerts\.flows\[0\]\.evnt = "each": expected a known field, one of name, /],
    [flows(uport, uport), /^config: alerts\.flows\[1\]\.name = "uport": expected a name not used by another definition$/],
    [flows({ name: 'has space', keys: ['ipsource'], event: 'each' }), /^config: alerts\.flows\[0\]\.name = "has space": expected a name of 1-32/],
    [flows({ ...uport, severity: 'loud' }), /^config: alerts\.flows\[0\]\.severity = "loud": expected a syslog severity/],
    [{ overrides: { alerts: { flows: { name: 'x' } } } }, /^config: alerts\.flows = \{"name":"x"\}: expected a list of flow definitions/],
    [{ overrides: { alerts: { syslog: { port: 70000 } } } }, /^config: alerts\.syslog\.port = 70000: expected a port number from 1 to 65535$/],
    [{ overrides: { alerts: { syslog: { facility: 'local9' } } } }, /^config: alerts\.syslog\.facility = "local9": expected a syslog facility/],
    [{ overrides: { alerts: { syslog: { protocol: 'relp' } } } }, /^config: alerts\.syslog\.protocol = "relp": expected one of "udp", "tcp", "tls"$/],
    [{ overrides: { alerts: { syslog: { appName: 'flow bridge' } } } }, /^config: alerts\.syslog\.appName = "flow bridge": expected 1-48 printable ASCII/],
    [{ overrides: { alerts: { hosts: { inBps: { above: 5, clear: 6 } } } } }, /^config: alerts\.hosts\.inBps\.clear = 6: expected a value to clear at that is ≤ above \(5\)$/],
  ];
  for (const [o, re] of cases) t.match(errorOf(t, o), re);
  t.end();
});

t.test('environment and command line take JSON lists and compact thresholds', (t) => {
  const c = load({
    env: {
      FLOWBRIDGE_ALERTS_FLOWS: JSON.stringify([{ name: 'scan', keys: 'ipsource,ipdestination', event: { suppress: '1m' }, value: 'flows' }]),
      FLOWBRIDGE_ALERTS_HOSTS_IN_BPS: 'above=1e8,clear=8e7,for=2',
      FLOWBRIDGE_ALERTS_SYSLOG_SEVERITY: '4',
      FLOWBRIDGE_ALERTS_SYSLOG_FACILITY: '17',
    },
    argv: ['--alerts-groups-out-pps', '5000', '--alerts-syslog-protocol', 'tls'],
  });
  t.same(c.alerts.flows[0]!.keys, ['ipsource', 'ipdestination']);
  t.same(c.alerts.flows[0]!.event, { suppress: 60000 });
  t.same(c.alerts.hosts.inBps, { above: 1e8, clear: 8e7, for: 2, cooldown: 0, window: 1, per: 'key' });
  t.same(c.alerts.groups.outPps, { above: 5000, clear: 5000, for: 1, cooldown: 0, window: 1, per: 'key' });
  t.equal(c.alerts.syslog.severity, 'warning');
  t.equal(c.alerts.syslog.facility, 'local1');
  t.equal(c.alerts.syslog.protocol, 'tls');
  t.equal(load({ env: { FLOWBRIDGE_ALERTS_HOSTS_IN_BPS: 'off' } }).alerts.hosts.inBps, null);
  t.end();
});

t.test('createAlerting: shortcuts become definitions; unknown groups and clashing names are errors', (t) => {
  const deps = { metrics: new Metrics(), log: silentLogger, groupNames: ['home', 'dmz'], intervalMs: 10000 };
  const c = load({ overrides: { alerts: { hosts: { inBps: 1e8, outFlows: { above: 100, for: 3 } }, groups: { inPps: 1000 } } } });
  const a = createAlerting(c, deps);
  t.same(a.definitions.map((d) => [d.name, d.keys, d.value, d.filter]), [
    ['hosts-in-bps', ['ipdestination'], 'bps', 'direction=in,internal'],
    ['groups-in-pps', ['destinationgroup'], 'pps', ''],
    ['hosts-out-flows', ['ipsource'], 'flows', 'direction=out,internal'],
  ]);
  t.equal(a.sender, null, 'no syslog host, no sender');
  const bad = load(flows({ name: 'g', keys: ['group'], filter: 'group=lab', event: 'each' }));
  t.throws(() => createAlerting(bad, deps), { message: 'config: alerts.flows[0].filter = "group=lab": expected a filter expression (at 7: unknown group "lab"; groups: home, dmz)' });
  const clash = load({ overrides: { alerts: { hosts: { inBps: 1 }, flows: [{ name: 'hosts-in-bps', keys: ['ipsource'], event: 'each' }] } } });
  t.throws(() => createAlerting(clash, deps), /hosts-in-bps.*not used by another definition/);
  const off = load({ overrides: { alerts: { enabled: false, flows: [uport] } } });
  t.same(createAlerting(off, deps).definitions, [], 'alerts.enabled=false: nothing evaluated');
  const tls = load({ overrides: { alerts: { syslog: { host: '127.0.0.1', protocol: 'tls', tls: { ca: '/nonexistent/ca.pem' } } } } });
  t.throws(() => createAlerting(tls, deps), /^config: alerts\.syslog\.tls\.ca = "\/nonexistent\/ca\.pem": expected a readable PEM file/);
  t.end();
});
