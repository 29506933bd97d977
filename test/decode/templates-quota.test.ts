// Template cache exhaustion drills (issue 17 item 6): one spoofed source teaching thousands of small
// templates fills only its own quota; the global caps are a last resort that evicts the least recently
// used exporter's templates; a refusal is counted per exporter and logged, rate-limited.
import t from 'tap';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { Pipeline } from '../../src/pipeline.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { readUdpPackets } from '../../src/ingest/pcap.js';
import { TemplateCache, TEMPLATE_CACHE_DEFAULTS } from '../../src/decode/templates.js';
import { TemplateKind } from '../../src/decode/elements.js';
import { Metrics } from '../../src/lib/counters.js';
import { RateLimitedLog } from '../../src/lib/log.js';
import { directionTotals } from '../helpers/totals.js';
import { truth } from '../helpers/truth.js';
import { ipfix, set, tpl, type Field } from './nf-build.js';

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const normal = [...readUdpPackets(`${FIX}pmacctd-ipfix.pcap`)].map((d) => ({ buf: Buffer.from(d.payload), ts: d.tsMs }));
const SPOOF = '192.0.2.66';
const SMALL: Field[] = [[8, 4], [12, 4], [1, 4]];

/** IPFIX datagrams teaching `n` small templates (ten a datagram) from ids 256 up, in `domain`. */
function* templateFlood(n: number, domain = 0, fields: Field[] = SMALL): Generator<Buffer> {
  for (let i = 0; i < n; i += 10) {
    const recs: Buffer[] = [];
    for (let k = i; k < Math.min(n, i + 10); k++) recs.push(tpl(256 + k, fields));
    yield ipfix({ exportTime: 1793491200, domain }, set(2, Buffer.concat(recs)));
  }
}

/** Captured warn lines of a pino logger. */
function captureLog(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  return { log: pino({ level: 'warn' }, dest), lines };
}

t.test('10,500 templates from one spoofed source, then a real exporter: its templates are learned and every record decodes', (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.0.0.0/8', '2001:db8:1::/48'] }, state: { file: '' } } });
  const out: IntervalSummary[] = [];
  const p = new Pipeline(cfg, { time: 'event', onSummary: (s) => out.push(s) });
  for (const d of templateFlood(10_500)) p.onDatagram(d, SPOOF, normal[0]!.ts);
  const spoofHeld = p.templates.size;
  for (const n of normal) p.onDatagram(n.buf, '127.0.0.1', n.ts);
  p.aggregator.flush();
  t.same(directionTotals(out), truth.by_direction, 'the real exporter decodes exactly, as with an empty cache');
  t.equal(p.metrics.total('template_misses_total'), 0, 'no template misses');
  t.ok(spoofHeld <= TEMPLATE_CACHE_DEFAULTS.maxPerExporter, `the spoofed source holds ${spoofHeld} templates, within its quota of ${TEMPLATE_CACHE_DEFAULTS.maxPerExporter}`);
  t.equal(p.metrics.total('templates_refused_total', { exporter: SPOOF, reason: 'exporter_templates' }), 10_500 - spoofHeld, 'every refusal counted against the spoofed source');
  t.equal(p.metrics.total('templates_refused_total', { exporter: '127.0.0.1' }), 0, 'nothing refused from the real exporter');
  t.end();
});

const L = { ids: [8, 12, 1], ents: [0, 0, 0], lens: [4, 4, 4] };
const clock = { ms: 1_000_000 };
const put = (c: TemplateCache, exporter: string, id: number, domain = 0) =>
  c.put(exporter, 10, domain, id, TemplateKind.Data, 0, L.ids, L.ents, L.lens, 3);

t.test('per-exporter quotas: count and bytes; a refusal is counted per exporter and reason and logged, rate-limited', (t) => {
  const metrics = new Metrics();
  const { log, lines } = captureLog();
  const c = new TemplateCache({ now: () => clock.ms, maxPerExporter: 5, metrics, log: new RateLimitedLog(log, () => clock.ms) });
  for (let i = 0; i < 50; i++) put(c, 'spoof', 256 + i, i % 3);
  t.equal(c.exporterUse('spoof')!.templates, 5);
  t.equal(c.stats.refused, 45);
  t.equal(metrics.total('templates_refused_total', { exporter: 'spoof', reason: 'exporter_templates' }), 45);
  t.ok(put(c, 'real', 256), 'another exporter is not blocked');
  t.ok(put(c, 'spoof', 256), 'a known template of the full exporter still refreshes');
  const refusals = lines.filter((l) => l.msg === 'template refused');
  t.ok(refusals.length >= 1 && refusals.length <= 3, `${refusals.length} log lines for 45 refusals`);
  t.match(refusals[0], { exporter: 'spoof', reason: 'exporter_templates', version: 10 });

  const one = TemplateCache.templateBytes(3);
  const b = new TemplateCache({ now: () => clock.ms, maxBytesPerExporter: one * 3 + 10, metrics });
  for (let i = 0; i < 5; i++) put(b, 'x', 256 + i);
  t.equal(b.exporterUse('x')!.templates, 3, 'the byte quota binds');
  t.equal(b.exporterUse('x')!.bytes, one * 3);
  t.equal(b.bytes, one * 3);
  t.equal(metrics.total('templates_refused_total', { exporter: 'x', reason: 'exporter_bytes' }), 2);
  // a new, larger layout for a known id over the byte quota drops the old one: its data must not
  // decode with a layout that is no longer the exporter's
  t.equal(b.put('x', 10, 0, 256, TemplateKind.Data, 0, [8, 12, 1, 2], [0, 0, 0, 0], [4, 4, 4, 4], 4), undefined);
  t.equal(b.get('x', 10, 0, 256), undefined);
  t.equal(b.exporterUse('x')!.templates, 2);
  t.end();
});

t.test('global caps evict the least recently used exporter first; one that refreshes its templates stays', (t) => {
  const metrics = new Metrics();
  const c = new TemplateCache({ now: () => clock.ms, maxPerExporter: 10, maxTemplates: 30, metrics });
  for (let i = 0; i < 10; i++) put(c, 'real', 256 + i);
  for (let s = 0; s < 10; s++) {
    clock.ms += 1000;
    for (let i = 0; i < 10; i++) put(c, `spoof${s}`, 256 + i);
    for (let i = 0; i < 10; i++) put(c, 'real', 256 + i); // the real exporter refreshes as the flood goes on
  }
  t.equal(c.size, 30);
  t.equal(c.exporterUse('real')!.templates, 10, 'the refreshing exporter kept every template');
  t.equal(c.exporterUse('spoof9')!.templates, 10, 'the newest source too');
  t.equal(c.exporterUse('spoof0'), undefined, 'the oldest sources were evicted');
  t.equal(metrics.total('templates_evicted_total'), 80, 'spoof0 to spoof7, ten each');
  t.equal(metrics.total('templates_refused_total'), 0, 'nothing refused: eviction made room');
  t.ok(put(c, 'late', 256), 'a newcomer gets room');

  // an exporter whose templates decode data outlives one that only ever sent templates
  const d = new TemplateCache({ now: () => clock.ms, maxTemplates: 4 });
  put(d, 'active', 256);
  put(d, 'active', 257);
  clock.ms += 1000;
  put(d, 'noise', 256);
  put(d, 'noise', 257);
  t.ok(d.getIn(d.scope('active', 10, 0)!, 256), 'data decoded with the active exporter\'s template');
  clock.ms += 1000;
  put(d, 'new', 256);
  t.equal(d.exporterUse('noise')!.templates, 1, 'the template-only exporter gave way, though used more recently');
  t.equal(d.exporterUse('active')!.templates, 2);
  t.end();
});

t.test('template bytes: counted from the layout, capped globally, released on withdraw, expiry and clear', (t) => {
  const c = new TemplateCache({ now: () => clock.ms, ttlMs: 1000, maxBytes: TemplateCache.templateBytes(512) * 3 });
  const ids = Array.from({ length: 512 }, (_, i) => 0x8000 | (1000 + i));
  const ents = ids.map(() => 9), lens = ids.map(() => 65535);
  for (let i = 0; i < 5; i++) {
    clock.ms += 1;
    c.put(`e${i}`, 10, 0, 256, TemplateKind.Data, 0, ids, ents, lens, 512);
  }
  t.equal(c.size, 3, 'three 512-field templates fit the byte cap');
  t.ok(c.bytes <= TemplateCache.templateBytes(512) * 3);
  t.equal(c.exporterUse('e0'), undefined, 'the oldest went first');
  t.ok(c.withdraw('e4', 10, 0, 256));
  t.equal(c.bytes, TemplateCache.templateBytes(512) * 2);
  clock.ms += 2000;
  c.sweep();
  t.equal(c.bytes, 0);
  t.equal(c.size, 0);
  t.equal(c.exporterCount, 0, 'no accounting left for exporters that hold nothing');
  t.end();
});

t.test('pending sets: a spoofed source filling its quota does not push out another exporter\'s held sets', (t) => {
  const c = new TemplateCache({ now: () => clock.ms, pendingMaxSetsPerExporter: 8, pendingMaxBytesPerExporter: 4096, pendingMaxBytes: 64 * 1024 });
  t.ok(c.hold('real', 10, 0, 300, Buffer.alloc(100), 0, -1));
  for (let i = 0; i < 1000; i++) c.hold(SPOOF, 10, 0, 256 + (i % 500), Buffer.alloc(200), 0, -1);
  t.ok(c.exporterUse(SPOOF)!.pendingSets <= 8);
  t.ok(c.exporterUse(SPOOF)!.pendingBytes <= 4096);
  t.equal(c.takePending('real', 10, 0, 300)?.length, 1, 'the real exporter\'s held set is still there');
  t.end();
});
