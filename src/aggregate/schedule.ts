// Live interval boundaries from node-schedule, aligned to the wall clock (an interval of 10 s fires at
// :00, :10, :20 …). The rule's fire date is the boundary; a double fire is ignored and a missed fire
// is counted (the aggregator still closes every interval in order on the next one).
import schedule from 'node-schedule';

/** A recurrence rule firing on every multiple of intervalSec within the day (intervalSec divides 86400). */
export function ruleFor(intervalSec: number): schedule.RecurrenceRule {
  if (!Number.isInteger(intervalSec) || intervalSec < 1 || 86400 % intervalSec !== 0) {
    throw new Error(`interval ${intervalSec}s must be a whole number of seconds dividing a day`);
  }
  const rule = new schedule.RecurrenceRule();
  rule.tz = 'Etc/UTC';
  const every = (step: number, max: number) => Array.from({ length: max / step }, (_, i) => i * step);
  if (intervalSec < 60 && 60 % intervalSec === 0) {
    rule.second = every(intervalSec, 60);
  } else if (intervalSec % 60 === 0 && intervalSec < 3600 && 3600 % intervalSec === 0) {
    rule.second = 0;
    rule.minute = every(intervalSec / 60, 60);
  } else if (intervalSec % 3600 === 0) {
    rule.second = 0;
    rule.minute = 0;
    rule.hour = every(intervalSec / 3600, 24);
  } else {
    // e.g. 40 s or 90 s: boundaries are multiples within the day; fire every second and filter.
    rule.second = every(1, 60);
  }
  return rule;
}

export class IntervalClock {
  private job: schedule.Job | undefined;
  private last = -Infinity;
  fires = 0;
  doubleFires = 0;
  missed = 0;

  constructor(private readonly intervalMs: number, private readonly onBoundary: (boundaryMs: number) => void) {}

  start(): void {
    const rule = ruleFor(this.intervalMs / 1000);
    this.job = schedule.scheduleJob(rule, (fireDate: Date) => this.fire(fireDate.getTime()));
  }

  /** Handles one fire; public so tests can drive it directly. */
  fire(fireMs: number): void {
    const boundary = Math.floor(fireMs / this.intervalMs) * this.intervalMs;
    if (boundary !== Math.floor(fireMs / 1000) * 1000) return; // per-second rule between boundaries
    if (boundary <= this.last) {
      this.doubleFires++;
      return;
    }
    if (this.last !== -Infinity && boundary > this.last + this.intervalMs) {
      this.missed += (boundary - this.last) / this.intervalMs - 1;
    }
    this.last = boundary;
    this.fires++;
    this.onBoundary(boundary);
  }

  stop(): void {
    this.job?.cancel();
    this.job = undefined;
  }
}
