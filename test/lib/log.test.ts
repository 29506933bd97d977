import t from 'tap';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { RateLimitedLog, type Logger } from '../../src/lib/log.js';
import { Metrics } from '../../src/lib/counters.js';
import { Dispatcher } from '../../src/decode/dispatch.js';
import { Format } from '../../src/flow/record.js';
import { Netflow5Decoder } from '../../src/decode/netflow5.js';

t.test('a flood of one problem logs a burst per period, then a summary of what was suppressed', (t) => {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c)) as Record<string, unknown>); cb(); } });
  let now = 0;
  const rl = new RateLimitedLog(pino({ level: 'info' }, dest), () => now, 3, 30_000);
  for (let i = 0; i < 1000; i++) rl.warn('truncated:10.0.0.1', { i }, 'decode error');
  rl.warn('other:10.0.0.2', {}, 'another key has its own budget');
  now = 30_000;
  rl.warn('truncated:10.0.0.1', { i: 1000 }, 'decode error');
  t.equal(lines.length, 5);
  t.same(lines.slice(0, 3).map((l) => l.i), [0, 1, 2]);
  t.equal(lines[4]!.suppressed, 997, 'the next period says how many were dropped');
  t.end();
});

/** A pino logger whose lines land, parsed, in `lines`. */
function captured(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c)) as Record<string, unknown>); cb(); } });
  return { log: pino({ level: 'info' }, dest), lines };
}

/** A NetFlow v5 header announcing 30 records with none behind it: a bad_count decode error. */
const BAD_V5 = (() => {
  const b = Buffer.alloc(24);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(30, 2);
  return b;
})();
const UNKNOWN = Buffer.from('0007000100000000', 'hex');
const spoofed = (i: number): string => `198.18.${i >> 8}.${i & 255}`;

t.test('5,000 spoofed exporters through the Dispatcher: lines capped per kind, the flood reported', (t) => {
  const { log, lines } = captured();
  let now = 0;
  const metrics = new Metrics();
  const d: Dispatcher = new Dispatcher({
    decoders: { [Format.NetflowV5]: new Netflow5Decoder({ report: (e) => d.reportError(e, e.exporter, Format.NetflowV5) }) },
    metrics, log: new RateLimitedLog(log, () => now),
  });
  for (let i = 0; i < 5000; i++) {
    d.handle(BAD_V5, spoofed(i), now);
    d.handle(UNKNOWN, spoofed(i), now);
  }
  t.equal(metrics.total('decode_errors_total'), 10_000, 'every bad datagram is still counted');
  const PER_KIND = 10; // the default ceiling per kind and period
  t.ok(lines.length <= 2 * PER_KIND, `10,000 bad datagrams from 5,000 exporters wrote ${lines.length} lines (at most ${2 * PER_KIND})`);
  t.equal(lines.length, 2 * PER_KIND, 'each kind used its whole budget');
  now = 30_000;
  d.handle(BAD_V5, '192.0.2.1', now);
  t.equal(lines.length, 2 * PER_KIND + 2);
  const [summary, bad] = lines.slice(-2);
  t.match(summary, { kind: 'unknown', suppressed: 5000 - PER_KIND, suppressedFrom: 1024, suppressedFromAtLeast: true,
    msg: 'suppressed 4,990 similar messages ("datagram of unknown format dropped", unknown) from at least 1,024 sources' },
  'a summary line for the kind that has no next line');
  t.match(bad, { kind: 'bad_count', exporter: '192.0.2.1', suppressed: 5000 - PER_KIND, suppressedFrom: 1024, suppressedFromAtLeast: true, msg: 'decode error' },
    'the next bad_count line says how many were suppressed');
  t.equal(metrics.total('logs_suppressed_total', { kind: 'bad_count' }), 4990, 'logs_suppressed_total{kind}');
  t.equal(metrics.total('logs_suppressed_total', { kind: 'unknown' }), 4990);
  t.end();
});

t.test('the per-kind ceiling is shared by every key of a kind; keys without ":" are their own kind', (t) => {
  const { log, lines } = captured();
  let now = 0;
  const rl = new RateLimitedLog(log, () => now, 3, 30_000, 1000, { perKind: 5 });
  for (let i = 0; i < 100; i++) rl.warn(`template_refused:192.0.2.${i}`, { i }, 'template refused');
  for (let i = 0; i < 10; i++) rl.warn('influx-write', { i }, 'sink write failed');
  t.same(lines.map((l) => l.msg), [...Array(5).fill('template refused'), ...Array(3).fill('sink write failed')]);
  t.same(lines.slice(0, 5).map((l) => l.i), [0, 1, 2, 3, 4], 'the first of the flood get through');
  now = 10_000;
  rl.warn('template_refused:192.0.2.200', {}, 'template refused');
  t.equal(lines.length, 8, 'the kind stays closed for the rest of its period, even for a new key');
  t.end();
});

t.test('a periodic summary line reports suppressions that no later message carries', (t) => {
  const { log, lines } = captured();
  let now = 0;
  const metrics = new Metrics();
  const rl = new RateLimitedLog(log, () => now, 3, 30_000, 1000, { perKind: 2, metrics });
  for (let i = 0; i < 7; i++) rl.warn(`truncated:192.0.2.${i % 4}`, {}, 'decode error');
  t.equal(lines.length, 2);
  rl.flush();
  t.equal(lines.length, 2, 'nothing to summarise before a period has passed');
  now = 29_999;
  rl.warn('other:192.0.2.9', {}, 'something else');
  t.equal(lines.length, 3);
  now = 30_000;
  rl.warn('other:192.0.2.9', {}, 'something else');
  t.equal(lines.length, 5, 'a call of any kind writes the summaries that are due');
  const summary = lines[3]!;
  t.match(summary, { kind: 'truncated', suppressed: 5, suppressedFrom: 4, msg: 'suppressed 5 similar messages ("decode error", truncated) from 4 sources' });
  t.notOk('suppressedFromAtLeast' in summary, 'an exact count is not marked as a lower bound');
  t.equal(metrics.total('logs_suppressed_total', { kind: 'truncated' }), 5);
  now = 40_000;
  for (let i = 0; i < 3; i++) rl.warn('influx-overflow', {}, 'sink buffer full');
  now = 70_000;
  rl.flush();
  t.match(lines.at(-1), { kind: 'influx-overflow', suppressed: 1, suppressedFrom: 1, msg: 'suppressed 1 similar message ("sink buffer full", influx-overflow) from 1 source' });
  rl.flush();
  t.equal(lines.filter((l) => l.kind === 'influx-overflow').length, 1, 'each suppression is reported once');
  for (let i = 0; i < 4; i++) rl.warn('influx-overflow', {}, 'sink buffer full');
  rl.flush(true);
  t.match(lines.at(-1), { kind: 'influx-overflow', suppressed: 2 }, 'flush(true), on stop, also reports what is recent');
  t.end();
});

t.test('memory stays bounded: keys, kinds and the distinct-source count', (t) => {
  const { log, lines } = captured();
  const rl = new RateLimitedLog(log, () => 0, 3, 30_000, 100, { perKind: 1000 });
  for (let i = 0; i < 100_000; i++) rl.warn(`k${i % 500}:${spoofed(i)}`, {}, 'x');
  const inner = rl as unknown as { buckets: Map<string, unknown>; kinds: Map<string, unknown> };
  t.ok(inner.buckets.size <= 100, `${inner.buckets.size} keys remembered`);
  t.ok(inner.kinds.size <= 65, `${inner.kinds.size} kinds remembered`);
  t.ok(lines.length <= 65 * 1000);
  t.end();
});
