// Alerts as syslog messages. RFC 5424: header, one STRUCTURED-DATA element ([flowbridge@32473 …]) with
// the alert's fields and keys, and the same as a JSON MSG. RFC 3164 (BSD): header and the JSON MSG.
// Written here because the npm syslog clients lack structured data and octet counting.
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { AlertEvent } from './event.js';
import { SEVERITY_NAMES, type SeverityName } from './definitions.js';
import type { Metrics } from '../lib/counters.js';
import { ConfigError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { createTransport, type Transport } from './transport.js';

export const FACILITY_NAMES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp',
  'audit', 'console', 'clock', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;
export type FacilityName = (typeof FACILITY_NAMES)[number];

export interface SyslogOptions {
  /** receiver host name or address; '' = no syslog */
  host: string;
  port: number;
  protocol: 'udp' | 'tcp' | 'tls';
  /** TCP framing; TLS always counts octets (RFC 5425) */
  framing: 'octet-counting' | 'lf';
  format: 'rfc5424' | 'rfc3164';
  facility: FacilityName;
  /** of alerts whose definition sets none */
  severity: SeverityName;
  appName: string;
  /** '' = the machine's host name */
  hostname: string;
  sdId: string;
  /** messages held while a TCP/TLS receiver is unreachable (UDP: sends in flight) */
  queue: number;
  /** ms */
  connectTimeout: number;
  /** ms; the reconnect delay doubles from reconnectMin up to reconnectMax */
  reconnectMin: number;
  reconnectMax: number;
  /** PEM file paths ('' = none; ca '' = the system CAs); servername '' = the host */
  tls: { ca: string; cert: string; key: string; verify: boolean; servername: string };
}

/** Merged by spread under the options; the config schema reads them too. */
export const SYSLOG_DEFAULTS: SyslogOptions = {
  host: '',
  port: 514,
  protocol: 'udp',
  framing: 'octet-counting',
  format: 'rfc5424',
  facility: 'local0',
  severity: 'notice',
  appName: 'flowbridge',
  hostname: '',
  // 32473 is the enterprise number set aside for documentation (RFC 5612)
  sdId: 'flowbridge@32473',
  queue: 10_000,
  connectTimeout: 5000,
  reconnectMin: 500,
  reconnectMax: 30_000,
  tls: { ca: '', cert: '', key: '', verify: true, servername: '' },
};

export interface HeaderOptions {
  format: 'rfc5424' | 'rfc3164';
  facility: number;
  /** default severity; an alert's own `severity` wins */
  severity: number;
  appName: string;
  hostname: string;
  procId: string;
  sdId: string;
}

/** JSON with every non-ASCII character escaped, so MSG is plain ASCII (RFC 5424 MSG-ANY, no BOM needed). */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The MSG: kind, name, each key by name, metric, value, threshold, interval start/end (epoch s), exporter. */
export function alertJson(a: AlertEvent): string {
  const o: Record<string, unknown> = { kind: a.kind, name: a.name, ...a.keys, metric: a.metric, value: a.value };
  if (a.threshold !== undefined) o.threshold = a.threshold;
  o.start = a.start;
  o.end = a.end;
  if (a.exporter !== undefined) o.exporter = a.exporter;
  return asciiJson(o);
}

/** RFC 5424 §6.3.3: inside PARAM-VALUE, '"', '\' and ']' are escaped with a backslash. */
export function escapeSdValue(v: string): string {
  return v.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** Printable US-ASCII without spaces (RFC 5424 header fields), at most `max` characters; '-' if empty. */
export function headerToken(v: string, max: number): string {
  const t = v.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return t === '' ? '-' : t;
}

function sdElement(a: AlertEvent, sdId: string): string {
  let s = `[${sdId} kind="${a.kind}" name="${escapeSdValue(a.name)}" metric="${escapeSdValue(a.metric)}" value="${a.value}"`;
  if (a.threshold !== undefined) s += ` threshold="${a.threshold}"`;
  s += ` start="${a.start}" end="${a.end}"`;
  if (a.exporter !== undefined) s += ` exporter="${escapeSdValue(a.exporter)}"`;
  for (const k of Object.keys(a.keys)) {
    if (k === 'exporter' && a.exporter !== undefined) continue; // the same value, already there
    s += ` ${k}="${escapeSdValue(String(a.keys[k]))}"`;
  }
  return `${s}]`;
}

export function priority(a: AlertEvent, h: HeaderOptions): number {
  const sev = a.severity ? (SEVERITY_NAMES as readonly string[]).indexOf(a.severity) : -1;
  return h.facility * 8 + (sev >= 0 ? sev : h.severity);
}

/** `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG` with MSGID = the alert kind. */
export function formatRfc5424(a: AlertEvent, h: HeaderOptions): string {
  return `<${priority(a, h)}>1 ${new Date(a.time).toISOString()} ${h.hostname} ${h.appName} ${h.procId} ` +
    `${a.kind.toUpperCase()} ${sdElement(a, h.sdId)} ${alertJson(a)}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[pid]: MSG`, local time as RFC 3164 has no zone. */
export function formatRfc3164(a: AlertEvent, h: HeaderOptions): string {
  const d = new Date(a.time);
  const day = d.getDate();
  const ts = `${MONTHS[d.getMonth()]} ${day < 10 ? ` ${day}` : day} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `<${priority(a, h)}>${ts} ${h.hostname} ${h.appName}[${h.procId}]: ${alertJson(a)}`;
}

export function formatAlert(a: AlertEvent, h: HeaderOptions): string {
  return h.format === 'rfc3164' ? formatRfc3164(a, h) : formatRfc5424(a, h);
}

export interface SenderDeps {
  metrics: Metrics;
  log: Logger;
  now?: () => number;
}

function readPem(path: string, key: string): Buffer | undefined {
  if (path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(key, `config: ${key} = ${JSON.stringify(path)}: expected a readable PEM file (${(e as Error).message})`);
  }
}

/** Formats alerts and hands them to the configured transport. */
export class SyslogSender {
  readonly header: HeaderOptions;
  readonly transport: Transport;

  constructor(options: Partial<SyslogOptions>, deps: SenderDeps) {
    const cfg: SyslogOptions = { ...SYSLOG_DEFAULTS, ...options };
    this.header = {
      format: cfg.format,
      facility: FACILITY_NAMES.indexOf(cfg.facility),
      severity: SEVERITY_NAMES.indexOf(cfg.severity),
      appName: headerToken(cfg.appName, cfg.format === 'rfc3164' ? 32 : 48),
      hostname: headerToken(cfg.hostname || osHostname(), 255),
      procId: String(process.pid),
      sdId: cfg.sdId,
    };
    const t = cfg.tls;
    this.transport = createTransport({
      host: cfg.host, port: cfg.port, protocol: cfg.protocol,
      // RFC 5425 mandates octet counting over TLS
      framing: cfg.protocol === 'tls' ? 'octet-counting' : cfg.framing,
      queue: cfg.queue, connectTimeout: cfg.connectTimeout, reconnectMin: cfg.reconnectMin, reconnectMax: cfg.reconnectMax,
      tls: cfg.protocol === 'tls' ? {
        ca: readPem(t.ca, 'alerts.syslog.tls.ca'), cert: readPem(t.cert, 'alerts.syslog.tls.cert'),
        key: readPem(t.key, 'alerts.syslog.tls.key'), verify: t.verify, servername: t.servername || undefined,
      } : undefined,
      metrics: deps.metrics, log: deps.log, now: deps.now,
    });
  }

  send(a: AlertEvent): void {
    this.transport.send(formatAlert(a, this.header));
  }

  stop(timeoutMs: number): Promise<void> {
    return this.transport.stop(timeoutMs);
  }
}
