import t from 'tap';
import { loadConfig } from '../src/config/load.js';
import { replay } from '../src/ingest/replay.js';
import { silentLogger } from '../src/lib/log.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;

t.test('exporters.allow: datagrams from other sources are dropped and counted, v4 and v6 prefixes', async (t) => {
  const cases: [string[], number, number][] = [
    [['192.0.2.0/24', '2001:db8::/32'], 0, 150],
    [['127.0.0.0/8'], 1098, 0],
    [['::1/128', '127.0.0.1'], 1098, 0],
  ];
  for (const [allow, records, denied] of cases) {
    const cfg = loadConfig({ argv: [], env: {}, overrides: { exporters: { allow } } });
    const r = await replay([`${FIX}pmacctd-ipfix.pcap`], cfg, { log: silentLogger, progress: false });
    t.equal(r.pipeline.metrics.total('records_total'), records, `allow ${allow.join(',')}: records`);
    t.equal(r.pipeline.metrics.total('datagrams_denied_total'), denied, `allow ${allow.join(',')}: denied`);
  }
});

t.test('interval stats carry the collector counters, decode errors by kind included', async (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: {} });
  const stats: Record<string, number>[] = [];
  await replay([`${FIX}pmacctd-sflow.pcap`], cfg, { log: silentLogger, progress: false, onSummary: (s) => stats.push(s.stats.collector) });
  const sum = (k: string) => stats.reduce((a, s) => a + (s[k] ?? 0), 0);
  t.equal(sum('datagrams'), 2649);
  t.equal(sum('records'), 16183);
  t.equal(sum('decodeErrors'), 0);
});
