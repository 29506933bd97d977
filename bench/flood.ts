// Memory under a spoofed-source flood: the built collector's RSS while one interval takes 1,000,000
// distinct sources inside the home networks (every one a new local host), next to its RSS at rest.
import { loadConfig } from '../src/config/load.js';
import { Pipeline } from '../src/pipeline.js';
import { floodV5 } from './gen.js';
import { rssMB, type BenchRow } from './report.js';

export async function run(): Promise<BenchRow[]> {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.0.0.0/8'] } } });
  let summaries = 0;
  const p = new Pipeline(cfg, { time: 'event', onSummary: () => summaries++ });
  (globalThis as { gc?: () => void }).gc?.();
  const idle = rssMB();
  let peak = idle;
  const t0 = performance.now();
  let i = 0;
  for (const d of floodV5(1_000_000, 40, 1_800_000_000)) {
    p.onDatagram(d, '192.0.2.66', 1_800_000_000_000);
    if ((++i & 255) === 0) peak = Math.max(peak, rssMB());
  }
  p.aggregator.flush();
  const secs = (performance.now() - t0) / 1000;
  peak = Math.max(peak, rssMB());
  // the same flood from 1M remote sources: what the default remotehosts view holds is capped too
  const q = new Pipeline(cfg, { time: 'event', onSummary: () => summaries++ });
  let peakRemote = rssMB();
  i = 0;
  for (const d of floodV5(1_000_000, 40, 1_800_000_000, true)) {
    q.onDatagram(d, '192.0.2.66', 1_800_000_000_000);
    if ((++i & 255) === 0) peakRemote = Math.max(peakRemote, rssMB());
  }
  q.aggregator.flush();
  peakRemote = Math.max(peakRemote, rssMB());
  return [
    { name: 'RSS at rest', value: idle, unit: 'MB' },
    { name: 'RSS peak, 1M distinct sources in one interval', value: peak, unit: 'MB', baseline: 'RSS at rest', notes: `goal < 200 MB; ${Math.round(1e6 / secs).toLocaleString('en-US')} records/s; ${summaries} summaries` },
    { name: 'RSS peak, then 1M distinct remote sources', value: peakRemote, unit: 'MB', baseline: 'RSS at rest',
      notes: `goal < 200 MB; default views (${cfg.views.map((v) => v.name).join(', ')}), after the row above` },
  ];
}
