// The InfluxDB dashboard's rows for the configured views and the sFlow interface counters: per view, the
// $top largest tuples per direction as stacked bits per second (a hidden ranking per key and direction,
// as for hosts), a table over the range, and the share per AS of each AS key; for interface_counters,
// bits per second in and out, utilization against ifSpeed, errors and discards, and a table.
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common';
import type { Panel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { INTERFACE_COUNTERS } from '../export/series-views.js';
import type { Section } from './dashboard.js';
import { OVER_RANGE, PER_BUCKET, where } from './influx-base.js';
import { rankingQuery } from './influx-variables.js';
import { HIDE_TIME, pieChart, tablePanel, timeSeries } from './panels.js';
import { INFLUX_DS, InfluxQL } from './query.js';
import { ranking } from './variables.js';
import {
  DIRECTION_WORDS, IFNAME, seriesDirections, viewSummary, viewTitle, type ViewKey, type ViewShape,
} from './view-shapes.js';

const ds = INFLUX_DS;
const KEYWORDS = new Set(['all', 'as', 'by', 'field', 'from', 'group', 'key', 'limit', 'name', 'order', 'select', 'tag', 'time', 'where', 'with']);
/** An InfluxQL identifier, double-quoted when it needs to be (view names may hold `-` and `.`). */
export const ident = (s: string): string => (/^[A-Za-z_]\w*$/.test(s) && !KEYWORDS.has(s.toLowerCase()) ? s : `"${s.replace(/"/g, '\\"')}"`);

/** Series alias: a key's value ("if3" for an ifIndex, "AS64500" for an AS), the interface's name last. */
function alias(keys: ViewKey[], named: boolean): string {
  const parts = keys.map((k) => `${k.isIf ? 'if' : k.isAs ? 'AS' : ''}$tag_${k.tag}`);
  return (named ? [...parts, `$tag_${IFNAME}`] : parts).join(' ');
}

/** Conditions from the dashboard variables that filter some of the view's keys. */
const variableFilters = (keys: ViewKey[]): string[] => keys.filter((k) => k.variable).map((k) => `${ident(k.tag)} =~ /^$${k.variable}$/`);

const notOther = (k: ViewKey): string => `${ident(k.tag)} != 'other'`;

/** The hidden rankings of a view, per direction drawn and key; and per AS key for its pie. */
function rankings(v: ViewShape): { vars: Builder<VariableModel>[]; name: (d: string | undefined, k: ViewKey) => string; as: (k: ViewKey) => string } {
  const from = ident(v.measurement);
  const vars: Builder<VariableModel>[] = [];
  const name = (d: string | undefined, k: ViewKey) => `top_${v.slug}_${k.tag}${d ? `_${d}` : ''}`;
  const as = (k: ViewKey) => `top_${v.slug}_${k.tag}_as`;
  const base = [notOther(v.keys[0]!), ...variableFilters(v.keys)];
  for (const d of seriesDirections(v)) {
    for (const k of v.keys) {
      const tags = [k, ...v.keys.filter((x) => x !== k)].map((x) => ident(x.tag));
      vars.push(ranking(name(d, k), ds, rankingQuery(from, tags, d ? [`direction = '${d}'`, ...base] : base),
        `Hidden: the ${k.label} of view "${v.name}"'s $top largest tuples${d ? ` ${d}` : ''} by bytes over the range, for its time series.`));
    }
  }
  for (const k of v.keys.filter((x) => x.isAs)) {
    vars.push(ranking(as(k), ds, rankingQuery(from, [ident(k.tag)], [notOther(k), ...variableFilters(v.keys)]),
      `Hidden: the $top largest ${k.label}s of view "${v.name}" by bytes over the range, for its pie chart.`));
  }
  return { vars, name, as };
}

function viewSection(v: ViewShape): { section: Section; vars: Builder<VariableModel>[] } {
  const from = ident(v.measurement);
  const r = rankings(v);
  const tags = v.keys.map((k) => ident(k.tag));
  const groupTags = v.named ? [...tags, IFNAME] : tags;
  const dirs = seriesDirections(v);
  const many = v.keys.length > 1
    ? ` With several keys the panel draws every combination of the ranked tuples' ${v.label} values, so it may show more than $top series.`
    : '';
  const panels: Builder<Panel>[] = dirs.map((d) => timeSeries({
    title: viewTitle(v, d ? `bits per second ${DIRECTION_WORDS[d]}` : 'bits per second'), unit: 'bps', stacked: true, w: d ? 12 : 24, h: 9, ds,
    description: `${viewSummary(v)} Stacked: the Top variable's largest tuples by bytes over the range; bytes × 8 per second of each bucket.${many}`,
    targets: [new InfluxQL(`SELECT sum(bytes) ${PER_BUCKET} FROM ${from} WHERE ${where(...(d ? [`direction = '${d}'`] : []), notOther(v.keys[0]!),
      ...v.keys.map((k) => `${ident(k.tag)} =~ /^$${r.name(d, k)}$/`), ...variableFilters(v.keys))} ` +
      `GROUP BY time($__interval), ${groupTags.join(', ')} fill(0)`).alias(alias(v.keys, v.named))],
  }));
  const cols = v.perDirection ? [...tags, 'direction'] : tags;
  const asKeys = v.keys.filter((k) => k.isAs);
  panels.push(tablePanel({
    title: viewTitle(v, 'top tuples over the range'), w: asKeys.length ? 12 : 24, h: 9, ds, units: { bytes: 'decbytes', bps: 'bps' }, sortBy: 'bytes',
    transformations: [HIDE_TIME],
    description: `${viewSummary(v)} The Top variable's largest tuples${v.perDirection ? ' and directions' : ''} by bytes over the range; bps is ` +
      `the average over the range.${v.named ? ' ifname: the interface\'s name where the collector knows it.' : ''}`,
    targets: [new InfluxQL(`SELECT top(bytes, ${cols.join(', ')}, $top) AS bytes, bps${v.named ? `, ${IFNAME}` : ''} FROM (SELECT sum(bytes) AS bytes, ` +
      `${OVER_RANGE} FROM ${from} WHERE ${where(...(v.perDirection ? ['direction =~ /^$direction$/'] : []), notOther(v.keys[0]!),
        ...variableFilters(v.keys))} GROUP BY ${[...groupTags, ...(v.perDirection ? ['direction'] : [])].join(', ')})`).table()],
  }));
  for (const k of asKeys) {
    panels.push(pieChart({
      title: viewTitle(v, `bytes by ${k.label} over the range`), unit: 'decbytes', w: Math.max(4, Math.floor(12 / asKeys.length)), h: 9, ds,
      description: `${viewSummary(v)} The share of the Top variable's largest ${k.label}s${v.perDirection ? ', over the selected directions' : ''}.`,
      targets: [new InfluxQL(`SELECT sum(bytes) FROM ${from} WHERE ${where(...(v.perDirection ? ['direction =~ /^$direction$/'] : []), notOther(k),
        `${ident(k.tag)} =~ /^$${r.as(k)}$/`, ...variableFilters(v.keys))} GROUP BY ${ident(k.tag)}`).alias(`AS$tag_${k.tag}`)],
    }));
  }
  return { section: { title: `View ${v.name} (${v.label})`, panels }, vars: r.vars };
}

/** The sFlow interface counters (interface_counters): the $top interfaces by octets over the range. */
function countersSection(): { section: Section; vars: Builder<VariableModel>[] } {
  const m = INTERFACE_COUNTERS.name;
  const exporter = 'exporter =~ /^$exporter$/';
  const top = ['exporter =~ /^$top_if_exporter$/', 'ifIndex =~ /^$top_if_ifIndex$/'];
  const vars = [
    ranking('top_if_exporter', ds, rankingQuery(m, ['exporter', 'ifIndex'], [exporter], 'octets'),
      'Hidden: the exporters of the $top interfaces by octets over the range (sFlow counters), for the interface time series.'),
    ranking('top_if_ifIndex', ds, rankingQuery(m, ['ifIndex', 'exporter'], [exporter], 'octets'),
      'Hidden: the ifIndexes of the $top interfaces by octets over the range (sFlow counters), for the interface time series.'),
  ];
  const by = `exporter, ifIndex, ${IFNAME}`;
  const name = `$tag_exporter if$tag_ifIndex $tag_${IFNAME}`;
  const about = 'What sFlow agents\' generic interface counters say each interface carried (interface_counters), the Top variable\'s ' +
    'largest interfaces by octets over the range among the exporters picked; with several exporters, every combination of their ' +
    'exporters and ifIndexes. Named by exporter, ifIndex and the interface\'s name where the collector knows it.';
  const panels: Builder<Panel>[] = (['in', 'out'] as const).map((d) => timeSeries({
    title: `Interface counters: bits per second ${DIRECTION_WORDS[d]}`, unit: 'bps', w: 12, h: 9, ds,
    description: `${about} Octets × 8 per second of each bucket.`,
    targets: [new InfluxQL(`SELECT sum(octets) * 8000.0 / $__interval_ms AS bps FROM ${m} WHERE ${where(`direction = '${d}'`, ...top)} ` +
      `GROUP BY time($__interval), ${by} fill(0)`).alias(name)],
  }));
  panels.push(timeSeries({
    title: 'Interface counters: utilization', unit: 'percent', w: 12, h: 9, ds,
    description: `${about} Bits per second of each bucket as a share of the interface's speed (ifSpeed), in and out; none where the agent gives no speed.`,
    targets: [new InfluxQL(`SELECT sum(octets) * 8000.0 / $__interval_ms / max(ifSpeed) * 100 AS utilization FROM ${m} WHERE ${where('ifSpeed > 0', ...top)} ` +
      `GROUP BY time($__interval), ${by}, direction fill(null)`).alias(`${name} $tag_direction`)],
  }));
  panels.push(timeSeries({
    title: 'Interface counters: errors and discards', unit: 'short', w: 12, h: 9, ds, draw: GraphDrawStyle.Bars,
    description: `${about} Errors and discards per bucket, in and out.`,
    targets: [new InfluxQL(`SELECT sum(errors) AS errors, sum(discards) AS discards FROM ${m} WHERE ${where(...top)} ` +
      `GROUP BY time($__interval), ${by}, direction fill(0)`).alias(`${name} $tag_direction $col`)],
  }));
  panels.push(tablePanel({
    title: 'Interface counters over the range', w: 24, h: 9, ds, sortBy: 'octets', transformations: [HIDE_TIME],
    units: { octets: 'decbytes', bps: 'bps', ifSpeed: 'bps', errors: 'short', discards: 'short' },
    description: 'The Top variable\'s largest interfaces and directions by octets over the range (sFlow counters): bps is the average over ' +
      'the range, ifSpeed the speed the agent gave.',
    targets: [new InfluxQL(`SELECT top(octets, exporter, ifIndex, direction, $top) AS octets, bps, errors, discards, ifSpeed, ${IFNAME} FROM ` +
      '(SELECT sum(octets) AS octets, sum(octets) * 8.0 / $__range_s AS bps, sum(errors) AS errors, sum(discards) AS discards, ' +
      `max(ifSpeed) AS ifSpeed FROM ${m} WHERE ${where(exporter)} GROUP BY ${by}, direction)`).table()],
  }));
  return { section: { title: 'Interfaces (sFlow counters)', panels }, vars };
}

/** The rows for `views` and the interface counters, and the hidden variables their panels filter by. */
export function influxViewSections(views: readonly ViewShape[]): { sections: Section[]; vars: Builder<VariableModel>[] } {
  const parts = [...views.map(viewSection), countersSection()];
  return { sections: parts.map((p) => p.section), vars: parts.flatMap((p) => p.vars) };
}
