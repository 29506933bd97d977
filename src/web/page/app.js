// flowbridge live page. Plain JS modules, no build step. Data: /api/info, /api/intervals, /api/alerts,
// then live updates from /api/events. Every value from the network is put in the DOM with textContent,
// never as HTML. The window ends at the newest summary (not the wall clock), so a replayed capture
// from another day shows too. Rates follow the page's unit (bps or pps), kept across reloads.
import { $, COLORS, DIRS, TOP_ROWS, UNIT_TEXT, clock, dateTime, el, fill, getJSON, legendAtNewest, loadPrefs, numCell, rate,
  rateText, savePrefs, si, tick } from './util.js';
import { ViewsPanel, dirCell, intervalStarts } from './views.js';
import { interfaceNames, renderDevices } from './interfaces.js';

const HEALTH = [
  ['datagrams', 'datagrams'], ['records', 'records'], ['decodeErrors', 'decode errors'],
  ['templateMisses', 'template misses'], ['late', 'late parts'],
];
// Late parts are normal (records spanning intervals, exporters' active timeouts): a problem only when
// they are a large share of the records, i.e. the aggregate hold is too short for the exporters.
const LATE_WARN_SHARE = 0.1;

const state = {
  info: { interval: 10, history: 3600, top: 50, version: '', views: [] },
  prefs: loadPrefs(),
  views: null,
  /** summaries by start, oldest first */
  summaries: [],
  alerts: [],
  chart: null,
  everConnected: false,
  renderPending: false,
};

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
  const unit = state.prefs.unit;
  $('#empty').hidden = list.length > 0;
  if (list.length) {
    const first = list[0], last = list[list.length - 1];
    $('#window').textContent = `${dateTime(first.start)} – ${clock(last.end)} · ${list.length} × ${last.interval} s`;
  }
  for (const r of document.querySelectorAll('input[name="unit"]')) r.checked = r.value === unit;
  $('#chart-unit').textContent = `(${UNIT_TEXT[unit]}, per interval)`;
  for (const th of document.querySelectorAll('th.rate-head')) th.textContent = `avg ${unit}`;
  renderChart(list, unit);
  const seconds = list.reduce((a, s) => a + s.interval, 0) || 1;
  const ifNames = interfaceNames(list);
  state.views.render(list, state.info, unit, ifNames);
  renderHosts(list, 'in', '#hosts-in tbody', seconds, unit);
  renderHosts(list, 'out', '#hosts-out tbody', seconds, unit);
  renderRows('#ports tbody', sumBy(list, 'ports', (r) => `${r.protocol}/${r.port}|${r.direction}`), seconds, unit,
    (r) => (r.port ? `${r.protocol}/${r.port}` : r.protocol));
  renderRows('#protocols tbody', sumBy(list, 'protocols', (r) => `${r.protocol}|${r.direction}`), seconds, unit, (r) => r.protocol);
  renderDevices(list, unit, ifNames);
  renderHealth(list);
  renderAlerts();
}

/** The x axis steps by the interval over the whole window; missing intervals are gaps (null). */
function chartData(list, unit) {
  const xs = intervalStarts(list);
  const byStart = new Map(list.map((s) => [s.start, s]));
  return [xs, ...DIRS.map((d) => xs.map((t) => {
    const s = byStart.get(t);
    return s ? s.directions[d][unit] : null;
  }))];
}

function renderChart(list, unit) {
  const box = $('#chart');
  const data = chartData(list, unit);
  box.dataset.points = String(list.length);
  box.dataset.unit = unit;
  if (!list.length) return;
  const width = Math.max(300, box.clientWidth);
  if (!state.chart) {
    const opts = {
      width, height: 300,
      series: [{ label: 'time' }, ...DIRS.map((d) => ({
        label: d, stroke: COLORS[d], width: 2, spanGaps: false,
        value: (_u, v) => rateText(v, state.prefs.unit),
      }))],
      axes: [{}, { values: (_u, ticks) => ticks.map(tick), size: 60 }],
      scales: { x: { time: true } },
      cursor: { drag: { x: false, y: false } },
      hooks: { setCursor: [legendAtNewest] },
    };
    state.chart = new uPlot(opts, data, box);
  } else {
    state.chart.setData(data);
  }
  legendAtNewest(state.chart);
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
      a.flows += r.flows;
    }
  }
  return [...acc.values()].sort((a, b) => b.bytes - a.bytes);
}

function rateCell(r, seconds, unit) {
  const v = rate(r, seconds, unit);
  return numCell(rateText(v, unit).replace(/[bp]ps$/, ''), v, 'num rate');
}

function renderHosts(list, dir, sel, seconds, unit) {
  const rows = sumBy(list.map((s) => ({ hosts: s.hosts.filter((h) => h.direction === dir) })), 'hosts', (r) => r.host);
  fill($(sel), rows.slice(0, TOP_ROWS).map((r) => {
    const tr = el('tr');
    tr.append(el('td', r.host, 'host'), el('td', r.group), rateCell(r, seconds, unit), numCell(si(r.bytes) + 'B', r.bytes));
    return tr;
  }));
}

function renderRows(sel, rows, seconds, unit, label) {
  fill($(sel), rows.slice(0, TOP_ROWS).map((r) => {
    const tr = el('tr');
    tr.append(el('td', label(r)), dirCell(r.direction), rateCell(r, seconds, unit), numCell(si(r.bytes) + 'B', r.bytes));
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

function setUnit(unit) {
  state.prefs.unit = unit === 'pps' ? 'pps' : 'bps';
  savePrefs(state.prefs);
  scheduleRender();
}

async function init() {
  state.views = new ViewsPanel(state.prefs, () => {
    savePrefs(state.prefs);
    scheduleRender();
  });
  for (const r of document.querySelectorAll('input[name="unit"]')) r.addEventListener('change', (e) => setUnit(e.target.value));
  state.info = { ...state.info, ...(await getJSON('/api/info')) };
  $('#version').textContent = `flowbridge ${state.info.version}`;
  connect();
  const [intervals, alerts] = await Promise.all([getJSON(`/api/intervals?top=${state.info.top}`), getJSON('/api/alerts')]);
  addSummaries(intervals);
  addAlerts(alerts);
  window.addEventListener('resize', () => {
    if (state.chart) state.chart.setSize({ width: Math.max(300, $('#chart').clientWidth), height: 300 });
    state.views.resize();
  });
}

init().catch(showError);
