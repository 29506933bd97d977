// The view picker: every view the summaries hold (`views`, `viewsOther`) or the collector has configured
// (/api/info), as a top table of one span (the newest interval or the whole window) and a stacked
// chart of its largest entries over the window, plus "other". Names and key columns come from the
// data, so a view added by a reload shows without a page change. Switching view, direction or span
// re-renders from the summaries already held: no request.
import { $, DIRS, TOP_ROWS, addTotals, clock, el, fill, numCell, rate, rateText, si, zero } from './util.js';
import { StackedChart } from './stacked.js';
import { interfaceLabel } from './interfaces.js';

/** entries drawn in the chart; the rest is "other" */
const TOP_SERIES = 8;
const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#65a30d'];
const OTHER_COLOR = '#9ca3af';
/** keys whose value is an ifIndex of the row's exporter: shown with the interface name when known */
const IF_KEYS = ['interface', 'inputifindex', 'outputifindex'];
/** keys holding addresses: long IPv6 ones may wrap */
const ADDRESS_KEYS = ['ipsource', 'ipdestination', 'localhost', 'remotehost', 'exporter'];

/** Configured views first (in their order), then any other view a summary in the window holds. */
export function viewNames(list, info) {
  const names = (info.views || []).map((v) => v.name);
  for (const s of list) for (const n of Object.keys(s.views || {})) if (!names.includes(n)) names.push(n);
  return names;
}

/** The view's key names: the configured ones, then any other its rows hold (a reload may change them). */
function keyColumns(view, list, info) {
  const conf = (info.views || []).find((v) => v.name === view);
  const cols = conf ? [...conf.keys] : [];
  for (const s of list) {
    for (const r of s.views?.[view] ?? []) for (const k of Object.keys(r.key)) if (k !== 'ifName' && !cols.includes(k)) cols.push(k);
  }
  return cols;
}

export class ViewsPanel {
  /** prefs: the page's kept choices (view, dir, span); onChange saves them and re-renders */
  constructor(prefs, onChange) {
    this.prefs = prefs;
    this.chart = new StackedChart($('#view-chart'));
    this.names = '';
    this.dirs = '';
    for (const [sel, key] of [['#view-select', 'view'], ['#view-dir', 'dir'], ['#view-span', 'span']]) {
      $(sel).addEventListener('change', (e) => {
        this.prefs[key] = e.target.value;
        onChange();
      });
    }
  }

  resize() {
    this.chart.resize();
  }

  render(list, info, unit, ifNames) {
    const names = viewNames(list, info);
    $('#views').hidden = names.length === 0;
    if (!names.length) return this.chart.destroy();
    // the kept choice wins while the view exists; otherwise the first, without forgetting the choice
    const view = names.includes(this.prefs.view) ? this.prefs.view : names[0];
    const select = $('#view-select');
    if (this.names !== names.join('\n')) { // as for directions below
      this.names = names.join('\n');
      select.replaceChildren(...names.map((n) => el('option', n)));
    }
    select.value = view;

    const rowsOf = (s) => s.views?.[view] ?? [];
    const present = new Set(list.flatMap((s) => rowsOf(s).map((r) => r.direction)).filter((d) => d !== undefined));
    const conf = (info.views || []).find((v) => v.name === view);
    const perDir = present.size > 0 || (conf !== undefined && conf.per !== 'none');
    const dirs = [...DIRS.filter((d) => present.has(d)), ...[...present].filter((d) => !DIRS.includes(d))];
    const dir = dirs.includes(this.prefs.dir) ? this.prefs.dir : 'all';
    const dirSelect = $('#view-dir');
    // rebuilt only when they change: a live update must not close a list the user has open
    if (this.dirs !== dirs.join('\n')) {
      this.dirs = dirs.join('\n');
      dirSelect.replaceChildren(el('option', 'all directions'), ...dirs.map((d) => el('option', d)));
      dirSelect.options[0].value = 'all';
    }
    dirSelect.value = dir;
    $('#view-dir-box').hidden = !perDir;

    const cols = keyColumns(view, list, info);
    const keep = (r) => dir === 'all' || r.direction === dir;
    const idOf = (r) => JSON.stringify([cols.map((c) => r.key[c] ?? null), r.direction ?? null]);
    const labelOf = (r) => {
      const parts = cols.map((c) => keyText(c, r, ifNames));
      return parts.join(' · ') + (dir === 'all' && r.direction ? ` ${r.direction}` : '');
    };

    // the chart: the window's largest entries, each interval's value in the page's unit
    const win = sumRows(list, rowsOf, keep, idOf, view, dir);
    const top = win.rows.slice(0, TOP_SERIES);
    const xs = intervalStarts(list);
    const byStart = new Map(list.map((s) => [s.start, s]));
    const series = top.map((e, i) => ({ label: labelOf(e), color: PALETTE[i], values: [] }));
    const other = { label: 'other', color: OTHER_COLOR, values: [] };
    for (const x of xs) {
      const s = byStart.get(x);
      if (!s) {
        for (const ser of [...series, other]) ser.values.push(null);
        continue;
      }
      const one = sumRows([s], rowsOf, keep, idOf, view, dir);
      let rest = one.total;
      top.forEach((e, i) => {
        const r = one.byId.get(idOf(e)) ?? zero();
        rest = { bytes: rest.bytes - r.bytes, packets: rest.packets - r.packets, flows: 0 };
        series[i].values.push(rate(r, s.interval, unit));
      });
      other.values.push(rate(rest, s.interval, unit));
    }
    const box = $('#view-chart');
    box.dataset.points = String(list.length);
    box.dataset.series = String(series.length);
    if (list.length) this.chart.set(xs, [...series, other], unit);
    else this.chart.destroy();

    // the table: one span, its largest entries and the rest
    const span = this.prefs.span === 'window' ? 'window' : 'last';
    $('#view-span').value = span;
    const newest = list[list.length - 1];
    const spanList = span === 'last' ? (newest ? [newest] : []) : list;
    const seconds = spanList.reduce((a, s) => a + s.interval, 0) || 1;
    $('#view-span-text').textContent = !newest ? '' : span === 'last'
      ? `(newest interval, ${clock(newest.start)}–${clock(newest.end)})`
      : `(whole window, ${list.length} intervals)`;
    const sum = span === 'last' ? sumRows(spanList, rowsOf, keep, idOf, view, dir) : win;
    const colors = new Map(top.map((e, i) => [idOf(e), PALETTE[i]]));
    this.renderTable(view, cols, perDir, sum, seconds, unit, colors, ifNames);
    $('#view-empty').hidden = sum.rows.length > 0 || sum.total.bytes > 0;
    return undefined;
  }

  renderTable(view, cols, perDir, sum, seconds, unit, colors, ifNames) {
    const table = $('#view-table');
    table.dataset.view = view;
    const head = el('tr');
    head.append(...cols.map((c) => el('th', c)));
    if (perDir) head.append(el('th', 'direction'));
    head.append(el('th', unit, 'num'), el('th', 'bytes', 'num'), el('th', 'packets', 'num'), el('th', 'flows', 'num'));
    table.tHead.replaceChildren(head);

    const shown = sum.rows.slice(0, TOP_ROWS);
    const rest = { ...sum.total };
    const rows = shown.map((r) => {
      rest.bytes -= r.bytes;
      rest.packets -= r.packets;
      rest.flows -= r.flows;
      const tr = el('tr');
      tr.dataset.key = JSON.stringify(r.key);
      tr.dataset.direction = r.direction ?? '';
      cols.forEach((c, i) => {
        const td = el('td', undefined, ADDRESS_KEYS.includes(c) ? 'host' : undefined);
        // the colour of the entry's area in the chart, on its first cell
        if (i === 0 && colors.has(r.id)) {
          const sw = el('span', undefined, 'swatch');
          sw.style.background = colors.get(r.id);
          td.append(sw);
        }
        appendKey(td, c, r, ifNames);
        tr.append(td);
      });
      if (perDir) tr.append(dirCell(r.direction));
      tr.append(...figureCells(r, seconds, unit));
      return tr;
    });
    if (rest.bytes > 0 || rest.packets > 0 || rest.flows > 0) {
      const tr = el('tr', undefined, 'other');
      tr.dataset.other = '1';
      tr.append(el('td', 'other', 'muted'), ...cols.slice(1).map(() => el('td')));
      if (perDir) tr.append(el('td'));
      tr.append(...figureCells(rest, seconds, unit));
      rows.push(tr);
    }
    fill(table.tBodies[0], rows);
  }
}

/** Rows of `list` summed per entry (largest bytes first), and the view's total incl. its other. */
function sumRows(list, rowsOf, keep, idOf, view, dir) {
  const byId = new Map();
  const total = zero();
  for (const s of list) {
    for (const r of rowsOf(s)) {
      if (!keep(r)) continue;
      const id = idOf(r);
      let a = byId.get(id);
      if (!a) byId.set(id, (a = { id, key: r.key, direction: r.direction, ifName: r.ifName, ...zero() }));
      addTotals(a, r);
      addTotals(total, r);
      a.ifName ??= r.ifName;
    }
    for (const [d, t] of Object.entries(s.viewsOther?.[view] ?? {})) if (dir === 'all' || d === dir) addTotals(total, t);
  }
  const rows = [...byId.values()].sort((a, b) => b.bytes - a.bytes);
  return { rows, byId, total };
}

/** Every interval start from the oldest summary to the newest: a missing one is a gap. */
export function intervalStarts(list) {
  if (!list.length) return [];
  const step = list[list.length - 1].interval;
  const xs = [];
  for (let t = list[0].start; t <= list[list.length - 1].start; t += step) xs.push(t);
  return xs;
}

function keyText(col, r, ifNames) {
  const v = r.key[col];
  if (v === undefined) return '–';
  const name = IF_KEYS.includes(col) ? interfaceLabel(r, col, ifNames) : undefined;
  return name ? `${name} (${v})` : String(v);
}

function appendKey(td, col, r, ifNames) {
  const v = r.key[col];
  const name = v !== undefined && IF_KEYS.includes(col) ? interfaceLabel(r, col, ifNames) : undefined;
  if (!name) return td.append(document.createTextNode(v === undefined ? '–' : String(v)));
  return td.append(el('span', name, 'ifname'), el('span', ` (${v})`, 'muted'));
}

export function dirCell(direction) {
  const td = el('td');
  td.append(el('span', undefined, `dir dir-${DIRS.includes(direction) ? direction : 'in'}`), document.createTextNode(direction ?? ''));
  return td;
}

function figureCells(t, seconds, unit) {
  const v = rate(t, seconds, unit);
  return [
    numCell(rateText(v, unit), v, 'num rate'),
    numCell(`${si(t.bytes)}B`, t.bytes),
    numCell(si(t.packets), t.packets),
    numCell(si(t.flows), t.flows),
  ];
}
