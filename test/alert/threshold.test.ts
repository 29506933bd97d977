// The threshold state machine on synthetic series: hysteresis, `for`, cooldown, clear, sliding window,
// and a randomized comparison with a direct restatement of the rules.
import t from 'tap';
import { ThresholdState, Transition, type ThresholdSpec } from '../../src/alert/threshold.js';

const I = 10_000;
const spec = (o: Partial<ThresholdSpec>): ThresholdSpec => ({ above: 100, clear: 100, for: 1, cooldown: 0, window: 1, per: 'key', ...o });
const R = Transition.Raise, C = Transition.Clear, _ = Transition.None;

/** Feeds one value per interval (interval k ends at (k+1)·I); returns the transitions. */
function run(s: ThresholdState, values: number[]): Transition[] {
  return values.map((v, k) => s.update(v, (k + 1) * I));
}

t.test('raises above, clears at or below; equal to `above` is not above', (t) => {
  t.same(run(new ThresholdState(spec({}), false), [50, 100, 101, 150, 100, 99, 101]), [_, _, R, _, C, _, R]);
  t.end();
});

t.test('hysteresis: stays raised between clear and above', (t) => {
  const s = new ThresholdState(spec({ above: 100, clear: 80 }), false);
  t.same(run(s, [120, 90, 81, 100, 80, 95, 101]), [R, _, _, _, C, _, R]);
  t.equal(s.value, 101);
  t.end();
});

t.test('`for`: only after N consecutive intervals above; a dip restarts the count', (t) => {
  const s = new ThresholdState(spec({ above: 100, clear: 80, for: 3 }), false);
  t.same(run(s, [120, 130, 50, 120, 130, 140, 150, 70, 200, 200, 200]), [_, _, _, _, _, R, _, C, _, _, R]);
  t.end();
});

t.test('cooldown: no new raise within the cooldown of the last one; raised when it ends if still above', (t) => {
  const s = new ThresholdState(spec({ cooldown: 35_000 }), false);
  // raise at end 10 s; clear at 20 s; above at 30, 40 (cooldown until 45 s); raised at 50 s
  t.same(run(s, [200, 0, 200, 200, 200, 0, 0, 0, 0, 200]), [R, C, _, _, R, C, _, _, _, R]);
  const idle = new ThresholdState(spec({ cooldown: 35_000 }), false);
  run(idle, [200, 0]);
  t.notOk(idle.idle(20_000), 'within the cooldown the state must be kept');
  t.ok(idle.idle(45_000), 'after it, nothing to remember');
  t.end();
});

t.test('sliding window: counts are summed over N intervals, rates averaged; missing intervals are 0', (t) => {
  const sum = new ThresholdState(spec({ above: 100, clear: 60, window: 3 }), false);
  t.same(run(sum, [40, 40, 40, 0, 0, 30, 90]), [_, _, R, _, C, _, R]);
  t.same([sum.value], [120]);
  const mean = new ThresholdState(spec({ above: 90, clear: 50, window: 3 }), true);
  const tr = run(mean, [300, 0, 0, 0, 151, 0]);
  t.same(tr, [R, _, _, C, _, _]);
  t.equal(mean.value, 151 / 3);
  t.end();
});

t.test('idle: only when not raised, no pending count, an all-zero window and no cooldown', (t) => {
  const s = new ThresholdState(spec({ for: 2, window: 2 }), false);
  t.ok(s.idle(0));
  s.update(200, I);
  t.notOk(s.idle(I), 'pending');
  s.update(200, 2 * I);
  t.notOk(s.idle(2 * I), 'raised');
  s.update(0, 3 * I);
  t.notOk(s.idle(3 * I), 'window still holds 200');
  s.update(0, 4 * I);
  t.ok(s.idle(4 * I));
  t.end();
});

/** The rules restated directly, for comparison on random series. */
function reference(sp: ThresholdSpec, mean: boolean, values: number[]): Transition[] {
  let active = false, over = 0, lastRaise = -Infinity;
  return values.map((_v, k) => {
    const win = values.slice(Math.max(0, k - sp.window + 1), k + 1);
    const sum = win.reduce((a, b) => a + b, 0);
    const w = mean ? sum / sp.window : sum;
    const end = (k + 1) * I;
    if (active) {
      if (w <= sp.clear) { active = false; over = 0; return C; }
      return _;
    }
    if (w > sp.above) {
      over++;
      if (over >= sp.for && end - lastRaise >= sp.cooldown) { active = true; lastRaise = end; return R; }
    } else {
      over = 0;
    }
    return _;
  });
}

t.test('random series agree with the restated rules (2,000 series)', (t) => {
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let raises = 0, clears = 0, mismatches = 0;
  for (let n = 0; n < 2000; n++) {
    const above = Math.floor(rnd() * 200);
    const sp = spec({ above, clear: Math.floor(rnd() * (above + 1)), for: 1 + Math.floor(rnd() * 4),
      cooldown: Math.floor(rnd() * 6) * I, window: 1 + Math.floor(rnd() * 5) });
    const mean = rnd() < 0.5;
    const values = Array.from({ length: 60 }, () => (rnd() < 0.3 ? 0 : Math.floor(rnd() * 300)));
    const got = run(new ThresholdState(sp, mean), values);
    const want = reference(sp, mean, values);
    if (JSON.stringify(got) !== JSON.stringify(want)) mismatches++;
    raises += got.filter((x) => x === R).length;
    clears += got.filter((x) => x === C).length;
  }
  t.equal(mismatches, 0);
  t.ok(raises > 1000 && clears > 1000, `${raises} raises and ${clears} clears exercised`);
  t.end();
});
