// Console sink: a short human table per interval (directions, top hosts and ports, collector health).
import type { Writable } from 'node:stream';
import type { IntervalSummary } from '../aggregate/summary.js';
import type { AlertEvent } from '../alert/event.js';
import type { Sink } from './sink.js';
import { closeOutput, openOutput } from './stream.js';

const UNITS = ['', 'k', 'M', 'G', 'T', 'P'];

/** 1234567 -> "1.23M" (SI, for bits and packets per second). */
export function si(v: number): string {
  let i = 0;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(2)}${UNITS[i]}`;
}

function clock(epochSec: number): string {
  return new Date(epochSec * 1000).toISOString().slice(11, 19);
}

export function formatConsole(s: IntervalSummary, top = 5): string {
  const d = s.directions;
  const lines = [
    `${new Date(s.start * 1000).toISOString().slice(0, 10)} ${clock(s.start)}–${clock(s.end)}  ` +
      (['in', 'out', 'internal', 'external'] as const)
        .map((k) => `${k} ${si(d[k].bps)}bps ${si(d[k].pps)}pps`).join('  '),
  ];
  for (const dir of ['in', 'out'] as const) {
    const rows = s.hosts.filter((h) => h.direction === dir).slice(0, top);
    if (rows.length) {
      lines.push(`  top ${dir === 'in' ? 'receivers' : 'senders'}: ` +
        rows.map((h) => `${h.host} ${si((h.bytes * 8) / s.interval)}bps`).join(', '));
    }
  }
  const ports = [...s.ports].sort((a, b) => b.bytes - a.bytes).slice(0, top);
  if (ports.length) {
    lines.push(`  top ports: ${ports.map((p) => `${p.protocol}/${p.port} ${p.direction} ${si((p.bytes * 8) / s.interval)}bps`).join(', ')}`);
  }
  // the collector counters cover the wall-clock time since the previous summary, not this interval's
  // records (an empty interval can follow a burst): label both so they are not read as one figure
  const c = s.stats.collector;
  const health = Object.keys(c).filter((k) => c[k]).map((k) => `${k} ${c[k]}`).join(' ');
  lines.push(`  this interval: records ${s.stats.records}${s.stats.late ? ` late ${s.stats.late}` : ''}` +
    (health ? `  |  since last line: ${health}` : ''));
  return `${lines.join('\n')}\n`;
}

/** One line per alert: kind, definition, keys, value (and threshold), interval. */
export function formatAlertLine(a: AlertEvent): string {
  const keys = Object.keys(a.keys).map((k) => ` ${k}=${a.keys[k]}`).join('');
  const span = `${clock(a.start)}–${clock(a.end)}`;
  if (a.kind === 'suppressed') return `ALERT suppressed ${a.name}: ${a.value} alerts over the rate limit (${span})\n`;
  const cmp = a.kind === 'threshold' ? ` > ${si(a.threshold ?? 0)}` : a.kind === 'cleared' ? ` <= ${si(a.threshold ?? 0)}` : '';
  const from = a.exporter ? ` from ${a.exporter}` : '';
  return `ALERT ${a.kind} ${a.name}${keys} ${a.metric} ${si(a.value)}${cmp} (${span})${from}\n`;
}

export class ConsoleSink implements Sink {
  readonly name = 'console';
  private readonly out: Writable;
  constructor(path = '-', out?: Writable) {
    this.out = out ?? openOutput(path);
  }
  write(summary: IntervalSummary): void {
    this.out.write(formatConsole(summary));
  }
  writeAlert(alert: AlertEvent): void {
    this.out.write(formatAlertLine(alert));
  }
  stop(): Promise<void> {
    return closeOutput(this.out);
  }
}
