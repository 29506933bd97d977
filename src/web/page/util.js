// Helpers shared by the page's modules: DOM building (text only, never HTML), number and time
// formatting, rates in the unit the page shows, and the choices kept across reloads.

export const DIRS = ['in', 'out', 'internal', 'external'];
export const COLORS = { in: '#2563eb', out: '#ea580c', internal: '#16a34a', external: '#9333ea' };
export const TOP_ROWS = 10;

export const $ = (sel) => document.querySelector(sel);

export function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

/** A numeric cell: the rounded figure as text, the exact one in data-value (tests and copy-paste). */
export function numCell(text, value, cls = 'num') {
  const td = el('td', text, cls);
  if (value !== undefined) td.dataset.value = String(value);
  return td;
}

const UNITS = ['', 'k', 'M', 'G', 'T', 'P'];
export function si(v) {
  let i = 0;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) { v /= 1000; i++; }
  // a small rate keeps its fraction (0.25 pps is not 0); counts are whole numbers anyway
  if (i === 0) return Number.isInteger(v) || Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
  return v.toFixed(v < 10 ? 2 : 1) + UNITS[i];
}

/** Axis ticks: at most three significant digits and no unit ("750M", "1.25G"); the title says the unit. */
export function tick(v) {
  let i = 0;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(3))}${UNITS[i]}`;
}

export function clock(sec) {
  return new Date(sec * 1000).toLocaleTimeString([], { hour12: false });
}

export function dateTime(sec) {
  const d = new Date(sec * 1000);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString([], { hour12: false })}`;
}

export async function getJSON(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

/**
 * With no cursor on a uPlot chart, its legend shows the newest interval (uPlot itself would show
 * dashes, also right after the chart is built): a hook for uPlot's setCursor, and for after setData.
 */
export function legendAtNewest(u) {
  if (u.cursor.idx == null && u.data[0].length) u.setLegend({ idx: u.data[0].length - 1 });
}

export function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---- rates: every chart and rate column follows the page's unit (bps or pps) ----

export const UNIT_TEXT = { bps: 'bits per second', pps: 'packets per second' };

/** Rate of bytes/packets totals over `seconds` in `unit`. */
export function rate(t, seconds, unit) {
  return unit === 'pps' ? t.packets / seconds : (t.bytes * 8) / seconds;
}

/** "1.25Mbps" / "310pps" */
export function rateText(v, unit) {
  return v == null ? '–' : `${si(v)}${unit}`;
}

export function addTotals(a, r) {
  a.bytes += r.bytes || 0;
  a.packets += r.packets || 0;
  a.flows += r.flows || 0;
  return a;
}

export const zero = () => ({ bytes: 0, packets: 0, flows: 0 });

// ---- choices kept across reloads (unit, view, direction, span) ----

const PREFS_KEY = 'flowbridge.page';

export function loadPrefs() {
  const p = { unit: 'bps', view: '', dir: 'all', span: 'last' };
  try {
    Object.assign(p, JSON.parse(localStorage.getItem(PREFS_KEY) || '{}'));
  } catch {
    // storage disabled or a bad value: the defaults
  }
  if (p.unit !== 'pps') p.unit = 'bps';
  return p;
}

export function savePrefs(p) {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(p));
  } catch {
    // storage disabled (private mode, quota): the choice lasts until the page reloads
  }
}
