// A live flowbridge collector on a loopback ephemeral port, for tests that point real exporters at it.
import { loadConfig } from '../../src/config/load.js';
import { LiveCollector } from '../../src/live.js';
import type { Pipeline } from '../../src/pipeline.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { silentLogger } from '../../src/lib/log.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { directionTotals } from './totals.js';

export interface TestCollector {
  pipeline: Pipeline;
  port: number;
  summaries: IntervalSummary[];
  records(): number;
  /** Resolves once the record count has not moved for `quietMs` (bounded by `maxMs`). */
  settle(quietMs?: number, maxMs?: number): Promise<number>;
  /** Stops (flushing every open interval) and returns the summed totals per direction. */
  stop(): Promise<Record<string, [number, number]>>;
}

export async function startCollector(overrides: Record<string, unknown> = {}, address = '127.0.0.1'): Promise<TestCollector> {
  const cfg = loadConfig({
    argv: [], env: {},
    overrides: {
      networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] },
      listen: { netflow: [address.includes(':') ? `[${address}]:0` : `${address}:0`], sflow: [], extra: [] },
      state: { file: '' }, output: { format: 'none' },
      ...overrides,
    },
  });
  const summaries: IntervalSummary[] = [];
  const live = new LiveCollector(cfg, { log: silentLogger, onSummary: (s) => summaries.push(s) });
  await live.start();
  const records = () => live.pipeline.metrics.total('records_total');
  return {
    pipeline: live.pipeline, summaries, records,
    port: live.listenerAddresses()[0]!.port,
    async settle(quietMs = 500, maxMs = 15_000) {
      const t0 = Date.now();
      let last = -1, since = Date.now();
      while (Date.now() - t0 < maxMs) {
        const n = records();
        if (n !== last) {
          last = n;
          since = Date.now();
        } else if (n > 0 && Date.now() - since >= quietMs) break;
        await sleep(50);
      }
      return last;
    },
    async stop() {
      await live.stop();
      return directionTotals(summaries);
    },
  };
}
