// Flood drill: one interval of 1,000,000 distinct spoofed sources beside normal traffic. Memory stays
// bounded by the table caps and the direction totals stay exact.
import t from 'tap';
import { loadConfig } from '../src/config/load.js';
import { Pipeline } from '../src/pipeline.js';
import type { IntervalSummary } from '../src/aggregate/summary.js';
import { readUdpPackets } from '../src/ingest/pcap.js';
import { directionTotals } from './helpers/totals.js';
import { floodV5 } from '../bench/gen.js';
import { truth } from './helpers/truth.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;
const T0 = 1793491200;

t.test('1,000,000 spoofed sources in one interval: memory bounded by the caps, totals exact', (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.0.0.0/8', '2001:db8:1::/48'] }, aggregate: { hold: '10m' } } });
  const out: IntervalSummary[] = [];
  const p = new Pipeline(cfg, { time: 'event', onSummary: (s) => out.push(s) });
  const normal = [...readUdpPackets(`${FIX}pmacctd-ipfix.pcap`)].map((d) => ({ buf: Buffer.from(d.payload), ts: d.tsMs }));
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0, i = 0;
  for (const d of floodV5(1_000_000, 40, T0 + 100)) {
    p.onDatagram(d, '192.0.2.66', normal[0]!.ts);
    const n = normal[i++ % 300];
    if (i < 300 && n) p.onDatagram(n.buf, '127.0.0.1', n.ts); // the normal traffic interleaved
    if ((i & 1023) === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  for (let k = 300; k < normal.length; k++) p.onDatagram(normal[k]!.buf, '127.0.0.1', normal[k]!.ts);
  p.aggregator.flush();
  peak = Math.max(peak, process.memoryUsage().rss);
  // This process also holds the TypeScript compiler; the absolute RSS of the built collector under the
  // same flood is measured by `npm run bench flood`. Here: the caps hold, so growth stays small.
  t.ok(peak - rss0 < 120 * 1024 * 1024, `RSS grew ${Math.round((peak - rss0) / 1e6)} MB (from ${Math.round(rss0 / 1e6)} MB) for 1M sources`);

  const want = { ...truth.by_direction, out: [truth.by_direction.out![0] + 40_000_000, truth.by_direction.out![1] + 1_000_000] };
  t.same(directionTotals(out), want, 'direction totals exact: the flood is all counted as out');
  const floodInterval = out.find((s) => s.start === T0 + 90)!;
  const sent = floodInterval.hosts.filter((h) => h.direction === 'out');
  t.equal(sent.length, cfg.aggregate.topHosts, 'the top-N table is full, not larger');
  t.equal(sent.reduce((a, h) => a + h.bytes, 0) + floodInterval.hostsOther.out.bytes,
    floodInterval.directions.out.bytes + floodInterval.directions.internal.bytes, 'top hosts + other = out + internal, exactly');
  t.ok(floodInterval.stats.hostOverflow >= 1_000_000 - cfg.aggregate.maxHosts, `${floodInterval.stats.hostOverflow} records beyond the ${cfg.aggregate.maxHosts}-host table went to "other"`);
  t.end();
});

t.test('1,000,000 spoofed remote sources with the default views: tuples capped and counted, totals exact', (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.0.0.0/8'] } } });
  t.same(cfg.views.map((v) => v.name), ['interfaces', 'remotehosts'], 'the default views');
  const out: IntervalSummary[] = [];
  const p = new Pipeline(cfg, { time: 'event', onSummary: (s) => out.push(s) });
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0, i = 0;
  for (const d of floodV5(1_000_000, 40, T0 + 100, true)) {
    p.onDatagram(d, '192.0.2.66', (T0 + 100) * 1000);
    if ((++i & 1023) === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  p.aggregator.flush();
  peak = Math.max(peak, process.memoryUsage().rss);
  t.ok(peak - rss0 < 120 * 1024 * 1024, `RSS grew ${Math.round((peak - rss0) / 1e6)} MB (from ${Math.round(rss0 / 1e6)} MB) for 1M remote sources`);
  t.equal(out.length, 1);
  const s = out[0]!;
  t.same([s.directions.in.bytes, s.directions.in.packets], [40_000_000, 1_000_000], 'every record counted, as in');
  const rows = s.views!.remotehosts!;
  t.equal(rows.length, 100, 'top 100 listed');
  const other = s.viewsOther!.remotehosts!.in!;
  t.equal(rows.reduce((a, r) => a + r.bytes, 0) + other.bytes, 40_000_000, 'rows + other = in, exactly');
  t.equal(rows.reduce((a, r) => a + r.packets, 0) + other.packets, 1_000_000);
  t.equal(s.stats.viewTuplesCapped!.remotehosts, 1_000_000 - cfg.aggregate.maxViewTuples, 'records past the tuple cap counted');
  t.equal(p.metrics.total('view_tuples_capped_total'), 1_000_000 - cfg.aggregate.maxViewTuples, 'and in the self-metric');
  t.end();
});
