// The InfluxDB dashboard's fixed rows (docs/metrics.md): traffic, hosts, ports and protocols, networks,
// exporters, collector health and alerts. Every query filters on the Instance variable and sums over
// the instances it picks (docs/scaling.md): amounts with sum(), rates as the sum of each one's mean.
import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common';
import type { Section } from './dashboard.js';
import { HIDE_TIME, pieChart, problemsPanel, statPanel, tablePanel, timeSeries, type TimeSeriesSpec } from './panels.js';
import { INFLUX_DS, InfluxQL } from './query.js';

const ds = INFLUX_DS;
export const INSTANCE = 'instance =~ /^$instance$/';
/** Conditions, then the instance and the time range. */
export const where = (...c: string[]): string => [...c, INSTANCE, '$timeFilter'].join(' AND ');
const DIRECTION = 'direction =~ /^$direction$/';
const NETWORK = 'network =~ /^$network$/';
const EXPORTER = 'exporter =~ /^$exporter$/';
const TOP_EXPORTERS = 'exporter =~ /^$top_exporters$/';
/** An amount per bucket as a rate: summed over the series first, so one absent from some intervals is not overstated. */
export const PER_BUCKET = '* 8000.0 / $__interval_ms AS bps';
/** An amount over the range as its average rate. */
export const OVER_RANGE = 'sum(bytes) * 8.0 / $__range_s AS bps';
const BUCKET_NOTE = 'bytes × 8 per second of each bucket, summed over the series first, so hosts absent from some intervals are not overstated';

/** A rate per bucket, summed over the instances: each instance's mean (or max) first. */
export function overInstances(fn: 'mean' | 'max', field: string, from: string, cond: string[], by: string[]): string {
  const tags = by.length ? `, ${by.join(', ')}` : '';
  return `SELECT sum(${field}) AS ${field} FROM (SELECT ${fn}(${field}) AS ${field} FROM ${from} WHERE ${where(...cond)} ` +
    `GROUP BY time($__interval)${tags}, instance) WHERE $timeFilter GROUP BY time($__interval)${tags} fill(null)`;
}

const byDirection = (title: string, field: string, unit: string, description: string, w: number, h: number) => timeSeries({
  title, description, unit, w, h, ds,
  targets: [new InfluxQL(overInstances('mean', field, 'traffic', [DIRECTION], ['direction'])).alias('$tag_direction')],
});

function hostsTable(d: 'in' | 'out', verb: string) {
  return tablePanel({
    title: d === 'in' ? 'Top receivers (in)' : 'Top senders (out)', w: 12, h: 10, ds,
    description: `Local hosts by bytes ${verb} over the range; bps is the average over the range. Filtered by the host and network variables.`,
    units: { bytes: 'decbytes', bps: 'bps' }, sortBy: 'bytes', transformations: [HIDE_TIME],
    targets: [new InfluxQL(`SELECT top(bytes, host, $top) AS bytes, bps, network FROM (SELECT sum(bytes) AS bytes, ${OVER_RANGE} FROM hosts ` +
      `WHERE ${where(`direction = '${d}'`, "host != 'other'", 'host =~ /^$host$/', NETWORK)} GROUP BY host, network)`).table()],
  });
}

function hostsSeries(d: 'in' | 'out', verb: string) {
  return timeSeries({
    title: d === 'in' ? 'Receivers (in)' : 'Senders (out)', unit: 'bps', w: 12, h: 9, ds,
    description: `Bits per second ${verb} per local host: ${BUCKET_NOTE}. The Top variable's largest hosts by bytes over the range, among ` +
      'those the host variable picks; the legend is sorted by mean.',
    targets: [new InfluxQL(`SELECT sum(bytes) ${PER_BUCKET} FROM hosts WHERE ${where(`direction = '${d}'`, "host != 'other'",
      `host =~ /^$top_${d}_hosts$/`, NETWORK)} GROUP BY time($__interval), host fill(0)`).alias('$tag_host')],
  });
}

/** Figures per bucket (bars). */
const counts = (s: Omit<TimeSeriesSpec, 'ds' | 'draw' | 'unit'>) => timeSeries({ ...s, ds, unit: 'short', draw: GraphDrawStyle.Bars });

export function influxSections(): { head: Section[]; tail: Section[] } {
  const head: Section[] = [
    { title: 'Traffic', panels: [
      byDirection('Traffic by direction', 'bps', 'bps', 'Bits per second in (received by home networks), out (sent), internal (both ends home) ' +
        'and external (transit), from the traffic measurement.', 16, 8),
      statPanel({ title: 'Bytes over the range', description: 'Sum of traffic bytes per direction over the time range.', unit: 'decbytes',
        w: 8, h: 8, ds, steps: ['blue'],
        targets: [new InfluxQL(`SELECT sum(bytes) FROM traffic WHERE ${where(DIRECTION)} GROUP BY direction`).alias('$tag_direction')] }),
      byDirection('Packets per second', 'pps', 'pps', 'Packets per second by direction.', 12, 7),
      byDirection('Active flows per interval', 'flows', 'short',
        'Flow records active in each interval (multiplied by the sampling rate), by direction.', 12, 7),
    ] },
    { title: 'Hosts', panels: [hostsTable('in', 'received'), hostsTable('out', 'sent'), hostsSeries('in', 'received'), hostsSeries('out', 'sent')] },
    { title: 'Ports and protocols', panels: [
      tablePanel({ title: 'Top ports', w: 12, h: 10, ds, units: { bytes: 'decbytes', bps: 'bps' }, sortBy: 'bytes', transformations: [HIDE_TIME],
        description: 'Service ports (the lower port of a flow; 0 for ICMP and other protocols without ports) by bytes over the range, per ' +
          'direction. protocol=all, port=other holds the ports outside the collector\'s top table.',
        targets: [new InfluxQL(`SELECT top(bytes, protocol, port, direction, $top) AS bytes, bps FROM (SELECT sum(bytes) AS bytes, ${OVER_RANGE} ` +
          `FROM ports WHERE ${where(DIRECTION)} GROUP BY protocol, port, direction)`).table()] }),
      timeSeries({ title: 'Ports', unit: 'bps', w: 12, h: 10, ds,
        description: `Bits per second per service port, over the selected directions: ${BUCKET_NOTE}; the Top variable's largest ports by bytes ` +
          'over the range (a port seen over TCP and UDP draws a line for each).',
        targets: [new InfluxQL(`SELECT sum(bytes) ${PER_BUCKET} FROM ports WHERE ${where('port =~ /^$top_ports$/', DIRECTION)} ` +
          'GROUP BY time($__interval), protocol, port fill(0)').alias('$tag_protocol/$tag_port')] }),
      timeSeries({ title: 'Protocols', unit: 'bps', w: 16, h: 8, ds,
        description: `Bits per second per IP protocol, over the selected directions: ${BUCKET_NOTE}; the Top variable's largest protocols by ` +
          'bytes over the range.',
        targets: [new InfluxQL(`SELECT sum(bytes) ${PER_BUCKET} FROM protocols WHERE ${where('protocol =~ /^$top_protocols$/', DIRECTION)} ` +
          'GROUP BY time($__interval), protocol fill(0)').alias('$tag_protocol')] }),
      pieChart({ title: 'Protocols over the range', description: 'Bytes per IP protocol over the range, over the selected directions.',
        unit: 'decbytes', w: 8, h: 8, ds,
        targets: [new InfluxQL(`SELECT sum(bytes) FROM protocols WHERE ${where(DIRECTION)} GROUP BY protocol`).alias('$tag_protocol')] }),
    ] },
    { title: 'Networks', panels: [
      timeSeries({ title: 'Networks', unit: 'bps', w: 16, h: 8, ds,
        description: 'Bits per second per home network group (the networks setting): in = received, out = sent by its hosts. ' +
          `${BUCKET_NOTE}.`,
        targets: [new InfluxQL(`SELECT sum(bytes) ${PER_BUCKET} FROM networks WHERE ${where(NETWORK)} GROUP BY time($__interval), network, direction fill(0)`)
          .alias('$tag_network $tag_direction')] }),
      tablePanel({ title: 'Networks over the range', w: 8, h: 8, ds, sortBy: 'bytes', transformations: [HIDE_TIME],
        description: 'Bytes, packets and average bps per network group and direction over the range.',
        units: { bytes: 'decbytes', packets: 'short', bps: 'bps' },
        targets: [new InfluxQL(`SELECT sum(bytes) AS bytes, sum(packets) AS packets, ${OVER_RANGE} FROM networks WHERE ${where(NETWORK)} ` +
          'GROUP BY network, direction').table()] }),
    ] },
    { title: 'Exporters', panels: [
      timeSeries({ title: 'Flow records per second by exporter', unit: 'short', w: 12, h: 8, ds,
        description: 'Flow records received per second from each exporter (datagram source, or sFlow agent); the Top variable\'s largest ' +
          'exporters by bytes over the range.',
        targets: [new InfluxQL(`SELECT sum(records) * 1000.0 / $__interval_ms AS records FROM exporters WHERE ${where(TOP_EXPORTERS, EXPORTER)} ` +
          'GROUP BY time($__interval), exporter fill(0)').alias('$tag_exporter')] }),
      timeSeries({ title: 'Traffic by exporter', unit: 'bps', w: 12, h: 8, ds,
        description: `Bits per second each exporter reported, all directions: ${BUCKET_NOTE}; the Top variable's largest exporters by bytes ` +
          'over the range.',
        targets: [new InfluxQL(`SELECT sum(bytes) ${PER_BUCKET} FROM exporters WHERE ${where(TOP_EXPORTERS, EXPORTER)} ` +
          'GROUP BY time($__interval), exporter fill(0)').alias('$tag_exporter')] }),
    ] },
  ];
  const tail: Section[] = [
    { title: 'Collector health', panels: [
      problemsPanel(ds, [
        new InfluxQL(`SELECT sum(decodeErrors) AS decodeErrors, sum(templateMisses) AS templateMisses, sum(late) AS late FROM collector WHERE ${where()}`)
          .alias('$col'),
        new InfluxQL(`SELECT sum(dropped) + sum(failed) AS lost FROM sinks WHERE ${where()}`, 'B').alias('sink lines lost'),
      ]),
      timeSeries({ title: 'Datagrams and records per second', unit: 'short', w: 12, h: 8, ds,
        description: 'What the collector decoded: datagrams and flow records per second.',
        targets: [new InfluxQL('SELECT sum(datagrams) * 1000.0 / $__interval_ms AS datagrams, sum(records) * 1000.0 / $__interval_ms AS records ' +
          `FROM collector WHERE ${where()} GROUP BY time($__interval) fill(0)`).alias('$col/s')] }),
      counts({ title: 'Decode errors, template misses, late parts, overflows', w: 12, h: 8,
        description: 'Per bucket. templateMisses: NetFlow v9/IPFIX data before its template (normal for a minute after a restart of either ' +
          'side). late: record parts after their interval closed (exporter active timeout above aggregate.hold). Overflows: records whose ' +
          'host, port or exporter did not fit the tables.',
        targets: [new InfluxQL(`SELECT ${['decodeErrors', 'templateMisses', 'late', 'hostOverflow', 'portOverflow', 'exporterOverflow']
          .map((f) => `sum(${f}) AS ${f}`).join(', ')} FROM collector WHERE ${where()} GROUP BY time($__interval) fill(0)`).alias('$col')] }),
      counts({ title: 'Sink errors', w: 12, h: 8,
        description: 'Per sink and bucket: failed writes (errors), writes that will be retried (retries), lines given up on (failed) and ' +
          'lines dropped from a full buffer (dropped).',
        targets: [new InfluxQL(`SELECT ${['errors', 'retries', 'failed', 'dropped'].map((f) => `sum(${f}) AS ${f}`).join(', ')} FROM sinks ` +
          `WHERE ${where()} GROUP BY time($__interval), sink fill(0)`).alias('$tag_sink $col')] }),
      timeSeries({ title: 'Sink queue depth', unit: 'short', w: 12, h: 8, ds, legend: 'peak',
        description: 'Lines waiting in each sink when it wrote its row (the highest in each bucket, summed over instances): a growing queue ' +
          'means the server is slow or down.',
        targets: [new InfluxQL(overInstances('max', 'queue', 'sinks', [], ['sink'])).alias('$tag_sink')] }),
    ] },
    { title: 'Alerts', panels: [
      tablePanel({ title: 'Alerts', w: 24, h: 8, ds,
        description: 'The newest alerts (docs/alerts.md); they are also annotations on the time series. Filtered by the exporter variable.',
        targets: [new InfluxQL(`SELECT text, value, threshold, alert, kind, exporter, instance FROM alerts WHERE ${where(EXPORTER)} ` +
          'ORDER BY time DESC LIMIT 200').table()] }),
    ] },
  ];
  return { head, tail };
}
