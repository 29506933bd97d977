// The Graphite dashboard's fixed rows (plain paths, docs/metrics.md) and its variables. Every path is
// named with and without the instance node, group($prefix.P, $prefix.$instance.P), and summed over what
// both give (docs/scaling.md); ranked panels use highest(…, $top): graphite-web ranks series itself.
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common';
import type { VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { MEASUREMENTS } from '../export/series.js';
import type { Section } from './dashboard.js';
import { pieChart, problemsPanel, seriesToRows, statPanel, tablePanel, timeSeries, type TimeSeriesSpec } from './panels.js';
import { GRAPHITE_DS, GraphiteTarget } from './query.js';
import { list, prefixBox, topChoice } from './variables.js';

const ds = GRAPHITE_DS;
/** A path in both layouts: a single collector's, and each instance's, summed by the caller. */
export type Both = (path: string) => string;

/**
 * Both layouts of a path. A view named like a subtree (`interfaces`, docs/metrics.md) has paths
 * `$prefix.views.interfaces.…` that the instance layout's glob, `$prefix.*.interfaces.…` when Instance is
 * "All", matches too: those are left out (no instance is named `views`, config/sinks.ts).
 */
export function bothLayouts(viewNodes: ReadonlySet<string>): Both {
  return (path) => {
    const subtree = path.split('.')[0]!, instance = `$prefix.$instance.${path}`;
    return `group($prefix.${path}, ${viewNodes.has(subtree) ? `exclude(${instance}, '.views.${subtree}.')` : instance})`;
  };
}
/** Each series summed over the whole range in one point: graphite-web's consolidation cannot drop any. */
export const overRange = (series: string): string => `summarize(${series}, '\${__range_s}s', 'sum', true)`;
const SUMMARIZE_NOTE = 'Summed with summarize over the whole range, so graphite-web\'s consolidation cannot drop points.';
const NULL_NOTE = 'missing points count as 0 (transformNull), so hosts absent from some intervals are not overstated';
const target = (t: string, refId = 'A') => new GraphiteTarget(t, refId);

/** Figures per bucket: summed when a bucket spans several intervals. */
const counts = (s: Omit<TimeSeriesSpec, 'ds' | 'draw' | 'unit'>) => timeSeries({ ...s, ds, unit: 'short', draw: GraphDrawStyle.Bars });
const fields = (f: string[]) => `{${f.join(',')}}`;

export function graphiteSections(both: Both): { head: Section[]; tail: Section[] } {
  const byDirection = (title: string, field: string, unit: string, description: string, w: number, h: number) => timeSeries({
    title, description, unit, w, h, ds, targets: [target(`groupByNode(${both(`total.$direction.${field}`)}, -2, 'sumSeries')`)],
  });

  function hostsTable(d: 'in' | 'out', verb: string) {
    return tablePanel({
      title: d === 'in' ? 'Top receivers (in)' : 'Top senders (out)', w: 12, h: 10, ds, units: { bytes: 'decbytes' }, sortBy: 'bytes',
      transformations: seriesToRows('host', 'bytes'),
      description: `Local hosts by bytes ${verb} over the range (the host variable filters; Graphite paths carry no network). The row of the ` +
        `hosts outside the collector's top table (other) is left out. ${SUMMARIZE_NOTE}`,
      targets: [target(`highest(groupByNode(${overRange(`exclude(${both(`hosts.$host.${d}.bytes`)}, 'hosts.other.')`)}, -3, 'sumSeries'), $top, 'sum')`)],
    });
  }

  function hostsSeries(d: 'in' | 'out', verb: string) {
    return timeSeries({
      title: d === 'in' ? 'Top receivers (in)' : 'Top senders (out)', unit: 'bps', w: 12, h: 9, ds,
      description: `Bits per second ${verb} by the top hosts (by average): ${NULL_NOTE}.`,
      targets: [target(`highest(groupByNode(transformNull(exclude(${both(`hosts.$host.${d}.bps`)}, 'hosts.other.'), 0), -3, 'sumSeries'), $top, 'average')`)],
    });
  }

  const head: Section[] = [
    { title: 'Traffic', panels: [
      byDirection('Traffic by direction', 'bps', 'bps', 'Bits per second in (received by home networks), out (sent), internal (both ends home) ' +
        'and external (transit).', 16, 8),
      statPanel({ title: 'Bytes over the range', unit: 'decbytes', w: 8, h: 8, ds, steps: ['blue'],
        description: `Sum of bytes per direction over the time range. ${SUMMARIZE_NOTE}`,
        targets: [target(`groupByNode(${overRange(both('total.$direction.bytes'))}, -2, 'sumSeries')`)] }),
      byDirection('Packets per second', 'pps', 'pps', 'Packets per second by direction.', 12, 7),
      byDirection('Active flows per interval', 'flows', 'short',
        'Flow records active in each interval (multiplied by the sampling rate), by direction.', 12, 7),
    ] },
    { title: 'Hosts', panels: [hostsTable('in', 'received'), hostsTable('out', 'sent'), hostsSeries('in', 'received'), hostsSeries('out', 'sent')] },
    { title: 'Ports and protocols', panels: [
      tablePanel({ title: 'Top ports', w: 12, h: 10, ds, units: { bytes: 'decbytes' }, sortBy: 'bytes', transformations: seriesToRows('port', 'bytes'),
        description: 'Service ports (protocol.port.direction; port 0 for protocols without ports, all.other for ports outside the collector\'s ' +
          'top table) by bytes over the range.',
        targets: [target(`highest(groupByNodes(${overRange(both('ports.*.*.$direction.bytes'))}, 'sumSeries', -4, -3, -2), $top, 'sum')`)] }),
      timeSeries({ title: 'Top ports', unit: 'bps', w: 12, h: 10, ds,
        description: `Bits per second of the top service ports (by average): ${NULL_NOTE}.`,
        targets: [target(`highest(groupByNodes(transformNull(${both('ports.*.*.$direction.bps')}, 0), 'sumSeries', -4, -3, -2), $top, 'average')`)] }),
      timeSeries({ title: 'Protocols', unit: 'bps', w: 16, h: 8, ds,
        description: `Bits per second per IP protocol, summed over the selected directions, the top protocols (by average): ${NULL_NOTE}.`,
        targets: [target(`highest(groupByNode(transformNull(${both('protocols.*.$direction.bps')}, 0), -3, 'sumSeries'), $top, 'average')`)] }),
      pieChart({ title: 'Protocols over the range', unit: 'decbytes', w: 8, h: 8, ds,
        description: 'Bytes per IP protocol over the range, summed over the selected directions.',
        targets: [target(`groupByNode(${overRange(both('protocols.*.$direction.bytes'))}, -3, 'sumSeries')`)] }),
    ] },
    { title: 'Networks', panels: [
      timeSeries({ title: 'Networks', unit: 'bps', w: 16, h: 8, ds,
        description: `Bits per second per home network group: in = received, out = sent by its hosts; ${NULL_NOTE}.`,
        targets: [target(`groupByNodes(transformNull(${both('networks.$network.*.bps')}, 0), 'sumSeries', -3, -2)`)] }),
      tablePanel({ title: 'Networks over the range', w: 8, h: 8, ds, units: { bytes: 'decbytes' }, sortBy: 'bytes',
        transformations: seriesToRows('network', 'bytes'), description: 'Bytes per network group and direction over the range.',
        targets: [target(`groupByNodes(${overRange(both('networks.$network.*.bytes'))}, 'sumSeries', -3, -2)`)] }),
    ] },
    { title: 'Exporters', panels: [
      timeSeries({ title: 'Flow records per second by exporter', unit: 'short', w: 12, h: 8, ds,
        description: 'Flow records received per second from each exporter (datagram source, or sFlow agent; dots and colons of the address ' +
          'become _ and -), the top exporters by average.',
        targets: [target(`highest(groupByNode(scaleToSeconds(transformNull(${both('exporters.$exporter.records')}, 0), 1), -2, 'sumSeries'), ` +
          "$top, 'average')")] }),
      timeSeries({ title: 'Traffic by exporter', unit: 'bps', w: 12, h: 8, ds,
        description: 'Bits per second each exporter reported, all directions, the top exporters by average.',
        targets: [target(`highest(groupByNode(transformNull(${both('exporters.$exporter.bps')}, 0), -2, 'sumSeries'), $top, 'average')`)] }),
    ] },
  ];
  const problems = fields(['decodeErrors', 'templateMisses', 'late']);
  const health = fields(['decodeErrors', 'templateMisses', 'late', 'hostOverflow', 'portOverflow', 'exporterOverflow']);
  const tail: Section[] = [
    { title: 'Collector health', panels: [
      problemsPanel(ds, [
        target(`groupByNode(${overRange(both(`collector.${problems}`))}, -1, 'sumSeries')`),
        target(`alias(${overRange(`sumSeries(${both(`sinks.*.${fields(['dropped', 'failed'])}`)})`)}, 'sink lines lost')`, 'B'),
      ]),
      timeSeries({ title: 'Datagrams and records per second', unit: 'short', w: 12, h: 8, ds,
        description: 'What the collector decoded: datagrams and flow records per second.',
        targets: ['datagrams', 'records'].map((f, i) => target(`alias(scaleToSeconds(sumSeries(${both(`collector.${f}`)}), 1), '${f}/s')`, 'AB'[i])) }),
      counts({ title: 'Decode errors, template misses, late parts, overflows', w: 12, h: 8,
        description: 'Per bucket. templateMisses: NetFlow v9/IPFIX data before its template (normal for a minute after a restart of either ' +
          'side). late: record parts after their interval closed (exporter active timeout above aggregate.hold). Overflows: records whose ' +
          'host, port or exporter did not fit the tables.',
        targets: [target(`aliasByNode(consolidateBy(groupByNode(${both(`collector.${health}`)}, -1, 'sumSeries'), 'sum'), 0)`)] }),
      counts({ title: 'Sink errors', w: 12, h: 8,
        description: 'Per sink and bucket: failed writes (errors), writes that will be retried (retries), lines given up on (failed) and ' +
          'lines dropped from a full buffer (dropped).',
        targets: [target(`aliasByNode(consolidateBy(groupByNodes(${both(`sinks.*.${fields(['errors', 'retries', 'failed', 'dropped'])}`)}, ` +
          "'sumSeries', -2, -1), 'sum'), 0, 1)")] }),
      timeSeries({ title: 'Sink queue depth', unit: 'short', w: 12, h: 8, ds, legend: 'peak',
        description: 'Lines waiting in each sink when it wrote its row (the highest in each bucket): a growing queue means the server is slow or down.',
        targets: [target(`aliasByNode(consolidateBy(groupByNode(${both('sinks.*.queue')}, -2, 'sumSeries'), 'max'), 0)`)] }),
    ] },
    { title: 'Alerts', panels: [
      timeSeries({ title: 'Alerts', unit: 'short', w: 24, h: 8, ds, draw: GraphDrawStyle.Points, legend: 'peak',
        description: 'The value behind each alert (alert.kind), at the second it was raised; also annotations on the time series. Graphite ' +
          'keeps value and threshold only: InfluxDB has the text.',
        targets: [target(alertValues(both))] }),
    ] },
  ];
  return { head, tail };
}

/** The alerts' values by alert and kind: the Alerts panel and the annotation. */
export const alertValues = (both: Both): string => `groupByNodes(${both('alerts.*.*.value')}, 'maxSeries', -3, -2)`;

/** Graphite subtrees under the prefix (the measurements'): an instance node is anything else. */
const SUBTREES = MEASUREMENTS.map((m) => m.graphite.split('.')[0]!);

export function graphiteVariables(prefix: string, both: Both): Builder<VariableModel>[] {
  const render = (name: string, target: string) => ({ queryType: 'Metric Name', refId: name, target });
  return [
    prefixBox(prefix),
    list({ name: 'instance', label: 'Instance', ds, allValue: '*', query: '$prefix.*', regex: `/^(?!(${SUBTREES.join('|')})$).*/`,
      description: 'Collector instances: the node after the prefix (the instance key, docs/scaling.md); none when a single collector writes ' +
        'without one. Panels sum over the selected ones.' }),
    // Metric Name queries: the two layouts differ in depth, which one find pattern cannot cover
    list({ name: 'direction', label: 'Direction', ds, allValue: '*', query: render('direction', `groupByNode(${both('total.*.bytes')}, -2, 'sumSeries')`) }),
    list({ name: 'network', label: 'Network', ds, allValue: '*', query: render('network', `groupByNode(${both('networks.*.*.bytes')}, -3, 'sumSeries')`) }),
    list({ name: 'host', label: 'Host', ds, allValue: '*', regex: '/^(?!other$).*/',
      query: render('host', `groupByNode(${both('hosts.*.*.bytes')}, -3, 'sumSeries')`) }),
    list({ name: 'exporter', label: 'Exporter', ds, allValue: '*', query: render('exporter', `groupByNode(${both('exporters.*.records')}, -2, 'sumSeries')`) }),
    topChoice(),
  ];
}
