// The InfluxDB dashboard's variables: the lists panels filter by, Top, and the hidden rankings that let
// the hosts and ports time series draw the $top largest only.
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import type { VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { INSTANCE, where } from './influx-base.js';
import { INFLUX_DS } from './query.js';
import { list, ranking, topChoice } from './variables.js';

const ds = INFLUX_DS;

/**
 * The query of a hidden ranking: the `$top` values of `tags` (the first one is the variable's value,
 * Grafana taking a row's second column) by Σ `field` over the range.
 */
export function rankingQuery(from: string, tags: string[], cond: string[], field = 'bytes'): string {
  return `SELECT ${tags[0]}, ${field} FROM (SELECT top(${field}, ${tags.join(', ')}, $top) AS ${field} FROM (SELECT sum(${field}) AS ${field} ` +
    `FROM ${from} WHERE ${where(...cond)} GROUP BY ${tags.join(', ')}))`;
}

export function influxVariables(): Builder<VariableModel>[] {
  const hosts = (d: 'in' | 'out') => rankingQuery('hosts', ['host'], [`direction = '${d}'`, "host != 'other'", 'host =~ /^$host$/', 'network =~ /^$network$/']);
  return [
    list({ name: 'instance', label: 'Instance', ds, allValue: '.*', query: 'SHOW TAG VALUES FROM traffic WITH KEY = instance',
      description: 'Collector instances (the instance key, docs/scaling.md); none when a single collector writes without one. Panels sum ' +
        'over the selected ones.' }),
    list({ name: 'direction', label: 'Direction', ds, allValue: '.*', query: 'SHOW TAG VALUES FROM traffic WITH KEY = direction' }),
    list({ name: 'network', label: 'Network', ds, allValue: '.*', query: `SHOW TAG VALUES FROM networks WITH KEY = network WHERE ${INSTANCE}` }),
    list({ name: 'host', label: 'Host', ds, allValue: '.*',
      query: `SHOW TAG VALUES FROM hosts WITH KEY = host WHERE host != 'other' AND network =~ /^$network$/ AND ${INSTANCE}` }),
    list({ name: 'exporter', label: 'Exporter', ds, allValue: '.*', query: `SHOW TAG VALUES FROM exporters WITH KEY = exporter WHERE ${INSTANCE}` }),
    topChoice(),
    ranking('top_in_hosts', ds, hosts('in'), 'Hidden: the $top receivers by bytes over the range, so the Receivers panel draws $top series at ' +
      'most (InfluxQL cannot rank series itself).'),
    ranking('top_out_hosts', ds, hosts('out'), 'Hidden: the $top senders by bytes over the range, for the Senders panel.'),
    ranking('top_ports', ds, rankingQuery('ports', ['port'], ['direction =~ /^$direction$/']),
      'Hidden: the $top service ports by bytes over the range, for the Ports panel.'),
    ranking('top_protocols', ds, rankingQuery('protocols', ['protocol'], ['direction =~ /^$direction$/']),
      'Hidden: the $top IP protocols by bytes over the range, for the Protocols panel.'),
    ranking('top_exporters', ds, rankingQuery('exporters', ['exporter'], ['exporter =~ /^$exporter$/']),
      'Hidden: the $top exporters by bytes over the range, for the exporters\' time series.'),
  ];
}
