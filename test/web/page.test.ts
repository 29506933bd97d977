// The live page in a real headless chromium (Debian package, driven by playwright-core) after a replay
// of the pmacctd IPFIX capture: chart points, top hosts, health, live updates over /api/events, host
// names shown as text (never HTML), no console errors and no request leaving loopback.
import t from 'tap';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { replay } from '../../src/ingest/replay.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { WebServer } from '../../src/web/server.js';
import { chromiumMissing, openBrowser, outputDir } from '../helpers/chromium.js';

const missing = chromiumMissing();
if (missing) t.comment(`skipping the browser test: ${missing}`);

const HOSTILE = '<img src=x onerror="window.__pwned=1">';

/** Pixels of one RGB colour on the chart's canvas: proof that uPlot drew that series. */
function countColor(rgb: [number, number, number]): number {
  const c = document.querySelector('#chart canvas') as HTMLCanvasElement | null;
  if (!c) return -1;
  const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i]! - rgb[0]) < 8 && Math.abs(d[i + 1]! - rgb[1]) < 8 && Math.abs(d[i + 2]! - rgb[2]) < 8 && d[i + 3]! > 200) n++;
  }
  return n;
}

t.test('the live page shows the replayed capture and live updates', { skip: missing ?? false, timeout: 60_000 }, async (t) => {
  // views: [] — this page shows what a collector without views shows (page-views.test.ts has the views)
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] }, aggregate: { hold: '10m' }, views: [] } });
  const web = new WebServer({ ...cfg.web, listen: '127.0.0.1:0' }, { metrics: new Metrics(), log: silentLogger, intervalSec: 10 });
  t.teardown(() => web.stop());
  await web.start();
  const out: IntervalSummary[] = [];
  await replay([new URL('../fixtures/pmacctd-ipfix.pcap', import.meta.url).pathname], cfg, {
    log: silentLogger, progress: false, onSummary: (s) => {
      out.push(s);
      web.onSummary(s);
    },
  });
  web.setReady();
  const base = `http://127.0.0.1:${web.address().port}`;
  const dir = outputDir('web');

  const started = Date.now();
  const { page, errors, blocked } = await openBrowser(t);
  t.comment(`chromium up in ${Date.now() - started} ms`);
  const loadStart = Date.now();
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#chart[data-points="30"] canvas', { timeout: 10_000 });
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 });
  t.comment(`page rendered 30 intervals in ${Date.now() - loadStart} ms`);

  const cells = (sel: string) => page.$$eval(sel, (els) => els.map((e) => e.textContent ?? ''));
  t.equal((await cells('#hosts-in tbody tr td:first-child'))[0], '10.1.0.99', 'top receiver');
  t.equal((await cells('#hosts-out tbody tr td:first-child'))[0], '10.1.0.80', 'top sender');
  t.equal((await cells('#hosts-in tbody tr')).length, 10, 'ten receivers listed');
  const health = await page.$$eval('#health tbody tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
  t.same(health.find((r) => r[0] === 'records'), ['records', String(out[29]!.stats.collector.records), '1098'], 'records: last interval, window');
  t.same(health.find((r) => r[0] === 'decode errors'), ['decode errors', '0', '0']);
  t.ok((await cells('#ports tbody td:first-child')).includes('tcp/443'), 'tcp/443 among the top ports');
  t.match(await page.textContent('#window'), /30 × 10 s/);
  t.ok(await page.isHidden('#views'), 'no views configured: no view picker');
  t.ok(await page.isHidden('#interfaces-box'), 'no counter samples: no interfaces panel');
  t.same(await page.$$eval('#exporters tbody tr', (r) => r.map((x) => x.firstChild!.textContent)), ['127.0.0.1'], 'the exporter');
  const inPixels = await page.evaluate(countColor, [37, 99, 235] as [number, number, number]);
  const outPixels = await page.evaluate(countColor, [234, 88, 12] as [number, number, number]);
  t.ok(inPixels > 100 && outPixels > 100, `the in and out lines are drawn (${inPixels} and ${outPixels} px)`);
  await page.screenshot({ path: join(dir, 'page.png'), fullPage: true });

  // live: a new interval with an IPv6 receiver and a hostile "host name", and an alert
  const last = out[29]!;
  const next: IntervalSummary = {
    ...last, start: last.end, end: last.end + 10,
    directions: { ...last.directions, in: { bytes: 2e9, packets: 2e6, flows: 2, bps: 1.6e9, pps: 2e5 } },
    hosts: [
      { host: '2001:db8:1:0:1234:5678:9abc:def0', group: 'home', direction: 'in', bytes: 1.5e9, packets: 1e6, flows: 1 },
      { host: HOSTILE, group: 'home', direction: 'in', bytes: 5e8, packets: 1e6, flows: 1 },
    ],
  };
  web.onSummary(next);
  web.onAlert({ kind: 'threshold', name: 'uport', keys: { ipsource: HOSTILE, port: 53 }, value: 5000, metric: 'packets',
    threshold: 1000, start: next.start, end: next.end, time: next.end * 1000 });
  await page.waitForSelector('#chart[data-points="31"]', { timeout: 5000 });
  await page.waitForSelector('#alerts tbody tr', { timeout: 5000 });
  const receivers = await cells('#hosts-in tbody tr td:first-child');
  t.same(receivers.slice(0, 2), ['2001:db8:1:0:1234:5678:9abc:def0', HOSTILE], 'IPv6 host first; the hostile name shown as text');
  t.equal(await page.$$eval('main img', (e) => e.length), 0, 'no element was created from data');
  t.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'no script ran');
  t.same(await cells('#alerts tbody tr td:nth-child(3)'), ['uport']);
  t.match((await cells('#alerts tbody td.keys'))[0], `ipsource=${HOSTILE} port=53`);
  await page.screenshot({ path: join(dir, 'page-live.png'), fullPage: true });

  // a collector that has not closed an interval yet: an empty page, still without errors
  const empty = new WebServer({ ...cfg.web, listen: '127.0.0.1:0' }, { metrics: new Metrics(), log: silentLogger, intervalSec: 10 });
  t.teardown(() => empty.stop());
  await empty.start();
  await page.goto(`http://127.0.0.1:${empty.address().port}/`, { waitUntil: 'load' });
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 });
  t.ok(await page.isVisible('#empty'), 'the empty state says it waits for flows');
  t.equal(await page.getAttribute('#chart', 'data-points'), '0');
  t.equal(await page.$$eval('#hosts-in tbody tr', (r) => r.length), 0);

  t.strictSame(errors, [], 'no console errors');
  t.strictSame(blocked, [], 'nothing requested outside loopback');
});

/** Line boxes each occurrence of `word` takes in the alert keys: 1 = not broken. */
function lineBoxes(word: string): number[] {
  const out: number[] = [];
  for (const td of document.querySelectorAll('#alerts td.keys')) {
    const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const i = n.textContent!.indexOf(word);
      if (i < 0) continue;
      const r = document.createRange();
      r.setStart(n, i);
      r.setEnd(n, i + word.length);
      out.push(new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size);
    }
  }
  return out;
}

t.test('late parts are neutral unless a large share; alert keys stay whole; many alerts scroll in their box (#18)',
  { skip: missing ?? false, timeout: 60_000 }, async (t) => {
    const web = new WebServer({ listen: '127.0.0.1:0' }, { metrics: new Metrics(), log: silentLogger, intervalSec: 10 });
    t.teardown(() => web.stop());
    await web.start();
    const z = { bytes: 0, packets: 0, flows: 0, bps: 0, pps: 0 };
    const t0 = 1793491200;
    const summary = (i: number, late: number): IntervalSummary => ({
      start: t0 + 10 * i, end: t0 + 10 * i + 10, interval: 10,
      directions: { in: { bytes: 1_250_000, packets: 1000, flows: 3, bps: 1_000_000, pps: 100 }, out: z, internal: z, external: z },
      hosts: [], hostsOther: { in: z, out: z }, ports: [], portsOther: { in: z, out: z, internal: z, external: z }, protocols: [], groups: [], exporters: [],
      stats: { records: 1000, late, hostOverflow: 0, portOverflow: 0, exporterOverflow: 0,
        collector: { datagrams: 100, records: 1000, decodeErrors: 0, templateMisses: 0, late } },
    });
    for (let i = 0; i < 30; i++) web.onSummary(summary(i, 20)); // 2 % of the records: normal
    for (let i = 0; i < 100; i++) {
      web.onAlert({ kind: 'threshold', name: 'uport', keys: { sourceIPv6Address: `2001:db8:1:0:1234:5678:9abc:${i.toString(16)}`, destinationTransportPort: 53 },
        value: 5000, metric: 'packets', threshold: 1000, start: t0 + 290, end: t0 + 300, time: (t0 + 300) * 1000 + i });
    }
    web.setReady();
    const { page, errors, blocked } = await openBrowser(t);
    await page.goto(`http://127.0.0.1:${web.address().port}/`, { waitUntil: 'load' });
    await page.waitForSelector('#chart[data-points="30"]', { timeout: 10_000 });
    await page.waitForSelector('#alerts tbody tr', { timeout: 10_000 });

    const lateCell = () => page.$eval('#health tbody tr:nth-child(5) td:last-child', (td) => [td.parentElement!.firstChild!.textContent, td.textContent, td.className]);
    t.same(await lateCell(), ['late parts', '600', 'num'], 'late parts at 2 % of the records: not red');
    t.same(await page.$$eval('#health td.warn', (e) => e.length), 0, 'nothing in red');

    t.equal(await page.$$eval('#alerts tbody tr', (r) => r.length), 100, 'every kept alert is listed');
    for (const word of ['sourceIPv6Address', 'destinationTransportPort']) {
      const boxes = await page.evaluate(lineBoxes, word);
      t.ok(boxes.length === 100 && boxes.every((n) => n === 1), `${word}: never broken across lines (${[...new Set(boxes)].join(', ')} line boxes)`);
    }
    const box = await page.$eval('#alerts', (e) => {
      const b = e.parentElement!;
      return { height: b.getBoundingClientRect().height, scrolls: b.scrollHeight > b.clientHeight, overflow: getComputedStyle(b).overflowY };
    });
    t.ok(box.height <= 480 && box.scrolls && box.overflow === 'auto', `the alert list is capped (${Math.round(box.height)} px) and scrolls inside`);
    const pageHeight = await page.evaluate(() => document.documentElement.scrollHeight);
    t.ok(pageHeight < 1600, `the page stays short with 100 alerts (${pageHeight} px)`);
    await page.screenshot({ path: join(outputDir('web'), 'page-alerts.png'), fullPage: true });

    // late parts as a third of the records: the hold is too short, now it is red
    web.onSummary(summary(30, 10_000));
    await page.waitForSelector('#chart[data-points="31"]', { timeout: 5000 });
    t.same(await lateCell(), ['late parts', '10600', 'num warn'], 'late parts at a third of the records: red');
    t.strictSame(errors, [], 'no console errors');
    t.strictSame(blocked, [], 'nothing requested outside loopback');
  });
