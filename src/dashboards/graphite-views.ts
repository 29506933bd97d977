// The Graphite dashboard's rows for the configured views and the sFlow interface counters, on plain
// paths ($prefix.views.<name>.<key>….<direction>.<field>, $prefix.interfaces.<exporter>.<ifIndex>.…):
// the same panels as the InfluxDB dashboard's, ranked by highest(…, $top). Plain paths carry the
// ifIndex only, never the interface's name (that is a tag of InfluxDB and of tagged Graphite).
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common';
import type { Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { INTERFACE_COUNTERS } from '../export/series-views.js';
import type { Section } from './dashboard.js';
import { overRange, type Both } from './graphite-base.js';
import { pieChart, seriesToRows, tablePanel, timeSeries } from './panels.js';
import { GRAPHITE_DS, GraphiteTarget } from './query.js';
import { DIRECTION_WORDS, seriesDirections, viewSummary, viewTitle, type ViewShape } from './view-shapes.js';

const ds = GRAPHITE_DS;

/** The nodes after a view's subtree up to the field: a dashboard variable for keys one filters, else `*`. */
function keyNodes(v: ViewShape): string[] {
  return v.keys.map((k) => (k.variable ? `$${k.variable}` : '*'));
}

/** Negative node numbers of the keys (and direction) in a view's paths, counted from the field. */
function nodeNumbers(v: ViewShape, withDirection: boolean): number[] {
  const n = v.keys.length, tail = v.perDirection ? 2 : 1;
  const keys = v.keys.map((_, i) => -(n + tail - i));
  return withDirection && v.perDirection ? [...keys, -2] : keys;
}

/** A view's series of `field` for one direction node (or none), the other row left out. */
function viewSeries(both: Both, v: ViewShape, dir: string | undefined, field: string): string {
  const path = [v.graphite, ...keyNodes(v), ...(v.perDirection ? [dir ?? '*'] : []), field].join('.');
  return `exclude(${both(path)}, '${v.graphite}.other.')`;
}

function viewSection(both: Both, v: ViewShape): Section {
  const nodes = nodeNumbers(v, false).join(', ');
  const panels: Builder<Panel>[] = seriesDirections(v).map((d) => timeSeries({
    title: viewTitle(v, d ? `bits per second ${DIRECTION_WORDS[d]}` : 'bits per second'), unit: 'bps', stacked: true, w: d ? 12 : 24, h: 9, ds,
    description: `${viewSummary(v)} Stacked: the Top variable's largest tuples by average bits per second; missing points count as 0 ` +
      '(transformNull), so tuples absent from some intervals are not overstated. Named by the keys\' path nodes (dots and colons of ' +
      'addresses become _ and -).',
    targets: [new GraphiteTarget(`highest(groupByNodes(transformNull(${viewSeries(both, v, d, 'bps')}, 0), 'sumSeries', ${nodes}), $top, 'average')`)],
  }));
  const asKeys = v.keys.filter((k) => k.isAs);
  const columns = [...v.keys.map((k) => k.tag), ...(v.perDirection ? ['direction'] : [])].join('.');
  panels.push(tablePanel({
    title: viewTitle(v, 'top tuples over the range'), w: asKeys.length ? 12 : 24, h: 9, ds, units: { bytes: 'decbytes' }, sortBy: 'bytes',
    transformations: seriesToRows(columns, 'bytes'),
    description: `${viewSummary(v)} The Top variable's largest tuples${v.perDirection ? ' and directions' : ''} by bytes over the range ` +
      `(${columns}).`,
    targets: [new GraphiteTarget(`highest(groupByNodes(${overRange(viewSeries(both, v, v.perDirection ? '$direction' : undefined, 'bytes'))}, 'sumSeries', ` +
      `${nodeNumbers(v, true).join(', ')}), $top, 'sum')`)],
  }));
  for (const k of asKeys) {
    const node = nodeNumbers(v, false)[v.keys.indexOf(k)]!;
    panels.push(pieChart({
      title: viewTitle(v, `bytes by ${k.label} over the range`), unit: 'decbytes', w: Math.max(4, Math.floor(12 / asKeys.length)), h: 9, ds,
      description: `${viewSummary(v)} The share of the Top variable's largest ${k.label}s${v.perDirection ? ', over the selected directions' : ''}.`,
      targets: [new GraphiteTarget(`highest(groupByNode(${overRange(viewSeries(both, v, v.perDirection ? '$direction' : undefined, 'bytes'))}, ${node}, ` +
        "'sumSeries'), $top, 'sum')")],
    }));
  }
  return { title: `View ${v.name} (${v.label})`, panels };
}

function countersSection(both: Both): Section {
  const sub = INTERFACE_COUNTERS.graphite;
  const path = (dir: string, field: string) => both(`${sub}.$exporter.*.${dir}.${field}`);
  const about = 'What sFlow agents\' generic interface counters say each interface carried, by exporter and ifIndex (plain Graphite paths ' +
    'carry no interface names); the Top variable\'s largest';
  const panels: Builder<Panel>[] = (['in', 'out'] as const).map((d) => timeSeries({
    title: `Interface counters: bits per second ${DIRECTION_WORDS[d]}`, unit: 'bps', w: 12, h: 9, ds,
    description: `${about} by average; missing points count as 0 (transformNull).`,
    targets: [new GraphiteTarget(`highest(groupByNodes(transformNull(${path(d, 'bps')}, 0), 'sumSeries', -4, -3), $top, 'average')`)],
  }));
  // bps summed over the instances, ifSpeed their highest; then, per exporter.ifIndex.direction, bps as a percentage of ifSpeed
  const perInterface = (field: string, fn: string) => `groupByNodes(${path('*', field)}, '${fn}', -4, -3, -2, -1)`;
  panels.push(timeSeries({
    title: 'Interface counters: utilization', unit: 'percent', w: 12, h: 9, ds,
    description: `${about} by average: bits per second as a share of the interface's speed (ifSpeed), in and out; none where the agent ` +
      'gives no speed.',
    targets: [new GraphiteTarget(`highest(aliasByNode(reduceSeries(mapSeries(group(${perInterface('bps', 'sumSeries')}, ` +
      `${perInterface('ifSpeed', 'maxSeries')}), 0, 1, 2), 'asPercent', 3, 'bps', 'ifSpeed'), 0, 1, 2), $top, 'average')`)],
  }));
  panels.push(timeSeries({
    title: 'Interface counters: errors and discards', unit: 'short', w: 12, h: 9, ds, draw: GraphDrawStyle.Bars,
    description: `${about} by errors and discards over the range, per bucket, in and out.`,
    // consolidateBy names a series after itself: aliasByNode takes the nodes back
    targets: [new GraphiteTarget(`highest(aliasByNode(consolidateBy(groupByNodes(transformNull(${path('*', '{errors,discards}')}, 0), 'sumSeries', ` +
      "-4, -3, -2, -1), 'sum'), 0, 1, 2, 3), $top, 'sum')")],
  }));
  panels.push(tablePanel({
    title: 'Interface counters over the range', w: 24, h: 9, ds, units: { octets: 'decbytes' }, sortBy: 'octets',
    transformations: seriesToRows('exporter.ifIndex.direction', 'octets'),
    description: 'The Top variable\'s largest interfaces and directions by octets over the range (sFlow counters).',
    targets: [new GraphiteTarget(`highest(groupByNodes(${overRange(path('*', 'octets'))}, 'sumSeries', -4, -3, -2), $top, 'sum')`)],
  }));
  return { title: 'Interfaces (sFlow counters)', panels };
}

export function graphiteViewSections(views: readonly ViewShape[], both: Both): Section[] {
  return [...views.map((v) => viewSection(both, v)), countersSection(both)];
}
