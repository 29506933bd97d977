// Replays real pmacctd exports of the known capture and checks how the counters follow the traffic per
// interval. Their totals per direction and per host against the ground truth are replay cases
// (test/cases/pmacctd-*, checked by test/cases.test.ts).
import t from 'tap';
import { loadConfig } from '../src/config/load.js';
import { replay } from '../src/ingest/replay.js';
import type { IntervalSummary } from '../src/aggregate/summary.js';
import { silentLogger } from '../src/lib/log.js';
import { truth } from './helpers/truth.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;

async function run(file: string, extra: Record<string, unknown> = {}): Promise<IntervalSummary[]> {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: truth.home }, ...extra } });
  const out: IntervalSummary[] = [];
  await replay([`${FIX}${file}`], cfg, { log: silentLogger, onSummary: (s) => out.push(s), progress: false });
  return out;
}

/** Σ|error| over every (interval, direction) divided by the total bytes. */
function intervalError(out: IntervalSummary[]): number {
  const got: Record<string, number> = {};
  for (const s of out) {
    const k = Math.round((s.start - truth.t0) / truth.interval);
    for (const [d, v] of Object.entries(s.directions)) if (v.bytes) got[`${k}:${d}`] = (got[`${k}:${d}`] ?? 0) + v.bytes;
  }
  let err = 0, total = 0;
  const keys = new Set([...Object.keys(got), ...Object.keys(truth.by_interval_direction)]);
  for (const k of keys) {
    const want = truth.by_interval_direction[k]?.[0] ?? 0;
    err += Math.abs((got[k] ?? 0) - want);
    total += want;
  }
  return err / total;
}

for (const file of ['pmacctd-ipfix.pcap', 'pmacctd-v9.pcap']) {
  // pmacctd read the capture in 3 s of wall time and flushed every flow at exit, so records arrive
  // long after their intervals: hold intervals open for the whole capture.
  t.test(`${file}: spreading follows the traffic per interval; assigning at flow end does not`, async (t) => {
    const spread = intervalError(await run(file, { aggregate: { hold: '10m' } }));
    const atEnd = intervalError(await run(file, { aggregate: { hold: '10m', assign: 'end' } }));
    t.comment(`per-interval error: spread ${(spread * 100).toFixed(2)} %, end ${(atEnd * 100).toFixed(2)} %`);
    t.ok(spread < 0.01, `spread error ${(spread * 100).toFixed(3)} % is under 1 %`);
    t.ok(atEnd > 5 * spread, `end-assignment error ${(atEnd * 100).toFixed(1)} % is far worse`);
  });
}

