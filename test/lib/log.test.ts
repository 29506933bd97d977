import t from 'tap';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { RateLimitedLog } from '../../src/lib/log.js';

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
