// How a configured view (docs/output.md "Views") appears in both dashboards: its series names (the
// sinks' own, from export/series-views.ts), the words its panels use for its keys, and which dashboard
// variables filter which key. Nothing here names a view: every name comes from the configuration.
import type { ViewSpec } from '../aggregate/views.js';
import type { KeyName } from '../flow/keys.js';
import { IFNAME_TAG, viewMeasurement } from '../export/series-views.js';

/** Words for each key in titles and descriptions. */
const KEY_LABELS: Record<KeyName, string> = {
  ipsource: 'source address', ipdestination: 'destination address', sourceport: 'source port', destinationport: 'destination port',
  protocol: 'protocol', direction: 'flow direction', group: 'network', sourcegroup: 'source network', destinationgroup: 'destination network',
  exporter: 'exporter', icmptype: 'ICMP type', icmpcode: 'ICMP code', icmpunreachableport: 'ICMP unreachable port', vlan: 'VLAN',
  tcpflags: 'TCP flags', inputifindex: 'input interface', outputifindex: 'output interface', interface: 'interface',
  localhost: 'local host', remotehost: 'remote host', serviceport: 'service port', srcas: 'source AS', dstas: 'destination AS',
  remoteas: 'remote AS', dscp: 'DSCP',
};

/** Keys holding an AS number: such a view also gets a share of bytes per AS. */
const AS_KEYS: readonly KeyName[] = ['srcas', 'dstas', 'remoteas'];
/** Keys holding an ifIndex, shown as "if<n>". */
const IF_KEYS: readonly KeyName[] = ['interface', 'inputifindex', 'outputifindex'];

/**
 * Dashboard variables that filter a key: its tag, the variable, and whether the Graphite node of the
 * key's value is the variable's (exporters and hosts are written the same way in both subtrees).
 */
const KEY_VARIABLES: Partial<Record<KeyName, string>> = { exporter: 'exporter', group: 'network', localhost: 'host' };

/** The InfluxDB tag holding an interface's name (views with the `interface` key, interface_counters), when it is known. */
export const IFNAME = IFNAME_TAG;

export interface ViewKey {
  key: KeyName;
  /** the InfluxDB tag (and Graphite node) name: `group` is `network`, `direction` may be `flowdirection` */
  tag: string;
  label: string;
  /** the dashboard variable filtering this key, if any */
  variable?: string;
  isAs: boolean;
  isIf: boolean;
}

export interface ViewShape {
  name: string;
  /** the view's number in the configuration, from 1 */
  n: number;
  perDirection: boolean;
  /** InfluxDB measurement, `view_<name>` */
  measurement: string;
  /** Graphite path after the prefix (and instance), `views.<name>` with dots as `_` */
  graphite: string;
  keys: ViewKey[];
  /** the view has `interface`: its InfluxDB series may carry `ifname` */
  named: boolean;
  /** "exporter, interface" */
  label: string;
  /** a word for dashboard variable names: the name's letters, digits and _ (and the view's number when they collide) */
  slug: string;
  spec: ViewSpec;
}

export function viewShapes(views: readonly ViewSpec[]): ViewShape[] {
  const slugs = new Set<string>();
  return views.map((spec, i) => {
    const perDirection = spec.per === 'direction';
    const m = viewMeasurement(spec.name, spec.keys, perDirection);
    const keys = spec.keys.map((key, j): ViewKey => ({
      key, tag: m.tags[j]!, label: KEY_LABELS[key], variable: KEY_VARIABLES[key], isAs: AS_KEYS.includes(key), isIf: IF_KEYS.includes(key),
    }));
    let slug = spec.name.replace(/[^A-Za-z0-9_]/g, '_');
    if (slugs.has(slug)) slug = `${slug}_${i + 1}`;
    slugs.add(slug);
    return {
      name: spec.name, n: i + 1, perDirection, measurement: m.name, graphite: m.graphite, keys, named: spec.keys.includes('interface'),
      label: keys.map((k) => k.label).join(', '), slug, spec,
    };
  });
}

/** The directions a view's time series are drawn for: in and out apart, or everything together. */
export function seriesDirections(v: ViewShape): ('in' | 'out' | undefined)[] {
  return v.perDirection ? ['in', 'out'] : [undefined];
}

export const DIRECTION_WORDS = { in: 'received (in)', out: 'sent (out)' } as const;

/** A view's panel title: the view's name, then what the panel shows. */
export function viewTitle(v: ViewShape, what: string): string {
  return `${v.name}: ${what}`;
}

/** What a view counts, for descriptions: its keys, filter and top. */
export function viewSummary(v: ViewShape): string {
  const filter = v.spec.filter ? `, records matching "${v.spec.filter}"` : '';
  const per = v.perDirection ? `the ${v.spec.top} largest tuples per direction each interval` : `the ${v.spec.top} largest tuples each interval`;
  return `View "${v.name}" (docs/output.md): bytes per ${v.label}${filter}; the collector writes ${per}, the rest as "other".`;
}
