import t from 'tap';
import { PassThrough } from 'node:stream';
import { ConsoleSink, formatConsole, si } from '../../src/export/console.js';
import { FanOut, type Sink } from '../../src/export/sink.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';

const z = { bytes: 0, packets: 0, flows: 0, bps: 0, pps: 0 };
const summary: IntervalSummary = {
  start: 1793491200, end: 1793491210, interval: 10,
  directions: { in: { bytes: 1_250_000, packets: 1000, flows: 3, bps: 1_000_000, pps: 100 }, out: { ...z, bytes: 125, bps: 100, pps: 0.1 }, internal: z, external: z },
  hosts: [{ host: '10.1.0.99', group: 'home', direction: 'in', bytes: 1_250_000, packets: 1000, flows: 1 }, { host: '2001:db8:1::10', group: 'home', direction: 'out', bytes: 125, packets: 1, flows: 1 }],
  hostsOther: { in: { bytes: 0, packets: 0, flows: 0 }, out: { bytes: 0, packets: 0, flows: 0 } },
  ports: [{ protocol: 'tcp', port: 443, direction: 'in', bytes: 1_250_000, packets: 1000, flows: 1 }],
  portsOther: { in: z, out: z, internal: z, external: z }, protocols: [], groups: [], exporters: [],
  stats: { records: 4, late: 2, hostOverflow: 0, portOverflow: 0, exporterOverflow: 0, collector: { datagrams: 3, decodeErrors: 0 } },
};

t.test('si units', (t) => {
  t.same([si(0), si(999), si(1000), si(1_234_567), si(2.5e12)], ['0', '999', '1.00k', '1.23M', '2.50T']);
  t.end();
});

t.test('the console table shows directions, top hosts and ports, and collector health', (t) => {
  const text = formatConsole(summary);
  t.match(text, /^2026-11-01 00:00:00–00:00:10 {2}in 1\.00Mbps 100pps {2}out 100bps 0pps/);
  t.match(text, /top receivers: 10\.1\.0\.99 1\.00Mbps/);
  t.match(text, /top senders: 2001:db8:1::10 100bps/);
  t.match(text, /top ports: tcp\/443 in 1\.00Mbps/);
  t.match(text, /\n {2}this interval: records 4 late 2 {2}\| {2}since last line: datagrams 3\n$/);
  t.end();
});

t.test('an empty interval after a burst: its records and the collector counters are labelled apart (#18)', (t) => {
  const empty = { ...summary, hosts: [], ports: [], stats: { ...summary.stats, records: 0, late: 0, collector: { datagrams: 12, records: 20540, decodeErrors: 0 } } };
  const last = formatConsole(empty).trimEnd().split('\n').at(-1)!;
  t.equal(last, '  this interval: records 0  |  since last line: datagrams 12 records 20540');
  const quiet = formatConsole({ ...empty, stats: { ...empty.stats, collector: { datagrams: 0, records: 0 } } }).trimEnd().split('\n').at(-1)!;
  t.equal(quiet, '  this interval: records 0', 'nothing since the last line: no second part');
  t.end();
});

t.test('ConsoleSink writes to its stream; FanOut isolates a failing sink and counts its errors', async (t) => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d));
  const bad: Sink = { name: 'bad', write() { throw new Error('boom'); }, writeAlert: async () => { throw new Error('async boom'); }, async stop() { throw new Error('stop boom'); } };
  const metrics = new Metrics();
  const fan = new FanOut([bad, new ConsoleSink('-', out)], metrics, silentLogger);
  await fan.start();
  fan.write(summary);
  fan.writeAlert({ kind: 'event', name: 'uport', keys: {}, value: 1, metric: 'frames', start: 0, end: 10, time: 0 });
  await fan.stop();
  t.match(text, /top receivers/);
  t.equal(metrics.total('sink_errors_total', { sink: 'bad' }), 3, 'sync write, async alert and stop errors counted');
  t.equal(metrics.total('sink_summaries_total', { sink: 'console' }), 1);
});

t.test('FanOut.replace: new sinks start first, kept ones keep running, old ones stop; a failed start changes nothing', async (t) => {
  const log: string[] = [];
  const sink = (name: string, failStart = false): Sink => ({
    name,
    async start() { if (failStart) throw new Error('no'); log.push(`start ${name}`); },
    write() { log.push(`write ${name}`); },
    async stop() { log.push(`stop ${name}`); },
  });
  const a = sink('a'), b = sink('b'), c = sink('c');
  const fan = new FanOut([a, b], new Metrics(), silentLogger);
  await fan.start();
  await fan.replace([b, c]);
  fan.write(summary);
  t.same(log, ['start a', 'start b', 'start c', 'stop a', 'write b', 'write c']);
  log.length = 0;
  await t.rejects(fan.replace([sink('d'), sink('e', true)]), /no/);
  fan.write(summary);
  t.same(log, ['start d', 'stop d', 'write b', 'write c'], 'the started new sink is stopped again; b and c stay');
  await fan.stop();
});
