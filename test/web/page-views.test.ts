// The live page's views, rate unit and interfaces panel in headless chromium, after a replay with the
// two suggested views configured: the pmacctd IPFIX capture (remote hosts, no interface indexes), then
// an sFlow capture built here (interfaces, remote hosts and counter samples; sflow-capture.ts). Every
// figure is checked against what /api/intervals returns, never against numbers written here.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loadConfig } from '../../src/config/load.js';
import { replay } from '../../src/ingest/replay.js';
import type { IntervalSummary, ViewRow } from '../../src/aggregate/summary.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { WebServer } from '../../src/web/server.js';
import { chromiumMissing, openBrowser, outputDir } from '../helpers/chromium.js';
import { writePcap } from '../helpers/pcap-write.js';
import { AGENT, sflowCapture } from './sflow-capture.js';

const missing = chromiumMissing();
if (missing) t.comment(`skipping the browser test: ${missing}`);

const VIEWS = [{ name: 'interfaces', keys: ['exporter', 'interface'] }, { name: 'remotehosts', keys: ['remotehost'] }];
const WAIT = { timeout: 10_000 };
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

interface Shown { key: string; direction: string; rate: number; rateText: string; bytes: number; packets: number; flows: number }
interface Entry { key: string; direction: string; bytes: number; packets: number; flows: number }

/** The view table's rows as shown (the "other" row left out). */
const shownRows = (page: Page): Promise<Shown[]> => page.$$eval('#view-table tbody tr:not([data-other])', (trs) => trs.map((tr) => {
  const e = tr as HTMLElement;
  const v = [...e.querySelectorAll('td[data-value]')].map((td) => Number((td as HTMLElement).dataset.value));
  return { key: e.dataset.key!, direction: e.dataset.direction!, rate: v[0]!, rateText: e.querySelector('td.rate')!.textContent!,
    bytes: v[1]!, packets: v[2]!, flows: v[3]! };
}));

/** A view's rows summed per key and direction over `list`, largest bytes first (what the table must show). */
function entries(list: IntervalSummary[], view: string): Entry[] {
  const acc = new Map<string, Entry>();
  for (const s of list) {
    for (const r of (s.views?.[view] ?? []) as ViewRow[]) {
      const key = JSON.stringify(r.key), direction = r.direction ?? '';
      const id = `${key}|${direction}`;
      const a = acc.get(id) ?? { key, direction, bytes: 0, packets: 0, flows: 0 };
      a.bytes += r.bytes;
      a.packets += r.packets;
      a.flows += r.flows;
      acc.set(id, a);
    }
  }
  return [...acc.values()].sort((a, b) => b.bytes - a.bytes);
}

/** "1.25Mbps" → 1.25e6 */
function parseRate(text: string): number {
  const m = /^([\d.]+)([kMGTP]?)(?:bps|pps)?$/.exec(text.trim());
  if (!m) return NaN;
  return Number(m[1]) * 1000 ** ' kMGTP'.indexOf(m[2] || ' ');
}

/** The text figure is the exact one to three significant digits (si() rounds to integers below 1000). */
const closeTo = (text: string, exact: number) => Math.abs(parseRate(text) - exact) <= Math.max(0.5, Math.abs(exact) * 0.006);

/** The direction chart's legend, label → value text. */
const legend = (page: Page, sel: string) => page.$$eval(`${sel} .u-legend .u-series`, (rows) =>
  Object.fromEntries(rows.map((r) => [r.querySelector('.u-label')?.textContent ?? '', r.querySelector('.u-value')?.textContent ?? ''])));

t.test('views, the bps/pps switch and the interfaces panel match /api/intervals', { skip: missing ?? false, timeout: 90_000 }, async (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: {
    networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] }, aggregate: { hold: '10m' }, views: VIEWS } });
  const web = new WebServer({ ...cfg.web, listen: '127.0.0.1:0' }, { metrics: new Metrics(), log: silentLogger, intervalSec: 10, views: cfg.views });
  t.teardown(() => web.stop());
  await web.start();
  const out: IntervalSummary[] = [];
  const onSummary = (s: IntervalSummary) => {
    out.push(s);
    web.onSummary(s);
  };
  await replay([new URL('../fixtures/pmacctd-ipfix.pcap', import.meta.url).pathname], cfg, { log: silentLogger, progress: false, onSummary });
  // the sFlow capture starts where the IPFIX flows end, so one window holds both
  const tmp = mkdtempSync(join(tmpdir(), 'flowbridge-page-views-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const sflow = writePcap(join(tmp, 'sflow.pcap'), sflowCapture(out[out.length - 1]!.end * 1000, 12));
  await replay([sflow], cfg, { log: silentLogger, progress: false, onSummary });
  web.setReady();
  const base = `http://127.0.0.1:${web.address().port}`;

  const info = await (await fetch(`${base}/api/info`)).json() as { top: number; views: { name: string; keys: string[] }[] };
  t.same(info.views, [{ name: 'interfaces', keys: ['exporter', 'interface'], per: 'direction' }, { name: 'remotehosts', keys: ['remotehost'], per: 'direction' }],
    '/api/info lists the configured views');
  const api = await (await fetch(`${base}/api/intervals?top=${info.top}`)).json() as IntervalSummary[];
  t.equal(api.length, out.length);
  const newest = api[api.length - 1]!;
  t.ok(newest.interfaces?.length && newest.views?.interfaces?.length, 'the newest interval has interface counters and an interface view');

  const { page, errors, blocked } = await openBrowser(t);
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector(`#chart[data-points="${api.length}"] canvas`, WAIT);
  await page.waitForSelector('#views:not([hidden]) #view-chart canvas', WAIT);
  t.same(await page.$$eval('#view-select option', (o) => o.map((x) => x.textContent)), ['interfaces', 'remotehosts'], 'both views offered');
  t.equal(await page.$eval('#view-span', (s) => (s as HTMLSelectElement).value), 'last', 'the table shows the newest interval first');

  const seconds = api.reduce((a, s) => a + s.interval, 0);
  for (const view of ['remotehosts', 'interfaces']) {
    await page.selectOption('#view-select', view);
    await page.waitForSelector(`#view-table[data-view="${view}"]`, WAIT);
    for (const [span, list, secs] of [['last', [newest], newest.interval], ['window', api, seconds]] as const) {
      await page.selectOption('#view-span', span);
      await page.waitForFunction((s) => document.querySelector('#view-span-text')!.textContent!.includes(s === 'last' ? 'newest' : 'whole'), span, WAIT);
      const want = entries([...list], view);
      const shown = await shownRows(page);
      t.equal(shown.length, Math.min(10, want.length), `${view}, ${span}: ${shown.length} rows`);
      t.same(shown.map((r) => r.bytes), want.slice(0, shown.length).map((r) => r.bytes), `${view}, ${span}: largest first, as /api/intervals has them`);
      if (want.length > 1 && want[0]!.bytes > want[1]!.bytes) {
        t.same([shown[0]!.key, shown[0]!.direction], [want[0]!.key, want[0]!.direction], `${view}, ${span}: the top entry`);
      }
      for (const r of shown) {
        const w = want.find((x) => x.key === r.key && x.direction === r.direction);
        t.ok(w && w.bytes === r.bytes && w.packets === r.packets && w.flows === r.flows && r.rate === (w.bytes * 8) / secs,
          `${view}, ${span}: ${r.key} ${r.direction}`);
        t.ok(closeTo(r.rateText, r.rate), `${r.rateText} shows ${r.rate}`);
      }
    }
    // the chart: the window's largest entries, stacked, and the rest
    const want = entries(api, view);
    const labels = Object.keys(await legend(page, '#view-chart')).filter((l) => l !== 'time');
    t.equal(labels.length, Math.min(8, want.length) + 1, `${view}: ${labels.length - 1} entries and other in the chart`);
    t.equal(labels[labels.length - 1], 'other');
    const topKey = JSON.parse(want[0]!.key) as Record<string, string | number>;
    t.match(labels[0], Object.values(topKey).map(String).join(' · '), `${view}: the largest entry at the bottom of the stack`);
    await page.screenshot({ path: join(outputDir('web'), `page-view-${view}.png`), fullPage: true });
  }

  // one direction: the table holds only it, and with "other" adds up to the view's traffic in it
  await page.selectOption('#view-select', 'remotehosts');
  await page.selectOption('#view-span', 'window');
  await page.selectOption('#view-dir', 'out');
  await page.waitForFunction(() => [...document.querySelectorAll('#view-table tbody tr:not([data-other])')]
    .every((tr) => (tr as HTMLElement).dataset.direction === 'out'), undefined, WAIT);
  const outs = entries(api, 'remotehosts').filter((e) => e.direction === 'out');
  const shownOut = await shownRows(page);
  t.same(shownOut.map((r) => r.bytes), outs.slice(0, 10).map((r) => r.bytes), 'remotehosts out: the largest, as /api/intervals has them');
  const otherOut = await page.$$eval('#view-table tbody tr[data-other] td[data-value]', (tds) => tds.map((td) => Number((td as HTMLElement).dataset.value)));
  const allOut = outs.reduce((a, e) => a + e.bytes, 0) + api.reduce((a, s) => a + (s.viewsOther?.remotehosts?.out?.bytes ?? 0), 0);
  t.equal(shownOut.reduce((a, r) => a + r.bytes, 0) + (otherOut[1] ?? 0), allOut, 'rows + other = the view\'s out traffic');
  const outLabels = Object.keys(await legend(page, '#view-chart')).filter((l) => l !== 'time');
  t.ok(outLabels.length > 1 && outLabels.every((l) => !/ (in|out)$/.test(l)), 'one direction: the chart labels need none');
  await page.selectOption('#view-dir', 'all');

  // bps → pps: every rate shown moves by bytes × 8 / packets, the rest stays
  await page.selectOption('#view-select', 'remotehosts');
  await page.selectOption('#view-span', 'last');
  await page.waitForFunction(() => document.querySelector('#view-span-text')!.textContent!.includes('newest'), undefined, WAIT);
  const bps = await shownRows(page);
  const chartBps = await legend(page, '#chart');
  const hostBps = await page.$eval('#hosts-in tbody tr td.rate', (td) => [td.textContent, (td as HTMLElement).dataset.value]);
  const ifBps = await page.$$eval('#interfaces tbody td.rate', (tds) => tds.map((td) => Number((td as HTMLElement).dataset.value)));
  // keyboard: the unit is a radio group
  await page.focus('input[name="unit"][value="bps"]');
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#chart[data-unit="pps"]', WAIT);
  t.ok(await page.isChecked('input[name="unit"][value="pps"]'), 'the arrow key picked packets/s');
  t.match(await page.textContent('#chart-unit'), /packets per second/);
  const pps = await shownRows(page);
  t.equal(pps.length, bps.length);
  for (const [i, r] of pps.entries()) {
    const b = bps[i]!;
    t.equal(r.key, b.key);
    t.equal(r.bytes, b.bytes, 'bytes stay');
    t.equal(r.rate, r.packets / newest.interval, `${r.key} ${r.direction}: packets per second`);
    t.ok(Math.abs(b.rate / r.rate - (r.bytes * 8) / r.packets) < 1e-9, 'bps / pps = bytes × 8 / packets');
    t.ok(r.rateText.endsWith('pps') && b.rateText.endsWith('bps'));
    t.ok(Math.abs(parseRate(b.rateText) / parseRate(r.rateText) / ((r.bytes * 8) / r.packets) - 1) < 0.015,
      `shown: ${b.rateText} → ${r.rateText}`);
  }
  t.equal(await page.textContent('#view-table thead th.num'), 'pps', 'the rate column says pps');
  const chartPps = await legend(page, '#chart');
  t.ok(closeTo(chartBps.in!, newest.directions.in.bps) && closeTo(chartPps.in!, newest.directions.in.pps),
    `direction chart legend: ${chartBps.in} → ${chartPps.in}`);
  const hostPps = await page.$eval('#hosts-in tbody tr td.rate', (td) => [td.textContent, (td as HTMLElement).dataset.value]);
  t.equal(await page.textContent('#hosts-in th.rate-head'), 'avg pps');
  const topHost = api.flatMap((s) => s.hosts.filter((h) => h.direction === 'in' && h.host === '10.1.0.99'));
  const [hb, hp] = [topHost.reduce((a, h) => a + h.bytes, 0), topHost.reduce((a, h) => a + h.packets, 0)];
  t.ok(Math.abs(Number(hostBps[1]) / Number(hostPps[1]) - (hb * 8) / hp) < 1e-6, `top receiver: ${hostBps[0]} bps → ${hostPps[0]} pps`);
  const ifPps = await page.$$eval('#interfaces tbody td.rate', (tds) => tds.map((td) => Number((td as HTMLElement).dataset.value)));
  t.equal(ifPps.length, ifBps.length);
  t.ok(ifPps.every((v, i) => v > 0 && ifBps[i]! / v > 8), 'interface rates change unit too');
  await page.screenshot({ path: join(outputDir('web'), 'page-views-pps.png'), fullPage: true });

  // the interfaces panel: every counter row of the window, as rates from its first interval
  const ifs = new Map<string, { first: number; speed: number; inO: number; outO: number; inP: number; inErr: number; outDisc: number }>();
  for (const s of api) {
    for (const r of s.interfaces ?? []) {
      const id = `${r.exporter}|${r.ifIndex}`;
      const a = ifs.get(id) ?? { first: s.start, speed: 0, inO: 0, outO: 0, inP: 0, inErr: 0, outDisc: 0 };
      a.speed = r.ifSpeed;
      a.inO += r.in.octets;
      a.outO += r.out.octets;
      a.inP += r.in.ucastPkts;
      a.inErr += r.in.errors;
      a.outDisc += r.out.discards;
      ifs.set(id, a);
    }
  }
  const panel = await page.$$eval('#interfaces tbody tr', (trs) => trs.map((tr) => {
    const e = tr as HTMLElement;
    const td = [...e.children] as HTMLElement[];
    return { id: `${e.dataset.exporter}|${e.dataset.ifIndex}`, speed: Number(td[2]!.dataset.value), inPps: Number(td[3]!.dataset.value),
      inUse: Number(td[4]!.dataset.value), outUse: Number(td[6]!.dataset.value), outUseRed: td[6]!.classList.contains('warn'),
      errIn: Number(td[7]!.dataset.in), discOut: Number(td[8]!.dataset.out) };
  }));
  t.same(panel.map((p) => p.id).sort(), [...ifs.keys()].sort(), 'one row per exporter and ifIndex');
  for (const p of panel) {
    const a = ifs.get(p.id)!;
    const span = newest.end - a.first;
    t.equal(p.speed, a.speed);
    t.equal(p.inPps, a.inP / span, `${p.id}: in pps`);
    t.ok(Math.abs(p.inUse - (a.inO * 8) / span / a.speed) < 1e-12, `${p.id}: in use ${(p.inUse * 100).toFixed(1)} %`);
    t.ok(Math.abs(p.outUse - (a.outO * 8) / span / a.speed) < 1e-12, `${p.id}: out use ${(p.outUse * 100).toFixed(1)} %`);
    t.equal(p.outUseRed, p.outUse >= 0.9, 'red from 90 %');
    t.equal(p.errIn, a.inErr);
    t.equal(p.discOut, a.outDisc);
  }
  t.ok(panel.some((p) => p.outUseRed), 'the busy interface is red');
  const exporters = await page.$$eval('#exporters tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.exporter));
  t.same(exporters.sort(), [...new Set(api.flatMap((s) => s.exporters.map((e) => e.exporter)))].sort(), 'every exporter listed');

  // live: the choices survive new data; a name for an interface is shown where a row has one
  await page.selectOption('#view-select', 'interfaces');
  const ifRow = newest.interfaces![0]!;
  const named: IntervalSummary = {
    ...newest, start: newest.end, end: newest.end + 10,
    interfaces: [{ ...ifRow, ifName: 'uplink0' } as typeof ifRow],
    // a name comes from the network (options data): one that looks like markup must stay text
    views: { ...newest.views!, interfaces: newest.views!.interfaces!.map((r) =>
      r.key.interface === ifRow.ifIndex ? { ...r, ifName: 'uplink0' } : { ...r, ifName: HOSTILE }) },
  };
  web.onSummary(named);
  await page.waitForSelector(`#chart[data-points="${api.length + 1}"]`, WAIT);
  t.equal(await page.$eval('#view-select', (s) => (s as HTMLSelectElement).value), 'interfaces', 'the view picked stays');
  t.ok(await page.isChecked('input[name="unit"][value="pps"]'), 'the unit stays');
  t.ok((await page.$$eval('#view-table tbody .ifname', (e) => e.map((x) => x.textContent))).includes('uplink0'), 'the view shows the interface name');
  t.ok((await page.$$eval('#interfaces tbody .ifname', (e) => e.map((x) => x.textContent))).includes('uplink0'), 'so does the interfaces panel');
  t.ok((await page.$$eval('#view-chart .u-legend .u-label', (e) => e.map((x) => x.textContent))).some((l) => l?.includes(`${AGENT} · uplink0`)),
    'and the chart legend');
  t.ok((await page.$$eval('#view-table tbody .ifname', (e) => e.map((x) => x.textContent))).includes(HOSTILE), 'a hostile name is shown as text');
  t.equal(await page.$$eval('main img', (e) => e.length), 0, 'no element was created from data');
  t.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'no script ran');
  await page.screenshot({ path: join(outputDir('web'), 'page-views-live.png'), fullPage: true });

  // and a reload of the page
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('#views:not([hidden]) #view-chart canvas', WAIT);
  t.equal(await page.$eval('#view-select', (s) => (s as HTMLSelectElement).value), 'interfaces', 'the view survives a reload');
  t.ok(await page.isChecked('input[name="unit"][value="pps"]'), 'and the unit');

  // configured views before any data: offered, nothing to show yet
  const empty = new WebServer({ ...cfg.web, listen: '127.0.0.1:0' }, { metrics: new Metrics(), log: silentLogger, intervalSec: 10, views: cfg.views });
  t.teardown(() => empty.stop());
  await empty.start();
  await page.goto(`http://127.0.0.1:${empty.address().port}/`, { waitUntil: 'load' });
  await page.waitForSelector('#views:not([hidden])', WAIT);
  t.same(await page.$$eval('#view-select option', (o) => o.map((x) => x.textContent)), ['interfaces', 'remotehosts']);
  t.ok(await page.isVisible('#view-empty'), 'says the view has no traffic yet');
  t.ok(await page.isHidden('#interfaces-box'), 'no interfaces panel without counter samples');

  t.strictSame(errors, [], 'no console errors');
  t.strictSame(blocked, [], 'nothing requested outside loopback');
});
