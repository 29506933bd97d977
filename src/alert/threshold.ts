// The threshold state machine of one key tuple (or of a whole definition): fed one value per closed
// interval, it raises after `for` consecutive evaluations above `above`, stays raised until the value
// is at or below `clear` (hysteresis), and does not raise again within `cooldown` of the last raise.
// With `window` > 1 the evaluated value covers the last N intervals: summed for counts, averaged for
// rates. Time is the interval end the caller passes in, never the wall clock.

export interface ThresholdSpec {
  /** raise when the value is above this */
  above: number;
  /** clear when the value is at or below this (≤ above; equal = no hysteresis) */
  clear: number;
  /** consecutive intervals above before raising (≥ 1) */
  for: number;
  /** ms after a raise during which the same key does not raise again */
  cooldown: number;
  /** intervals the value covers (≥ 1); missing intervals count as 0 */
  window: number;
  /** one state per key tuple, or one over everything the definition matched */
  per: 'key' | 'total';
}

export const enum Transition { None = 0, Raise = 1, Clear = 2 }

export class ThresholdState {
  private readonly ring: Float64Array;
  private at = 0;
  private sum = 0;
  /** consecutive evaluations above `above` while not raised */
  private over = 0;
  private lastRaiseMs = Number.NEGATIVE_INFINITY;
  active = false;
  /** the value of the last evaluation (windowed) */
  value = 0;

  /** `mean`: the window value is the average of its intervals (rates), else their sum (counts). */
  constructor(private readonly spec: ThresholdSpec, private readonly mean: boolean) {
    this.ring = new Float64Array(Math.max(1, spec.window));
  }

  /** Feeds the value of the interval ending at `endMs`; returns what changed. */
  update(v: number, endMs: number): Transition {
    const ring = this.ring, n = ring.length;
    this.sum += v - ring[this.at]!;
    ring[this.at] = v;
    this.at = (this.at + 1) % n;
    if (this.at === 0) {
      // re-add from scratch once per lap so floating-point drift cannot accumulate
      let s = 0;
      for (let i = 0; i < n; i++) s += ring[i]!;
      this.sum = s;
    }
    const w = this.mean ? this.sum / n : this.sum;
    this.value = w;
    const spec = this.spec;
    if (this.active) {
      if (w <= spec.clear) {
        this.active = false;
        this.over = 0;
        return Transition.Clear;
      }
      return Transition.None;
    }
    if (!(w > spec.above)) {
      this.over = 0;
      return Transition.None;
    }
    this.over++;
    if (this.over >= spec.for && endMs - this.lastRaiseMs >= spec.cooldown) {
      this.active = true;
      this.lastRaiseMs = endMs;
      return Transition.Raise;
    }
    return Transition.None;
  }

  /** Nothing left to remember at `nowMs`: safe to forget (bounded state tables drop idle keys). */
  idle(nowMs: number): boolean {
    if (this.active || this.over > 0 || nowMs - this.lastRaiseMs < this.spec.cooldown) return false;
    const ring = this.ring;
    for (let i = 0; i < ring.length; i++) if (ring[i] !== 0) return false;
    return true;
  }
}
