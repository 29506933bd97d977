// Issue 17 drills: an InfluxDB that accepts the connection and never answers (or never even reads).
// Intervals of ~2,000 series go to the sink as fast as it takes them; the lines it holds (in flight,
// waiting for a retry) must stay within maxBufferLines, every line handed over must be written, failed,
// dropped or still queued at every step, hung requests must be cut off after timeoutMs, and stop()
// must return within stopTimeoutMs with nothing left unaccounted.
import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfluxSink, type InfluxSinkOptions } from '../../src/export/influx.js';
import { Metrics } from '../../src/lib/counters.js';
import { startBlackhole } from '../helpers/blackhole.js';
import { hostsSummary } from '../../bench/gen.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;

for (const read of [true, false]) {
  t.test(`a server that accepts and never answers${read ? '' : ' (nor reads)'}: queue and memory bounded, stop() in time`, async (t) => {
    const hole = await startBlackhole({ read });
    t.teardown(() => hole.close());
    const metrics = new Metrics();
    const maxBufferLines = 5000, timeoutMs = 250, stopTimeoutMs = 1000;
    const opts: Partial<InfluxSinkOptions> = {
      api: 'v1', url: `http://127.0.0.1:${hole.port}`, bucket: 'db', maxBufferLines, timeoutMs, stopTimeoutMs,
      minRetryDelayMs: 20, maxRetryDelayMs: 100, retryJitterMs: 0, gzip: read,
    };
    const sink = new InfluxSink(opts, { metrics });
    t.teardown(() => sink.stop());
    const probe = new InfluxSink({}, { metrics: new Metrics() });
    const c = (name: string) => metrics.total(name, { sink: 'influx' });
    const accounted = () => c('sink_lines_total') + c('sink_lines_failed_total') + c('sink_dropped_total');

    gc();
    const rss0 = process.memoryUsage().rss, heap0 = process.memoryUsage().heapUsed;
    let handed = 0, maxQueued = 0, maxGauge = 0, steps = 0, broken = '';
    const t0 = Date.now();
    // bounded in count and in time: 400 intervals or 4 s, whichever comes first
    for (let i = 0; i < 400 && Date.now() - t0 < 4000; i++) {
      const s = hostsSummary(1_793_491_200 + i * 10, 2000);
      handed += probe.format(s).length + 1; // + the sink's own row
      sink.write(s);
      steps++;
      maxQueued = Math.max(maxQueued, sink.queued);
      maxGauge = Math.max(maxGauge, c('sink_queue_lines'));
      if (!broken && handed !== accounted() + sink.queued) broken = `step ${i}: handed ${handed} != ${accounted()} + queued ${sink.queued}`;
      await sleep(2);
    }
    gc();
    const rss1 = process.memoryUsage().rss, heap1 = process.memoryUsage().heapUsed;
    t.comment(`${steps} intervals, ${handed} lines handed; max queued ${maxQueued}; ` +
      `RSS ${(rss0 / MB).toFixed(0)} -> ${(rss1 / MB).toFixed(0)} MB, heap ${(heap0 / MB).toFixed(0)} -> ${(heap1 / MB).toFixed(0)} MB; ` +
      `connections ${hole.accepted}, retries ${c('sink_retries_total')}, dropped ${c('sink_dropped_total')}`);
    t.ok(steps >= 50, `${steps} intervals written`);
    t.ok(maxQueued <= maxBufferLines, `sink.queued never above maxBufferLines (max ${maxQueued} <= ${maxBufferLines})`);
    t.ok(maxGauge <= maxBufferLines, `sink_queue_lines never above maxBufferLines (max ${maxGauge})`);
    t.equal(broken, '', 'handed = written + failed + dropped + queued at every step');
    t.ok(heap1 - heap0 < 16 * MB, `heap after GC grew ${((heap1 - heap0) / MB).toFixed(1)} MB (< 16)`);
    t.ok(c('sink_dropped_total') > 0, 'what did not fit was dropped and counted');
    // a hung request is cut off after timeoutMs (its socket closed), so later requests reach the server
    // on new connections instead of waiting forever behind the agent's four hung sockets
    t.ok(hole.accepted > 4, `${hole.accepted} connections: hung requests were aborted`);
    t.ok(c('sink_retries_total') > 0, 'timed-out requests are retried');

    const t1 = Date.now();
    await sink.stop();
    const took = Date.now() - t1;
    t.ok(took < stopTimeoutMs + 300, `stop() returned in ${took} ms (stopTimeoutMs ${stopTimeoutMs})`);
    t.equal(sink.queued, 0, 'nothing queued after stop');
    t.equal(c('sink_queue_lines'), 0);
    t.equal(accounted(), handed, 'after stop: handed = written + failed + dropped');
    t.equal(c('sink_lines_total'), 0, 'nothing was written');
    t.equal(c('sink_lines_failed_total'), 0, 'timeouts are retried, never given up on');
    await probe.stop();
  });
}

t.test('stop() ends within stopTimeoutMs while a request hangs longer than that', async (t) => {
  const hole = await startBlackhole();
  t.teardown(() => hole.close());
  const metrics = new Metrics();
  const sink = new InfluxSink({ api: 'v1', url: `http://127.0.0.1:${hole.port}`, bucket: 'db', timeoutMs: 30_000, stopTimeoutMs: 500 }, { metrics });
  const probe = new InfluxSink({}, { metrics: new Metrics() });
  const lines = probe.format(hostsSummary(1_793_491_200, 100)).length + 1;
  await probe.stop();
  sink.write(hostsSummary(1_793_491_200, 100));
  sink.write(hostsSummary(1_793_491_210, 100));
  await sleep(100);
  t.ok(sink.queued > 0);
  const t1 = Date.now();
  await sink.stop();
  const took = Date.now() - t1;
  t.ok(took < 800, `stop() returned in ${took} ms`);
  t.equal(sink.queued, 0);
  t.equal(metrics.total('sink_dropped_total', { sink: 'influx' }), 2 * lines, `both intervals (${lines} lines each) counted as dropped`);
});
