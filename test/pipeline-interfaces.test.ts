// sFlow interface rows and the intervals a replay emits: counter samples that arrive after the
// capture's last flow still reach a summary (they were left open and lost at the end of a replay).
import t from 'tap';
import { loadConfig } from '../src/config/load.js';
import { Pipeline } from '../src/pipeline.js';
import type { IntervalSummary } from '../src/aggregate/summary.js';
import { AGENT, IFACES, sflowCapture } from './web/sflow-capture.js';

const T0 = 1_800_000_000_000;

async function run(intervals: number, flowIntervals: number): Promise<IntervalSummary[]> {
  const out: IntervalSummary[] = [];
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16'] } } });
  const p = new Pipeline(cfg, { time: 'event', onSummary: (s) => out.push(s) });
  for (const d of sflowCapture(T0, intervals, flowIntervals)) p.onDatagram(d.payload, AGENT, d.tsMs);
  await p.finish();
  return out;
}

function risen(out: IntervalSummary[], ifIndex: number): number {
  let n = 0;
  for (const s of out) for (const r of s.interfaces ?? []) if (r.ifIndex === ifIndex) n += r.in.octets;
  return n;
}

t.test('counter samples after the last flow are emitted in intervals of their own', async (t) => {
  const out = await run(6, 3);
  for (const i of IFACES) t.equal(risen(out, i.ifIndex), 5 * i.inOctets, `ifIndex ${i.ifIndex}: every rise of the 6 samples`);
  const last = out.at(-1)!;
  t.equal(last.start * 1000, T0 + 5 * 10_000, 'the last summary is the last counter sample\'s interval');
  t.same(last.directions.in, { bytes: 0, packets: 0, flows: 0, bps: 0, pps: 0 }, 'with no flows in it');
  t.ok(out.slice(0, 3).every((s) => s.directions.in.bytes > 0), 'the flow intervals unchanged');
});

t.test('flows and counters to the end: no interval added', async (t) => {
  const out = await run(4, 4);
  t.equal(out.length, 4);
  for (const i of IFACES) t.equal(risen(out, i.ifIndex), 3 * i.inOctets);
});

t.test('a capture of counter samples only: their intervals are emitted, with no flows', async (t) => {
  const out = await run(4, 0);
  t.ok(out.length >= 1, `${out.length} summaries`);
  for (const i of IFACES) t.equal(risen(out, i.ifIndex), 3 * i.inOctets, `ifIndex ${i.ifIndex}: every rise of the 4 samples`);
  t.ok(out.every((s) => s.directions.in.bytes === 0 && s.directions.out.bytes === 0), 'no flows');
});
