// Alerts raised in the same millisecond (one datagram's records) share every tag of the alerts
// measurement; InfluxDB keeps one point per series and time, so the sink spreads them over the
// nanoseconds of that millisecond. Against a real influxd, v1 and through the v2 shim.
import t from 'tap';
import type { AlertEvent } from '../../src/alert/event.js';
import { InfluxSink } from '../../src/export/influx.js';
import { Metrics } from '../../src/lib/counters.js';
import { influxdMissing, startInfluxd, startV2Shim } from '../helpers/influxd.js';

const missing = influxdMissing();
if (missing) {
  t.plan(0, missing);
  process.exit(0);
}

const influxd = await startInfluxd(t, { databases: ['same_ms_v1', 'same_ms_v2'] });

function alerts(time: number, n: number): AlertEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: 'event', name: 'newdst', keys: { ipdestination: `10.1.0.${i}` }, value: 100 + i, metric: 'bytes',
    start: Math.floor(time / 1000), end: Math.floor(time / 1000) + 10, exporter: '127.0.0.1', time,
  }));
}

for (const api of ['v1', 'v2'] as const) {
  t.test(`${api}: five alerts in one millisecond are five points, each at that millisecond`, async (t) => {
    const db = `same_ms_${api}`;
    const url = api === 'v1' ? influxd.url : (await startV2Shim(t, influxd)).url;
    const metrics = new Metrics();
    const sink = new InfluxSink({ api, url, bucket: db }, { metrics });
    const time = Date.now();
    const sent = [...alerts(time, 5), ...alerts(time + 1, 2)];
    for (const a of sent) sink.writeAlert(a);
    await sink.stop();
    t.equal(metrics.total('sink_lines_total', { sink: 'influx' }), 7);
    // epoch=ms: influxd truncates to the millisecond (nanoseconds would not survive a JSON number)
    const form = new URLSearchParams({ q: 'SELECT value, detail FROM alerts', db, epoch: 'ms' }).toString();
    const r = await fetch(`${influxd.url}/query?${form}`);
    const rows = ((await r.json()) as { results: { series?: { values: [number, number, string][] }[] }[] }).results[0]!.series![0]!.values;
    t.equal(rows.length, 7, 'every alert stored');
    t.same(rows.map(([, v, d]) => [v, d]), sent.map((a) => [a.value, `ipdestination=${a.keys.ipdestination}`]), 'in the order raised');
    t.same(rows.map(([ms]) => ms), sent.map((a) => a.time), 'at the millisecond each was raised');
  });
}

t.test('the sequence restarts with each millisecond', async (t) => {
  const sink = new InfluxSink({ api: 'v1', url: influxd.url, bucket: 'none' }, { metrics: new Metrics() });
  t.same([sink.alertTime(5), sink.alertTime(5), sink.alertTime(5.7), sink.alertTime(6), sink.alertTime(5)],
    ['5000000', '5000001', '5000002', '6000000', '5000000']);
  await sink.stop();
});
