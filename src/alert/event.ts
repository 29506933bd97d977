// An alert as every transport and sink sees it: syslog, console/JSON, InfluxDB/Graphite annotations.

export type AlertKind = 'event' | 'threshold' | 'cleared' | 'suppressed';

export interface AlertEvent {
  kind: AlertKind;
  /** flow definition name, e.g. "uport" */
  name: string;
  /** each key of the definition by name, e.g. { ipsource: "10.1.1.1", icmpunreachableport: 1000 } */
  keys: Record<string, string | number>;
  /** the value that triggered (for `suppressed`: how many events were suppressed) */
  value: number;
  /** bytes | packets | frames | flows | bps | pps */
  metric: string;
  /** threshold crossed (threshold/cleared) */
  threshold?: number;
  /** interval the value belongs to, epoch seconds */
  start: number;
  end: number;
  /** exporter of the (first) record behind it, when known */
  exporter?: string;
  /** epoch ms when raised */
  time: number;
  /** syslog severity name set by the flow definition; absent = alerts.syslog.severity */
  severity?: string;
}
