import t from 'tap';
import { Bad, RecordNormalizer } from '../../src/flow/normalize.js';
import { FlowRecord } from '../../src/flow/record.js';

const T = 1_793_491_205_000;

function rec(o: Partial<FlowRecord>): FlowRecord {
  const r = new FlowRecord();
  r.clear();
  r.exporter = '192.0.2.1';
  Object.assign(r, { startMs: T - 5000, endMs: T - 1000, bytes: 1000, packets: 10, samplingRate: 0, ...o });
  return r;
}

t.test('a sound record passes untouched and is renormalized by its rate', (t) => {
  const n = new RecordNormalizer();
  const r = rec({ samplingRate: 100 });
  t.equal(n.normalize(r, T), Bad.None);
  t.same([r.startMs, r.endMs, r.bytes, r.packets], [T - 5000, T - 1000, 1000, 10]);
  t.same([r.scaledBytes, r.scaledPackets, r.scaledFlows], [100_000, 1000, 100]);
  t.end();
});

t.test('sampling: override > wire > default; 0 means not said; out of range is refused', (t) => {
  const n = new RecordNormalizer({ defaultRate: 4, overrides: { '192.0.2.9': 64 }, maxRate: 1000 });
  const cases: [number, string, number, number][] = [
    [0, '192.0.2.1', 4, Bad.None],
    [10, '192.0.2.1', 10, Bad.None],
    [10, '192.0.2.9', 64, Bad.None],
    [1001, '192.0.2.1', 4, Bad.Sampling],
    [-1, '192.0.2.1', 4, Bad.Sampling], // sFlow's rate 0
    [0.5, '192.0.2.1', 4, Bad.Sampling],
    [NaN, '192.0.2.1', 4, Bad.Sampling],
  ];
  for (const [wire, exporter, want, bad] of cases) {
    const r = rec({ samplingRate: wire, exporter });
    t.equal(n.normalize(r, T), bad, `${wire} from ${exporter}`);
    t.equal(r.samplingRate, want);
    t.equal(r.scaledFlows, want);
  }
  t.end();
});

t.test('times: inverted, too long, far ahead of arrival, negative or NaN are bad_time, put at the end or arrival', (t) => {
  const n = new RecordNormalizer({ maxFlowDurationMs: 3_600_000 });
  const cases: [number, number, number, number][] = [
    // start, end → both become
    [T - 1000, T - 5000, T - 5000, Bad.Time], // end before start: at its end
    [T - 3_600_001, T, T, Bad.Time], // longer than maxFlowDuration
    [1000, T, T, Bad.Time], // 1970 to now
    [T, 2 ** 62, T, Bad.Time], // far future: at arrival
    [-5000, T, T, Bad.Time],
    [NaN, T - 1000, T - 1000, Bad.Time],
    [T - 1000, NaN, T, Bad.Time],
    [T - 3_600_000, T, -1, Bad.None], // exactly the limit: sound
    [T + 60_000, T + 120_000, -1, Bad.None], // an exporter clock a minute ahead: the aggregator clamps it
  ];
  for (const [s, e, want, bad] of cases) {
    const r = rec({ startMs: s, endMs: e });
    t.equal(n.normalize(r, T), bad, `${s} → ${e}`);
    if (want >= 0) t.same([r.startMs, r.endMs], [want, want]);
    else t.same([r.startMs, r.endMs], [s, e]);
  }
  t.end();
});

t.test('counters: at most line rate over the span (≥ 1 s) and a largest packet per packet; exact integers', (t) => {
  const n = new RecordNormalizer({ maxLinkBps: 8e9, maxPacketBytes: 9000 }); // 1 GB/s, 15.6 Mpps
  const cases: [Partial<FlowRecord>, number, number, number][] = [
    [{ bytes: 2 ** 64, packets: 2 ** 64, samplingRate: 1000 }, 4_000_000, 62_500, Bad.Counter], // 4 s span
    [{ bytes: 90_001, packets: 10 }, 90_000, 10, Bad.Counter],
    [{ bytes: 5_000, packets: 0 }, 5_000, 0, Bad.None], // no packet count: only the line rate applies
    [{ bytes: 2e9, packets: 0, startMs: T, endMs: T }, 1e9, 0, Bad.Counter], // no span: 1 s
    [{ bytes: 90_000, packets: 10 }, 90_000, 10, Bad.None],
  ];
  for (const [o, bytes, packets, bad] of cases) {
    const r = rec(o);
    t.equal(n.normalize(r, T), bad, JSON.stringify(o));
    t.same([r.bytes, r.packets], [bytes, packets]);
    t.ok(Number.isSafeInteger(r.scaledBytes) && Number.isSafeInteger(r.scaledPackets));
  }
  t.end();
});

t.test('fractional rates: each record an integer, each exporter\'s sums within one unit of the products', (t) => {
  const n = new RecordNormalizer();
  const got = { a: [0, 0, 0], b: [0, 0, 0] };
  for (let i = 0; i < 999; i++) {
    for (const [ex, rate] of [['a', 4 / 3], ['b', 1.5]] as const) {
      const r = rec({ exporter: ex, bytes: 97 + i, packets: 1, samplingRate: rate });
      n.normalize(r, T);
      t.ok(Number.isInteger(r.scaledBytes) && Number.isInteger(r.scaledPackets) && Number.isInteger(r.scaledFlows));
      got[ex][0] += r.scaledBytes;
      got[ex][1] += r.scaledPackets;
      got[ex][2] += r.scaledFlows;
    }
  }
  const bytes = Array.from({ length: 999 }, (_, i) => 97 + i).reduce((a, b) => a + b);
  for (const [ex, rate] of [['a', 4 / 3], ['b', 1.5]] as const) {
    t.ok(Math.abs(got[ex][0]! - bytes * rate) < 1, `${ex} bytes ${got[ex][0]} ≈ ${bytes * rate}`);
    t.ok(Math.abs(got[ex][1]! - 999 * rate) < 1);
    t.ok(Math.abs(got[ex][2]! - 999 * rate) < 1);
  }
  t.end();
});
