// Replays real pmacctd exports of the known capture and checks the counters against its ground truth.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config/load.js';
import { replay } from '../src/ingest/replay.js';
import type { IntervalSummary } from '../src/aggregate/summary.js';
import { silentLogger } from '../src/lib/log.js';
import { directionTotals } from './helpers/totals.js';
import { truth } from './helpers/truth.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;
const sflowTruth = JSON.parse(readFileSync(`${FIX}pmacctd-sflow.expected.json`, 'utf8')) as {
  by_direction: Record<string, [number, number]>;
  by_local_host: Record<string, [number, number, number, number]>;
};

async function run(file: string, extra: Record<string, unknown> = {}): Promise<IntervalSummary[]> {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: truth.home }, ...extra } });
  const out: IntervalSummary[] = [];
  await replay([`${FIX}${file}`], cfg, { sinks: [], log: silentLogger, onSummary: (s) => out.push(s), progress: false });
  return out;
}

const byDirection = directionTotals;

function byHost(out: IntervalSummary[]): Record<string, [number, number, number, number]> {
  const tot: Record<string, [number, number, number, number]> = {};
  for (const s of out) {
    t.same(s.hostsOther.in.bytes + s.hostsOther.out.bytes, 0, 'every host fits the top-N table');
    for (const h of s.hosts) {
      const e = (tot[h.host] ??= [0, 0, 0, 0]);
      const o = h.direction === 'in' ? 0 : 2;
      e[o] += h.bytes;
      e[o + 1] += h.packets;
    }
  }
  return tot;
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
  t.test(`${file}: totals per direction and per host equal the capture's truth`, async (t) => {
    const out = await run(file);
    t.same(byDirection(out), truth.by_direction);
    t.same(byHost(out), truth.by_local_host);
    const records = out.reduce((a, s) => a + s.stats.records, 0);
    t.equal(records, 1098, 'every record counted once');
    t.ok(out.every((s, i) => i === 0 || s.start === out[i - 1]!.end), 'intervals are consecutive');
  });

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

t.test('pmacctd-sflow.pcap: totals per direction and per host equal what the sFlow capture carries', async (t) => {
  const out = await run('pmacctd-sflow.pcap');
  t.same(byDirection(out), sflowTruth.by_direction);
  t.same(byHost(out), sflowTruth.by_local_host);
});
