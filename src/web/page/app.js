// flowbridge live page. Plain JS, no build step. Data: /api/info, /api/intervals, /api/alerts, then
// live updates from /api/events. Every value from the network is put in the DOM with textContent,
// never as HTML. The window ends at the newest summary (not the wall clock), so a replayed capture
// from another day shows too.
'use strict';

const DIRS = ['in', 'out', 'internal', 'external'];
const COLORS = { in: '#2563eb', out: '#ea580c', internal: '#16a34a', external: '#9333ea' };
const TOP_ROWS = 10;
const HEALTH = [
  ['datagrams', 'datagrams'], ['records', 'records'], ['decodeErrors', 'decode errors'],
  ['templateMisses', 'template misses'], ['late', 'late parts'],
];
// Late parts are normal (records spanning intervals, exporters' active timeouts): a problem only when
// they are a large share of the records, i.e. the aggregate hold is too short for the exporters.
const LATE_WARN_SHARE = 0.1;

const state = {
  info: { interval: 10, history: 3600, top: 50, version: '' },
  /** summaries by start, oldest first */
  summaries: [],
  alerts: [],
  chart: null,
  everConnected: false,
  renderPending: false,
};

// ---- helpers ----

const $ = (sel) => document.querySelector(sel);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

const UNITS = ['', 'k', 'M', 'G', 'T', 'P'];
function si(v) {
  let i = 0;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) { v /= 1000; i++; }
  return (i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : 1)) + UNITS[i];
}

/** Axis ticks: at most three significant digits and no unit ("750M", "1.25G"); the title says bps. */
function tick(v) {
  let i = 0;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(3))}${UNITS[i]}`;
}

function clock(sec) {
  return new Date(sec * 1000).toLocaleTimeString([], { hour12: false });
}

function dateTime(sec) {
  const d = new Date(sec * 1000);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString([], { hour12: false })}`;
}

async function getJSON(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

// ---- state ----

function addSummaries(list) {
  const byStart = new Map(state.summaries.map((s) => [s.start, s]));
  for (const s of list) byStart.set(s.start, s);
  const all = [...byStart.values()].sort((a, b) => a.start - b.start);
  const newestEnd = all.length ? all[all.length - 1].end : 0;
  const from = newestEnd - state.info.history;
  state.summaries = all.filter((s) => s.end > from);
  scheduleRender();
}

const alertKey = (a) => `${a.time}|${a.kind}|${a.name}|${JSON.stringify(a.keys)}`;

function addAlerts(list) {
  // the stream opens before the first fetch, so an alert may come both ways
  const seen = new Set(state.alerts.map(alertKey));
  state.alerts = state.alerts.concat(list.filter((a) => !seen.has(alertKey(a)))).slice(-200);
  scheduleRender();
}

function scheduleRender() {
  if (state.renderPending) return;
  state.renderPending = true;
  requestAnimationFrame(() => {
    state.renderPending = false;
    render();
  });
}

// ---- rendering ----

function render() {
  const list = state.summaries;
  $('#empty').hidden = list.length > 0;
  if (list.length) {
    const first = list[0], last = list[list.length - 1];
    $('#window').textContent = `${dateTime(first.start)} – ${clock(last.end)} · ${list.length} × ${last.interval} s`;
  }
  renderChart(list);
  const seconds = list.reduce((a, s) => a + s.interval, 0) || 1;
  renderHosts(list, 'in', '#hosts-in tbody', seconds);
  renderHosts(list, 'out', '#hosts-out tbody', seconds);
  renderRows('#ports tbody', sumBy(list, 'ports', (r) => `${r.protocol}/${r.port}|${r.direction}`), seconds,
    (r) => (r.port ? `${r.protocol}/${r.port}` : r.protocol));
  renderRows('#protocols tbody', sumBy(list, 'protocols', (r) => `${r.protocol}|${r.direction}`), seconds, (r) => r.protocol);
  renderHealth(list);
  renderAlerts();
}

/** The x axis steps by the interval over the whole window; missing intervals are gaps (null). */
function chartData(list) {
  if (!list.length) return [[], [], [], [], []];
  const step = list[list.length - 1].interval;
  const byStart = new Map(list.map((s) => [s.start, s]));
  const xs = [];
  const ys = DIRS.map(() => []);
  for (let t = list[0].start; t <= list[list.length - 1].start; t += step) {
    const s = byStart.get(t);
    xs.push(t);
    DIRS.forEach((d, i) => ys[i].push(s ? s.directions[d].bps : null));
  }
  return [xs, ...ys];
}

function renderChart(list) {
  const box = $('#chart');
  const data = chartData(list);
  box.dataset.points = String(list.length);
  if (!list.length) return;
  const width = Math.max(300, box.clientWidth);
  if (!state.chart) {
    const opts = {
      width, height: 300,
      series: [{ label: 'time' }, ...DIRS.map((d) => ({
        label: d, stroke: COLORS[d], width: 2, spanGaps: false,
        value: (_u, v) => (v == null ? '–' : `${si(v)}bps`),
      }))],
      axes: [{}, { values: (_u, ticks) => ticks.map(tick), size: 60 }],
      scales: { x: { time: true } },
      cursor: { drag: { x: false, y: false } },
    };
    state.chart = new uPlot(opts, data, box);
  } else {
    state.chart.setData(data);
  }
  // without a cursor on the chart, the legend shows the newest interval
  state.chart.setLegend({ idx: data[0].length - 1 });
}

function sumBy(list, field, keyOf) {
  const acc = new Map();
  for (const s of list) {
    for (const r of s[field]) {
      const k = keyOf(r);
      let a = acc.get(k);
      if (!a) acc.set(k, (a = { ...r, bytes: 0, packets: 0, flows: 0 }));
      a.bytes += r.bytes;
      a.packets += r.packets;
    }
  }
  return [...acc.values()].sort((a, b) => b.bytes - a.bytes);
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function renderHosts(list, dir, sel, seconds) {
  const rows = sumBy(list.map((s) => ({ hosts: s.hosts.filter((h) => h.direction === dir) })), 'hosts', (r) => r.host);
  fill($(sel), rows.slice(0, TOP_ROWS).map((r) => {
    const tr = el('tr');
    tr.append(el('td', r.host, 'host'), el('td', r.group), el('td', si((r.bytes * 8) / seconds), 'num'), el('td', si(r.bytes) + 'B', 'num'));
    return tr;
  }));
}

function renderRows(sel, rows, seconds, label) {
  fill($(sel), rows.slice(0, TOP_ROWS).map((r) => {
    const tr = el('tr');
    const dir = el('td');
    dir.append(el('span', undefined, `dir dir-${DIRS.includes(r.direction) ? r.direction : 'in'}`), document.createTextNode(r.direction));
    tr.append(el('td', label(r)), dir, el('td', si((r.bytes * 8) / seconds), 'num'), el('td', si(r.bytes) + 'B', 'num'));
    return tr;
  }));
}

function renderHealth(list) {
  const last = list.length ? list[list.length - 1].stats.collector : {};
  const total = {};
  for (const s of list) for (const [k, v] of Object.entries(s.stats.collector)) total[k] = (total[k] || 0) + v;
  fill($('#health tbody'), HEALTH.map(([key, label]) => {
    const n = total[key] || 0;
    const bad = key === 'late' ? n > LATE_WARN_SHARE * (total.records || 0) : key !== 'datagrams' && key !== 'records' && n > 0;
    const tr = el('tr');
    const cell = el('td', total[key] ?? 0, bad ? 'num warn' : 'num');
    if (key === 'late') cell.title = `${bad ? 'over' : 'under'} ${LATE_WARN_SHARE * 100} % of the records: ${bad ? 'raise aggregate.hold' : 'normal'}`;
    tr.append(el('td', label), el('td', last[key] ?? 0, 'num'), cell);
    return tr;
  }));
}

function renderAlerts() {
  // every kept alert, newest first: the list scrolls inside its box (style.css), the page does not grow
  const recent = state.alerts.slice().reverse();
  $('#no-alerts').hidden = recent.length > 0;
  fill($('#alerts tbody'), recent.map((a) => {
    // a key name never breaks; a long value (an IPv6 address) may
    const keys = el('td', undefined, 'keys');
    Object.entries(a.keys || {}).forEach(([k, v], i) => {
      if (i) keys.append(document.createTextNode(' '));
      keys.append(el('span', `${k}=`, 'k'), el('span', v, 'v'));
    });
    const value = `${si(a.value)} ${a.metric}${a.threshold !== undefined ? ` (≥ ${si(a.threshold)})` : ''}`;
    const tr = el('tr');
    tr.append(el('td', clock(a.time / 1000)), el('td', a.kind), el('td', a.name), keys, el('td', value, 'val'));
    return tr;
  }));
}

function setConn(stateName, text) {
  const c = $('#conn');
  c.dataset.state = stateName;
  c.textContent = text;
}

// ---- data flow ----

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('summary', (e) => addSummaries([JSON.parse(e.data)]));
  es.addEventListener('alert', (e) => addAlerts([JSON.parse(e.data)]));
  es.onopen = () => {
    setConn('live', 'live');
    // after a reconnect, fetch what was missed while the stream was down
    if (state.everConnected) refill().catch(showError);
    state.everConnected = true;
  };
  es.onerror = () => setConn('error', 'reconnecting…');
}

async function refill() {
  const newest = state.summaries.length ? state.summaries[state.summaries.length - 1].end : 0;
  addSummaries(await getJSON(`/api/intervals?top=${state.info.top}&since=${newest}`));
}

function showError(err) {
  setConn('error', `error: ${err.message}`);
}

async function init() {
  state.info = await getJSON('/api/info');
  $('#version').textContent = `flowbridge ${state.info.version}`;
  connect();
  const [intervals, alerts] = await Promise.all([getJSON(`/api/intervals?top=${state.info.top}`), getJSON('/api/alerts')]);
  addSummaries(intervals);
  addAlerts(alerts);
  window.addEventListener('resize', () => {
    if (state.chart) state.chart.setSize({ width: Math.max(300, $('#chart').clientWidth), height: 300 });
  });
}

init().catch(showError);
