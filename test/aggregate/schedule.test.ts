import t from 'tap';
import FakeTimers from '@sinonjs/fake-timers';
import { IntervalClock, ruleFor } from '../../src/aggregate/schedule.js';

t.test('node-schedule fires on wall-clock multiples of the interval, once each', (t) => {
  const start = Date.UTC(2026, 10, 23, 12, 0, 3, 500);
  const clock = FakeTimers.install({ now: start, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  t.teardown(() => clock.uninstall());
  for (const [sec, span] of [[10, 60_000], [5, 30_000], [300, 1_800_000]] as const) {
    const got: number[] = [];
    const ic = new IntervalClock(sec * 1000, (b) => got.push(b));
    ic.start();
    clock.tick(span);
    ic.stop();
    t.equal(got.length, span / (sec * 1000), `${sec}s: one fire per interval`);
    t.ok(got.every((b) => b % (sec * 1000) === 0), `${sec}s: every boundary is a multiple of the interval`);
    t.ok(got.every((b, i) => i === 0 || b - got[i - 1]! === sec * 1000), `${sec}s: consecutive, no double fire`);
  }
  t.end();
});

t.test('double and missed fires are guarded', (t) => {
  const got: number[] = [];
  const ic = new IntervalClock(10_000, (b) => got.push(b));
  ic.fire(100_000);
  ic.fire(100_004); // same boundary, delivered late
  ic.fire(110_000);
  ic.fire(140_000); // 120 and 130 missed
  t.same(got, [100_000, 110_000, 140_000]);
  t.equal(ic.doubleFires, 1);
  t.equal(ic.missed, 2);
  t.end();
});

t.test('intervals that do not divide a minute still fire on their multiples', (t) => {
  const got: number[] = [];
  const ic = new IntervalClock(40_000, (b) => got.push(b));
  for (let s = 0; s <= 160; s++) ic.fire(s * 1000);
  t.same(got, [0, 40_000, 80_000, 120_000, 160_000]);
  t.throws(() => ruleFor(7), /dividing a day/);
  t.throws(() => ruleFor(1.5));
  t.end();
});
