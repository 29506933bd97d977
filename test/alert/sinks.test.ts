// Alerts on the console and JSON sinks (writeAlert), also through the FanOut the pipeline uses.
import t from 'tap';
import { PassThrough } from 'node:stream';
import type { AlertEvent } from '../../src/alert/event.js';
import { ConsoleSink, formatAlertLine } from '../../src/export/console.js';
import { JsonSink } from '../../src/export/json.js';
import { FanOut } from '../../src/export/sink.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';

const T = 1793491200;
const event: AlertEvent = { kind: 'event', name: 'uport', keys: { ipsource: '10.1.1.3', ipdestination: '203.0.113.66', icmpunreachableport: 1042 }, value: 1, metric: 'frames', start: T, end: T + 10, exporter: '127.0.0.1', time: T * 1000 + 3000 };
const raised: AlertEvent = { kind: 'threshold', name: 'host-in', keys: { ipdestination: '10.1.0.99' }, value: 123_400_000, metric: 'bps', threshold: 1e8, start: T + 10, end: T + 20, time: T * 1000 + 20000 };
const cleared: AlertEvent = { ...raised, kind: 'cleared', value: 7.5e7, threshold: 8e7, start: T + 30, end: T + 40 };
const suppressed: AlertEvent = { kind: 'suppressed', name: 'uport', keys: {}, value: 455, metric: 'alerts', start: T, end: T + 10, time: T * 1000 + 5000 };

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let s = '';
  out.on('data', (d: Buffer) => { s += d.toString(); });
  return { out, text: () => s };
}

t.test('console: one line per alert with keys, value, threshold and interval', (t) => {
  t.equal(formatAlertLine(event), 'ALERT event uport ipsource=10.1.1.3 ipdestination=203.0.113.66 icmpunreachableport=1042 frames 1 (00:00:00–00:00:10) from 127.0.0.1\n');
  t.equal(formatAlertLine(raised), 'ALERT threshold host-in ipdestination=10.1.0.99 bps 123.40M > 100.00M (00:00:10–00:00:20)\n');
  t.equal(formatAlertLine(cleared), 'ALERT cleared host-in ipdestination=10.1.0.99 bps 75.00M <= 80.00M (00:00:30–00:00:40)\n');
  t.equal(formatAlertLine(suppressed), 'ALERT suppressed uport: 455 alerts over the rate limit (00:00:00–00:00:10)\n');
  t.end();
});

t.test('console and JSON sinks through the FanOut: every alert once, JSON lines marked "type":"alert"', async (t) => {
  const c = capture(), j = capture();
  const fan = new FanOut([new ConsoleSink('-', c.out), new JsonSink('-', j.out)], new Metrics(), silentLogger);
  for (const a of [event, raised, cleared, suppressed]) fan.writeAlert(a);
  t.equal(c.text().split('\n').filter(Boolean).length, 4);
  const lines = j.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(lines, [event, raised, cleared, suppressed].map((a) => ({ type: 'alert', ...a })));
  await fan.stop();
});
