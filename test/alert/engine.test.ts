// The alert engine on synthetic records: events per new key tuple with suppression and the global rate
// limit, thresholds per key and in total over intervals of the pipeline clock, sampling, shortcuts,
// bounded tables, and no allocation for records that no definition wants.
import t from 'tap';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { createAlerting } from '../../src/alert/alerting.js';
import type { AlertEvent } from '../../src/alert/event.js';
import { loadConfig } from '../../src/config/load.js';
import { FlowRecord, IpVersion } from '../../src/flow/record.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';

const I = 10_000;
const T0 = 1_793_491_200_000; // an interval boundary
const GROUPS = ['home', 'dmz'];
const ip = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0) >>> 0;
const IN = 0, OUT = 1, INTERNAL = 2;

function rec(o: { src?: string; dst?: string; proto?: number; dport?: number; bytes?: number; packets?: number; rate?: number; unreach?: number; exporter?: string }): FlowRecord {
  const r = new FlowRecord();
  r.clear();
  r.ipVersion = IpVersion.V4;
  r.src4 = ip(o.src ?? '192.0.2.1');
  r.dst4 = ip(o.dst ?? '10.1.0.5');
  r.protocol = o.proto ?? 6;
  r.srcPort = 40000;
  r.dstPort = o.dport ?? 443;
  r.bytes = o.bytes ?? 1000;
  r.packets = o.packets ?? 1;
  r.samplingRate = o.rate ?? 1;
  r.exporter = o.exporter ?? '192.0.2.250';
  if (o.unreach !== undefined) {
    r.protocol = 1;
    r.icmpType = 3;
    r.icmpCode = 3;
    r.unreachProto = 17;
    r.unreachPort = o.unreach;
  }
  // renormalized as the decode stage does (flow/normalize.ts)
  r.scaledBytes = r.bytes * r.samplingRate;
  r.scaledPackets = r.packets * r.samplingRate;
  r.scaledFlows = r.samplingRate;
  return r;
}

function setup(alerts: Record<string, unknown>, now = () => clock.wall) {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { alerts } });
  const got: AlertEvent[] = [];
  const metrics = new Metrics();
  const a = createAlerting(cfg, { metrics, log: silentLogger, groupNames: GROUPS, intervalMs: I, sinks: { writeAlert: (x) => { got.push(x); } }, now });
  return { engine: a.observer, got, metrics, defs: a.definitions };
}
const clock = { wall: T0 };

t.test('event: one alert per new key tuple, keys by name, interval from the pipeline clock', (t) => {
  const { engine, got, metrics } = setup({ flows: [{ name: 'uport', keys: ['ipsource', 'ipdestination', 'icmpunreachableport'], value: 'frames', event: 'each' }] });
  engine.advance(T0 + 3000);
  for (let rep = 0; rep < 3; rep++) {
    for (let p = 1000; p < 1010; p++) engine.onRecord(rec({ src: '10.1.1.1', dst: '203.0.113.66', unreach: p, packets: 2, rate: 5 }), OUT, 0, -1, T0 + 3000 + rep);
  }
  engine.onRecord(rec({ dport: 80 }), IN, -1, 0, T0 + 3000); // no unreachable port: not this definition's
  t.equal(got.length, 10);
  t.same(got[0], {
    kind: 'event', name: 'uport', keys: { ipsource: '10.1.1.1', ipdestination: '203.0.113.66', icmpunreachableport: 1000 },
    value: 10, metric: 'frames', start: T0 / 1000, end: T0 / 1000 + 10, exporter: '192.0.2.250', time: T0,
  }, 'frames renormalized by the sampling rate (2 × 5)');
  t.same(got.map((a) => a.keys.icmpunreachableport), [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]);
  t.equal(metrics.total('alerts_total', { name: 'uport', kind: 'event' }), 10);
  t.equal(metrics.total('alert_records_total', { name: 'uport' }), 30);
  t.end();
});

t.test('event: the suppression window (record time) and the bounded tuple memory', (t) => {
  const { engine, got, metrics } = setup({ flows: [{ name: 'scan', keys: ['ipsource', 'destinationport'], filter: 'direction=in', event: { suppress: '1m' }, table: 100 }] });
  const hit = (port: number, at: number) => engine.onRecord(rec({ dport: port }), IN, -1, 0, at);
  hit(22, T0);
  hit(22, T0 + 59_999);
  t.equal(got.length, 1, 'silent inside the window');
  hit(22, T0 + 60_000);
  t.equal(got.length, 2, 'again once it passed');
  hit(22, T0 + 60_001);
  t.equal(got.length, 2, 'the window restarts at the last alert');
  hit(23, T0 + 1);
  engine.onRecord(rec({ dport: 24 }), OUT, 0, -1, T0); // filtered out
  t.equal(got.length, 3);
  // 150 distinct ports in a table of 100: the oldest are forgotten and counted, not re-alerted while remembered
  for (let p = 1000; p < 1150; p++) hit(p, T0 + 70_000);
  t.equal(got.length, 153);
  t.equal(metrics.total('alert_table_overflow_total', { name: 'scan' }), 52, '150 + 2 tuples, 100 kept');
  hit(1149, T0 + 70_001);
  t.equal(got.length, 153, 'a remembered tuple stays silent');
  hit(1000, T0 + 70_001);
  t.equal(got.length, 154, 'a forgotten one alerts again');
  t.end();
});

t.test('event: the global rate limit (wall clock) holds back a flood and reports it once', (t) => {
  clock.wall = T0;
  const { engine, got, metrics } = setup({ rateLimit: 50, flows: [{ name: 'flood', keys: ['destinationport'], event: 'each' }] });
  engine.advance(T0);
  for (let p = 1; p <= 500; p++) engine.onRecord(rec({ dport: p }), IN, -1, 0, T0);
  t.equal(got.length, 50, 'a burst of one second\'s worth');
  t.equal(metrics.total('alerts_suppressed_total', { name: 'flood' }), 450);
  clock.wall = T0 + 100; // 5 tokens back
  for (let p = 501; p <= 510; p++) engine.onRecord(rec({ dport: p }), IN, -1, 0, T0 + 100);
  t.equal(got.length, 55);
  clock.wall = T0 + 1500;
  engine.advance(T0 + 1500);
  const s = got.filter((a) => a.kind === 'suppressed');
  t.same(s.map((a) => [a.name, a.value, a.metric, a.keys]), [['flood', 455, 'alerts', {}]], 'one "suppressed 455" alert');
  engine.advance(T0 + 1600);
  t.equal(got.filter((a) => a.kind === 'suppressed').length, 1, 'nothing new to report');
  t.equal(metrics.total('alerts_total', { name: 'flood', kind: 'suppressed' }), 1);
  t.end();
});

t.test('threshold per key: bps per interval with hysteresis and `for`, cleared, keyed by destination', (t) => {
  clock.wall = T0;
  const { engine, got } = setup({ flows: [{ name: 'host-in', keys: ['ipdestination'], filter: 'direction=in', value: 'bps', threshold: { above: 100_000, clear: 80_000, for: 2 } }] });
  engine.advance(T0);
  // bytes per interval → bps = bytes × 8 / 10 s
  const series = [150_000, 150_000, 110_000, 90_000, 160_000, 50_000];
  series.forEach((bytes, k) => {
    engine.onRecord(rec({ dst: '10.1.0.99', bytes: bytes / 10, rate: 10 }), IN, -1, 0, T0 + k * I + 5);
    engine.onRecord(rec({ dst: '10.1.0.7', bytes: 1000 }), IN, -1, 0, T0 + k * I + 5);
    engine.onRecord(rec({ src: '10.1.0.99', dst: '192.0.2.9', bytes: 10_000_000 }), OUT, 0, -1, T0 + k * I + 5); // not in
    engine.advance(T0 + (k + 1) * I);
  });
  // bps: 120k, 120k, 88k, 72k, 128k, 40k
  t.same(got.map((a) => [a.kind, a.keys.ipdestination, a.value, a.threshold, a.start - T0 / 1000, a.end - T0 / 1000]), [
    ['threshold', '10.1.0.99', 120_000, 100_000, 10, 20], // the second interval above (for: 2)
    ['cleared', '10.1.0.99', 72_000, 80_000, 30, 40], // 88k is still above clear; 72k is not
    // 128k then 40k: one interval above is not enough
  ]);
  t.equal(got[0]!.metric, 'bps');
  t.equal(got[0]!.exporter, '192.0.2.250');
  t.end();
});

t.test('threshold in total, over a sliding window, with cooldown; quiet gaps clear without replaying every interval', (t) => {
  clock.wall = T0;
  const { engine, got } = setup({ flows: [{ name: 'udp-total', keys: [], filter: 'protocol=udp', value: 'packets', threshold: { above: 1000, clear: 500, window: 3, cooldown: '1m' } }] });
  engine.advance(T0);
  const add = (k: number, packets: number) => engine.onRecord(rec({ proto: 17, packets }), IN, -1, 0, T0 + k * I);
  add(0, 400); engine.advance(T0 + I);
  add(1, 400); engine.advance(T0 + 2 * I);
  add(2, 400); engine.advance(T0 + 3 * I); // window 1200 > 1000: raise
  t.same(got.map((a) => [a.kind, a.value, a.start - T0 / 1000, a.end - T0 / 1000, a.keys]), [['threshold', 1200, 0, 30, {}]]);
  engine.advance(T0 + 3_000_000); // 5 minutes of nothing
  t.same(got.map((a) => a.kind), ['threshold', 'cleared']);
  t.equal(got[1]!.value, 400, 'cleared at the first window at or below 500 (400 + 0 + 0)');
  t.end();
});

t.test('shortcuts: per-host in/out and per-group thresholds follow the summary\'s host and group rules', (t) => {
  clock.wall = T0;
  const { engine, got, defs } = setup({ hosts: { inBps: 8000, outFlows: 2 }, groups: { inPps: 3.5 } });
  t.same(defs.map((d) => d.name), ['hosts-in-bps', 'groups-in-pps', 'hosts-out-flows']);
  engine.advance(T0);
  engine.onRecord(rec({ src: '192.0.2.1', dst: '10.1.0.5', bytes: 20_000, packets: 30 }), IN, -1, 0, T0); // in: 16 kbps to 10.1.0.5
  engine.onRecord(rec({ src: '10.1.0.6', dst: '10.2.0.9', bytes: 5_000, packets: 40 }), INTERNAL, 0, 1, T0); // internal: in for dmz, out for 10.1.0.6
  for (let i = 0; i < 3; i++) engine.onRecord(rec({ src: '10.1.0.8', dst: '198.51.100.1' }), OUT, 0, -1, T0); // 3 flows out
  engine.advance(T0 + I);
  const view = got.map((a) => `${a.name} ${JSON.stringify(a.keys)} ${a.value}`).sort();
  // home receives 30 packets (3 pps, under 3.5), dmz 40 over the internal flow (4 pps); 10.2.0.9 gets
  // 4 kbps (under 8k); 10.1.0.6 sent one flow (not above 2)
  t.same(view, [
    'groups-in-pps {"destinationgroup":"dmz"} 4',
    'hosts-in-bps {"ipdestination":"10.1.0.5"} 16000',
    'hosts-out-flows {"ipsource":"10.1.0.8"} 3',
  ]);
  t.end();
});

t.test('per-key tables are bounded; the heavy key survives a flood of small ones', (t) => {
  clock.wall = T0;
  const { engine, got, metrics } = setup({ flows: [{ name: 'top', keys: ['ipsource'], value: 'bytes', table: 100, threshold: { above: 1_000_000 } }] });
  engine.advance(T0);
  engine.onRecord(rec({ src: '198.51.100.7', bytes: 2_000_000 }), IN, -1, 0, T0);
  for (let i = 0; i < 5000; i++) engine.onRecord(rec({ src: `203.0.${i >> 8}.${i & 255}`, bytes: 40 }), IN, -1, 0, T0);
  engine.advance(T0 + I);
  t.same(got.map((a) => [a.keys.ipsource, a.value]), [['198.51.100.7', 2_000_000]]);
  t.ok(metrics.total('alert_table_overflow_total', { name: 'top' }) >= 4900, 'small tuples folded into overflow and counted');
  t.end();
});

t.test('flush evaluates the open interval; records before the first advance count in it', (t) => {
  clock.wall = T0;
  const { engine, got } = setup({ flows: [{ name: 'big', keys: ['ipsource'], value: 'bytes', threshold: 500 }] });
  engine.onRecord(rec({ bytes: 1000 }), IN, -1, 0, T0 + 4000);
  engine.flush();
  t.same(got.map((a) => [a.kind, a.value, a.start, a.end]), [['threshold', 1000, T0 / 1000, T0 / 1000 + 10]]);
  t.end();
});

t.test('live: records before the first boundary are their own (partial) interval, closed by that boundary', (t) => {
  clock.wall = T0;
  const { engine, got } = setup({ flows: [{ name: 'big', keys: ['ipsource'], value: 'bytes', threshold: 1500 }] });
  engine.onRecord(rec({ bytes: 1000 }), IN, -1, 0, T0 + 6000); // started mid-interval
  engine.advance(T0 + I); // the first interval boundary
  t.same(got, [], '1000 bytes in the partial interval: not above 1500');
  engine.onRecord(rec({ bytes: 1000 }), IN, -1, 0, T0 + I + 1);
  engine.advance(T0 + 2 * I);
  t.same(got, [], 'nor 1000 in the next: the two were not merged');
  engine.onRecord(rec({ bytes: 2000 }), IN, -1, 0, T0 + 2 * I + 1);
  engine.advance(T0 + 3 * I);
  t.same(got.map((a) => [a.value, a.start - T0 / 1000]), [[2000, 20]]);
  t.end();
});

t.test('records that pass no filter allocate nothing', async (t) => {
  const { engine, got } = setup({ flows: [
    { name: 'uport', keys: ['ipsource', 'ipdestination', 'icmpunreachableport'], value: 'frames', event: 'each' },
    { name: 'dns', keys: ['ipsource'], filter: 'protocol=udp & destinationport=53', threshold: 1e9 },
    { name: 'ssh', keys: ['ipdestination'], filter: 'direction=in & destinationport=22', event: 'each' },
  ] });
  engine.advance(T0);
  const r = rec({ src: '203.0.113.9', dst: '10.1.0.5', dport: 443 });
  // one time value for the whole loop: a double computed per call would be boxed by the caller itself
  const at = T0 + 1;
  const loop = (n: number) => { for (let i = 0; i < n; i++) engine.onRecord(r, IN, -1, 0, at); };
  loop(1_000_000);
  let scavenges = 0;
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  });
  obs.observe({ entryTypes: ['gc'] });
  const t0 = process.hrtime.bigint();
  loop(3_000_000);
  const ns = Number(process.hrtime.bigint() - t0) / 3_000_000;
  await new Promise((res) => setTimeout(res, 20));
  obs.disconnect();
  t.equal(got.length, 0);
  t.ok(scavenges <= 1, `${scavenges} scavenges over 3M records`);
  t.comment(`${ns.toFixed(1)} ns per record for 3 definitions`);
});

t.test('setDefinitions (reload): an unchanged definition keeps its open interval, a changed one starts empty', (t) => {
  const hosts = { name: 'hot', keys: ['ipdestination'], filter: 'direction=in', value: 'bytes', threshold: { above: 1500 } };
  const { engine, got } = setup({ flows: [hosts, { ...hosts, name: 'other' }] });
  engine.advance(T0);
  engine.onRecord(rec({ dst: '10.1.1.1', bytes: 1000 }), IN, -1, 0, T0);
  // same "hot", "other" changed (above 100), and a new definition naming a group added by the reload
  const cfg = loadConfig({ argv: [], env: {}, overrides: { alerts: { flows: [hosts, { ...hosts, name: 'other', threshold: { above: 100 } }, { ...hosts, name: 'lab', filter: 'group=lab', threshold: { above: 100 } }] } } });
  GROUPS.push('lab');
  t.teardown(() => GROUPS.pop());
  const a = createAlerting(cfg, { metrics: new Metrics(), log: silentLogger, groupNames: GROUPS, intervalMs: I, now: () => clock.wall });
  t.throws(() => a.check(loadConfig({ argv: [], env: {}, overrides: { alerts: { flows: [{ ...hosts, filter: 'group=nope' }] } } }), GROUPS), /nope/);
  engine.setDefinitions(a.definitions);
  t.equal(engine.defs[0]!.def.name, 'hot');
  engine.onRecord(rec({ dst: '10.1.1.1', bytes: 1000 }), IN, -1, 2, T0 + 1);
  engine.advance(T0 + I);
  t.same(got.map((x) => [x.name, x.value]).sort(), [['hot', 2000], ['lab', 1000], ['other', 1000]],
    'hot sums both records; other and lab only the one after the reload');
  t.end();
});

t.test('threshold per interface (keys exporter, interface): a record counts on its input and on its output interface', (t) => {
  clock.wall = T0;
  const { engine, got } = setup({ flows: [{ name: 'if-busy', keys: ['exporter', 'interface'], value: 'bps', threshold: { above: 1_000_000 } }] });
  engine.advance(T0);
  const r = (inIf: number, outIf: number, bytes: number) => {
    const x = rec({ bytes });
    x.inIf = inIf; x.outIf = outIf;
    x.scaledBytes = bytes;
    return x;
  };
  engine.onRecord(r(3, 7, 1_000_000), IN, -1, 0, T0 + 5); // 800 kb/s on 3 and on 7
  engine.onRecord(r(4, 7, 500_000), IN, -1, 0, T0 + 6); // 400 kb/s on 4 and 7: interface 7 at 1.2 Mb/s
  engine.onRecord(r(0, 0, 9_000_000), IN, -1, 0, T0 + 7); // no interface: not this definition's
  engine.onRecord(r(0, 3, 500_000), IN, -1, 0, T0 + 8); // output side only: 3 at 1.2 Mb/s
  engine.advance(T0 + I);
  const byIf = got.map((a) => [a.kind, a.keys, a.value] as const).sort((a, b) => Number(a[1].interface) - Number(b[1].interface));
  t.same(byIf, [
    ['threshold', { exporter: '192.0.2.250', interface: 3 }, 1_200_000],
    ['threshold', { exporter: '192.0.2.250', interface: 7 }, 1_200_000],
  ], 'interfaces 3 (in 800 kb/s + out 400 kb/s) and 7 (both records out), not 4');
  t.end();
});

t.test('interface needs exporter beside it, and is not a filter key', (t) => {
  t.throws(() => setup({ flows: [{ name: 'x', keys: ['interface'], value: 'bytes', event: 'each' }] }), /exporter beside interface/);
  t.throws(() => setup({ flows: [{ name: 'x', keys: ['exporter'], filter: 'interface=3', value: 'bytes', event: 'each' }] }), /not of filters/);
  t.end();
});
