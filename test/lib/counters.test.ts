import t from 'tap';
import { Metrics } from '../../src/lib/counters.js';

t.test('counters and gauges by labels, totals, snapshot and Prometheus text', (t) => {
  const m = new Metrics('fb_', 3);
  m.counter('datagrams_total', 'Datagrams', { exporter: '10.0.0.1' }).inc();
  m.counter('datagrams_total', 'Datagrams', { exporter: '10.0.0.1' }).inc(2);
  m.counter('datagrams_total', 'Datagrams', { exporter: 'a"b\\c\nd' }).inc(5);
  m.gauge('queue_depth', 'Queue depth').set(7);
  t.equal(m.total('datagrams_total'), 8);
  t.equal(m.total('datagrams_total', { exporter: '10.0.0.1' }), 3);
  t.equal(m.total('nope'), 0);
  t.same(m.snapshot().map((s) => [s.name, s.type, s.value]), [['datagrams_total', 'counter', 3], ['datagrams_total', 'counter', 5], ['queue_depth', 'gauge', 7]]);
  t.equal(m.toPrometheus(), [
    '# HELP fb_datagrams_total Datagrams', '# TYPE fb_datagrams_total counter',
    'fb_datagrams_total{exporter="10.0.0.1"} 3', 'fb_datagrams_total{exporter="a\\"b\\\\c\\nd"} 5',
    '# HELP fb_queue_depth Queue depth', '# TYPE fb_queue_depth gauge', 'fb_queue_depth 7', '',
  ].join('\n'));
  t.throws(() => m.gauge('datagrams_total', 'x'), /is a counter/);
  t.end();
});

t.test('series per metric are capped: past the cap, new label sets fold into "other"', (t) => {
  const m = new Metrics('fb_', 3);
  for (let i = 0; i < 1000; i++) m.counter('denied_total', 'Denied', { source: `192.0.2.${i}` }).inc();
  const series = m.snapshot().filter((s) => s.name === 'denied_total');
  t.equal(series.length, 4, 'the cap plus one "other" series');
  t.equal(m.total('denied_total'), 1000, 'nothing lost');
  t.equal(m.total('denied_total', { source: 'other' }), 997);
  t.end();
});
