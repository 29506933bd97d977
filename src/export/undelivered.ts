// What the sinks and the syslog sender did not deliver, read from the metrics: the live collector's
// shutdown and replay report it (and exit non-zero) instead of losing lines silently.
import type { Metrics } from '../lib/counters.js';

/** Lines per sink and syslog alerts that did not arrive: given up on (dropped, failed) and, apart, still queued. */
export interface Undelivered {
  lines: Record<string, number>;
  alerts: number;
  queuedLines: Record<string, number>;
  queuedAlerts: number;
}

export function undelivered(m: Metrics): Undelivered {
  const u: Undelivered = { lines: {}, alerts: 0, queuedLines: {}, queuedAlerts: 0 };
  for (const s of m.snapshot()) {
    const sink = s.labels.sink ?? '';
    if (s.name === 'sink_dropped_total' || s.name === 'sink_lines_failed_total') u.lines[sink] = (u.lines[sink] ?? 0) + s.value;
    else if (s.name === 'sink_queue_lines') u.queuedLines[sink] = (u.queuedLines[sink] ?? 0) + s.value;
    else if (s.name === 'syslog_dropped_total') u.alerts += s.value;
    else if (s.name === 'syslog_queue_depth') u.queuedAlerts += s.value;
  }
  return u;
}

/** What shutdown lost since `mark` (taken at the signal): given up on since, plus everything still queued. */
export function lostSince(mark: Undelivered, m: Metrics): { lines: Record<string, number>; alerts: number; linesTotal: number } {
  const now = undelivered(m);
  const lines: Record<string, number> = {};
  let total = 0;
  for (const sink of new Set([...Object.keys(now.lines), ...Object.keys(now.queuedLines)])) {
    const n = (now.lines[sink] ?? 0) - (mark.lines[sink] ?? 0) + (now.queuedLines[sink] ?? 0);
    if (n > 0) lines[sink] = n;
    total += n;
  }
  return { lines, alerts: now.alerts - mark.alerts + now.queuedAlerts, linesTotal: total };
}

/** The process is about to end with these still queued: they are dropped, and counted so. */
export function dropQueued(m: Metrics): void {
  const q = undelivered(m);
  for (const [sink, n] of Object.entries(q.queuedLines)) {
    if (n <= 0) continue;
    m.counter('sink_dropped_total', '', { sink }).inc(n);
    m.gauge('sink_queue_lines', '', { sink }).set(0);
  }
  if (q.queuedAlerts > 0) {
    m.counter('syslog_dropped_total', '').inc(q.queuedAlerts);
    m.gauge('syslog_queue_depth', '').set(0);
  }
}
