// Template floods against the persisted state (issue 17 items 6 and 7): a spoofed block does not come
// back through a restart beyond its quota, and a flood of large templates keeps the template state, the
// state file and the rate it is rewritten at bounded.
import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { loadConfig } from '../src/config/load.js';
import { LiveCollector } from '../src/live.js';
import { IpfixDecoder } from '../src/decode/ipfix.js';
import { SamplingTable } from '../src/decode/sampling.js';
import { loadState, saveState, STATE_DEFAULTS, STATE_FORMAT, STATE_VERSION } from '../src/decode/state.js';
import { TemplateCache, TEMPLATE_CACHE_DEFAULTS } from '../src/decode/templates.js';
import { readUdpPackets } from '../src/ingest/pcap.js';
import { ipfix, set, tpl, Sink, type Field } from './decode/nf-build.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;
const normal = [...readUdpPackets(`${FIX}pmacctd-ipfix.pcap`)].map((d) => Buffer.from(d.payload));
const SPOOF = '192.0.2.66';

/** The records of the pmacctd capture decoded through `templates`, as JSON text per record. */
function decodeReal(templates: TemplateCache): string[] {
  const sink = new Sink();
  const dec = new IpfixDecoder({ templates, sampling: new SamplingTable(), report: sink.report });
  for (const d of normal) dec.decode(d, '127.0.0.1', 1_800_000_000_000, sink.emit);
  return sink.records.map((r) => JSON.stringify(r));
}

t.test('a state file holding 10,000 templates of one spoofed source: restore keeps its quota, the real exporter decodes exactly', (t) => {
  const now = () => 1_800_000_000_000;
  const clean = decodeReal(new TemplateCache({ now }));
  t.ok(clean.length > 1000, `${clean.length} records from a clean cache`);
  // what an older version saved after the flood: one layout under 10,000 ids from one source
  const templates = Array.from({ length: 10_000 }, (_, i) => ({
    exporter: SPOOF, version: 10, domain: i >> 12, id: 256 + (i & 4095), kind: 0, scopeCount: 0, seenMs: now() - 1000,
    fields: [[8, 0, 4], [12, 0, 4], [1, 0, 4]],
  }));
  const file = path.join(t.testdir({}), 'state.json');
  writeFileSync(file, JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION, templates: { templates }, sampling: { entries: [] } }));
  const restored = new TemplateCache({ now });
  const r = loadState(file, { templates: restored, sampling: new SamplingTable() });
  t.ok(r.loaded);
  t.ok(restored.size <= TEMPLATE_CACHE_DEFAULTS.maxPerExporter, `${restored.size} of 10,000 restored, the quota is ${TEMPLATE_CACHE_DEFAULTS.maxPerExporter}`);
  t.same(decodeReal(restored), clean, 'the real exporter decodes every record after the restart');

  // and what this version saves after the same flood comes back the same way
  saveState(file, { templates: restored, sampling: new SamplingTable() });
  const again = new TemplateCache({ now });
  loadState(file, { templates: again, sampling: new SamplingTable() });
  t.equal(again.size, restored.size);
  t.end();
});

/** An IPFIX template of 512 variable-length enterprise fields (4,120-byte datagram). */
const BIG: Field[] = Array.from({ length: 512 }, (_, i) => [1000 + i, 65535, 9] as Field);
function bigTemplate(id: number, domain: number): Buffer {
  return ipfix({ exportTime: 1793491200, domain }, set(2, tpl(id, BIG)));
}

t.test('12,000 templates of 512 variable-length enterprise fields: template bytes, state file size and writes stay bounded', async (t) => {
  const file = path.join(t.testdir({}), 'state.json');
  const cfg = loadConfig({ argv: [], env: {}, overrides: { state: { file } } });
  const p = new LiveCollector(cfg);
  const t0 = Date.now();
  const STEP = 10; // ms of the injected clock between datagrams: the flood lasts 120 s of it
  let writes = 0, maxSize = 0, last = '', peakBytes = 0;
  const rss0 = process.memoryUsage().rss;
  let peakRss = rss0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < 12_000; i++) {
    // 24 sources of 500 templates: the per-exporter quotas and the global cap both bind
    p.onDatagram(bigTemplate(256 + Math.floor(i / 24), 0), `198.51.100.${i % 24}`, t0 + i * STEP);
    try {
      const st = statSync(file, { bigint: true });
      const id = `${st.ino}:${st.mtimeNs}:${st.size}`;
      if (id !== last) {
        last = id;
        writes++;
        maxSize = Math.max(maxSize, Number(st.size));
      }
    } catch {
      /* not written yet */
    }
    peakBytes = Math.max(peakBytes, p.pipeline.templates.bytes);
    if (i % 50 === 0) {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      await yieldLoop(); // live datagrams arrive through the event loop: let timers run
    }
  }
  const floodMs = Number(process.hrtime.bigint() - started) / 1e6;
  t.comment(`flood: ${Math.round(floodMs)} ms, peak template bytes ${peakBytes}, ${p.pipeline.templates.size} templates, RSS +${Math.round((peakRss - rss0) / 1e6)} MB, ${writes} writes, largest file ${maxSize} B`);
  t.ok(peakBytes <= TEMPLATE_CACHE_DEFAULTS.maxBytes, `template bytes ${peakBytes} within the cap ${TEMPLATE_CACHE_DEFAULTS.maxBytes}`);
  t.ok(peakRss - rss0 < 400e6, `RSS grew ${Math.round((peakRss - rss0) / 1e6)} MB`);
  t.ok(maxSize > 0 && maxSize <= STATE_DEFAULTS.maxBytes, `the state file stayed within ${STATE_DEFAULTS.maxBytes} B (largest ${maxSize})`);
  // the first change at once, then at most one write per minInterval over the flood's 120 s
  const bound = 1 + Math.ceil((12_000 * STEP) / STATE_DEFAULTS.minIntervalMs);
  t.ok(writes >= 2 && writes <= bound, `${writes} writes during the flood, at most ${bound}`);

  // a real exporter arriving after the flood is not blocked
  for (const d of normal) p.onDatagram(d, '127.0.0.1', t0 + 12_000 * STEP);
  t.equal(p.pipeline.metrics.total('records_total', { exporter: '127.0.0.1' }), 1098, 'every record of the real exporter decoded');
  t.equal(p.pipeline.metrics.total('template_misses_total', { exporter: '127.0.0.1' }), 0);
  await p.stop();

  t.ok(statSync(file).size <= STATE_DEFAULTS.maxBytes, 'the final save too');
  const back = new TemplateCache({ now: () => t0 + 12_000 * STEP });
  const r = loadState(file, { templates: back, sampling: new SamplingTable() });
  t.ok(r.loaded && r.templates > 0, `${r.templates} templates restored`);
  t.ok(back.bytes <= TEMPLATE_CACHE_DEFAULTS.maxBytes);
  const saved = (JSON.parse(readFileSync(file, 'utf8')) as { templates: { templates: { exporter: string }[] } }).templates.templates;
  t.equal(saved[0]?.exporter, '127.0.0.1', 'the most recently used exporter is saved first');
});
