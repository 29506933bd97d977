// /metrics: the pipeline's registry in Prometheus text format, plus what a scraper expects of any
// process (uptime, build info, memory). The extra gauges live in the same registry so the output
// stays one consistent exposition (one HELP/TYPE per family).
import { readFileSync } from 'node:fs';
import type { Metrics } from '../lib/counters.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

let cachedVersion: string | undefined;

/** The package version, read once; "unknown" when package.json cannot be read (never throws). */
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      // ../../package.json from both src/web (tests) and dist/web (npm start)
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cachedVersion = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

export class ProcessMetrics {
  constructor(private readonly metrics: Metrics, private readonly startedMs: number, private readonly now: () => number) {
    metrics.gauge('build_info', 'Always 1; the labels name the flowbridge and Node.js versions',
      { version: packageVersion(), node: process.version }).set(1);
  }

  /** Updates the process gauges, then renders the whole registry. */
  render(): string {
    const m = this.metrics;
    m.gauge('uptime_seconds', 'Seconds since the web server started').set(Math.max(0, (this.now() - this.startedMs) / 1000));
    const mem = process.memoryUsage();
    m.gauge('resident_memory_bytes', 'Resident set size of the process').set(mem.rss);
    m.gauge('heap_used_bytes', 'V8 heap in use').set(mem.heapUsed);
    // where RSS goes beyond the heap in use: the heap's reserve, and Buffers (datagrams, held sets)
    m.gauge('heap_total_bytes', 'V8 heap reserved').set(mem.heapTotal);
    m.gauge('external_memory_bytes', 'Memory outside the V8 heap held by JavaScript objects (Buffers and other ArrayBuffers)').set(mem.external);
    return m.toPrometheus();
  }
}
