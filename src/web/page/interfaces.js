// Exporters and interfaces: the exporters the summaries list (`exporters`) and the sFlow interface
// counters (`interfaces`: per exporter and ifIndex) as rates with their utilization of ifSpeed, named
// by `ifName` where a row has one.
import { $, el, fill, numCell, rate, rateText, si } from './util.js';

/** Utilization from which a figure is shown in red. */
const UTIL_WARN = 0.9;

const ifId = (exporter, ifIndex) => `${exporter}|${ifIndex}`;

/** exporter|ifIndex → ifName, from every row that carries one (the newest wins). */
export function interfaceNames(list) {
  const names = new Map();
  for (const s of list) {
    for (const r of s.interfaces ?? []) if (typeof r.ifName === 'string' && r.ifName) names.set(ifId(r.exporter, r.ifIndex), r.ifName);
    for (const rows of Object.values(s.views ?? {})) {
      for (const r of rows) {
        const name = r.ifName ?? r.key.ifName;
        if (typeof name === 'string' && name && r.key.exporter !== undefined && r.key.interface !== undefined) {
          names.set(ifId(r.key.exporter, r.key.interface), name);
        }
      }
    }
  }
  return names;
}

/** The name of the interface a view row's key `col` holds, when known; undefined otherwise. */
export function interfaceLabel(r, col, names) {
  const own = col === 'interface' ? (r.ifName ?? r.key.ifName) : undefined;
  if (typeof own === 'string' && own) return own;
  return r.key.exporter === undefined ? undefined : names.get(ifId(r.key.exporter, r.key[col]));
}

const dirTotals = () => ({ octets: 0, ucastPkts: 0, errors: 0, discards: 0 });

function addDir(a, d) {
  if (!d) return;
  a.octets += d.octets || 0;
  a.ucastPkts += d.ucastPkts || 0;
  a.errors += d.errors || 0;
  a.discards += d.discards || 0;
}

export function renderDevices(list, unit, names) {
  const seconds = list.reduce((a, s) => a + s.interval, 0) || 1;
  const newestEnd = list.length ? list[list.length - 1].end : 0;

  // interfaces: summed over the window, each from the first interval that holds a row of it
  const ifs = new Map();
  for (const s of list) {
    for (const r of s.interfaces ?? []) {
      const id = ifId(r.exporter, r.ifIndex);
      let a = ifs.get(id);
      if (!a) ifs.set(id, (a = { exporter: r.exporter, ifIndex: r.ifIndex, from: s.start, ifSpeed: 0, in: dirTotals(), out: dirTotals() }));
      a.ifSpeed = r.ifSpeed || a.ifSpeed;
      addDir(a.in, r.in);
      addDir(a.out, r.out);
    }
  }

  const exps = new Map();
  const exporter = (name) => {
    let e = exps.get(name);
    if (!e) exps.set(name, (e = { exporter: name, bytes: 0, packets: 0, flows: 0, records: 0, interfaces: 0 }));
    return e;
  };
  for (const s of list) {
    for (const r of s.exporters ?? []) {
      const e = exporter(r.exporter);
      e.bytes += r.bytes;
      e.packets += r.packets;
      e.flows += r.flows;
      e.records += r.records || 0;
    }
  }
  for (const i of ifs.values()) exporter(i.exporter).interfaces++;

  const exRows = [...exps.values()].sort((a, b) => b.bytes - a.bytes || a.exporter.localeCompare(b.exporter));
  $('#exporters-rate').textContent = `avg ${unit}`;
  fill($('#exporters tbody'), exRows.map((e) => {
    const tr = el('tr');
    tr.dataset.exporter = e.exporter;
    const v = rate(e, seconds, unit);
    tr.append(el('td', e.exporter, 'host'), numCell(rateText(v, unit), v, 'num rate'), numCell(`${si(e.bytes)}B`, e.bytes),
      numCell(si(e.records), e.records), numCell(e.interfaces, e.interfaces));
    return tr;
  }));
  $('#no-exporters').hidden = exRows.length > 0;

  const ifRows = [...ifs.values()].sort((a, b) => (b.in.octets + b.out.octets) - (a.in.octets + a.out.octets)
    || a.exporter.localeCompare(b.exporter) || a.ifIndex - b.ifIndex);
  $('#interfaces-in').textContent = `in ${unit}`;
  $('#interfaces-out').textContent = `out ${unit}`;
  fill($('#interfaces tbody'), ifRows.map((i) => {
    // counter samples come every 20-30 s and the first is a baseline: a rate needs a span of intervals
    const span = Math.max(1, newestEnd - i.from);
    const tr = el('tr');
    tr.dataset.exporter = i.exporter;
    tr.dataset.ifIndex = String(i.ifIndex);
    const name = names.get(ifId(i.exporter, i.ifIndex));
    const ifCell = el('td');
    if (name) ifCell.append(el('span', name, 'ifname'), el('span', ` (${i.ifIndex})`, 'muted'));
    else ifCell.textContent = String(i.ifIndex);
    tr.append(el('td', i.exporter, 'host'), ifCell, numCell(i.ifSpeed ? `${si(i.ifSpeed)}bps` : '–', i.ifSpeed));
    for (const d of [i.in, i.out]) {
      const v = unit === 'pps' ? d.ucastPkts / span : (d.octets * 8) / span;
      const util = i.ifSpeed ? (d.octets * 8) / span / i.ifSpeed : undefined;
      tr.append(numCell(rateText(v, unit), v, 'num rate'),
        numCell(util === undefined ? '–' : `${(util * 100).toFixed(util < 0.1 ? 2 : 1)} %`, util, util >= UTIL_WARN ? 'num warn util' : 'num util'));
    }
    tr.append(counterCell(i.in.errors, i.out.errors), counterCell(i.in.discards, i.out.discards));
    return tr;
  }));
  // most NetFlow/IPFIX setups never send counter samples: no empty panel for them
  $('#interfaces-box').hidden = ifRows.length === 0;
}

/** "in / out" of a counter over the window; red when either is not zero. */
function counterCell(inV, outV) {
  const td = numCell(`${si(inV)} / ${si(outV)}`, undefined, inV || outV ? 'num warn' : 'num');
  td.dataset.in = String(inV);
  td.dataset.out = String(outV);
  return td;
}
