// Configuration of alerting: flow definitions, thresholds and the syslog transport. schema.ts lists it.
// `alerts.flows` is a list of objects, validated here field by field so an error names the exact key
// (config: alerts.flows[1].value = "bitz": expected one of …).
import {
  DEFINITION_DEFAULTS, SEVERITY_NAMES, SHORTCUT_KEYS, VALUE_NAMES,
  type FlowDefinition, type SeverityName,
} from '../alert/definitions.js';
import { KEY_NAMES, type KeyName } from '../flow/keys.js';
import type { ThresholdSpec } from '../alert/threshold.js';
import type { AlertsOptions } from '../alert/alerting.js';
import { FACILITY_NAMES, SYSLOG_DEFAULTS, type FacilityName } from '../alert/syslog.js';
import { isIP } from 'node:net';
import { bool, duration, FormatError, oneOf, positiveInt, redactUrl, text, type FormatDef } from './formats.js';
import { renderDuration } from '../lib/duration.js';
import type { Section } from './section.js';
import { checkedFilter, checkedKeyList, checkedName, coerceJsonList, namedItems } from './flow-fields.js';

/** The keys a definition takes: every flow key (`interface` counts a record on each of its interfaces). */
const ALERT_KEYS: readonly string[] = KEY_NAMES;

export interface AlertsConfig {
  alerts: AlertsOptions;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---- scalars ----

const SYSLOG_HOST_EXPECTED =
  'a host name or IP address such as "syslog.example" or "192.0.2.10", without scheme, brackets or port (that is alerts.syslog.port); "" = no syslog';
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** Checked at load: "udp://host:514" or "host:514" would otherwise fail only at the first alert, as a lookup error. */
export const syslogHost: FormatDef<string> = {
  name: 'syslog-host',
  expected: SYSLOG_HOST_EXPECTED,
  note: 'IPv6 addresses without brackets ("2001:db8::1").',
  normalize(raw) {
    if (typeof raw !== 'string' || (raw !== '' && isIP(raw) === 0 && !HOST_NAME.test(raw))) throw new FormatError(SYSLOG_HOST_EXPECTED);
    return raw;
  },
  redact: (raw) => (typeof raw === 'string' ? redactUrl(raw) : raw),
};

const PORT_EXPECTED = 'a port number from 1 to 65535';
export const syslogPort: FormatDef<number> = {
  name: 'syslog-port',
  expected: PORT_EXPECTED,
  note: 'Usually 514 (UDP, TCP) or 6514 (TLS).',
  coerce: (t) => (/^\s*\d+\s*$/.test(t) ? Number(t) : t),
  normalize(raw) {
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > 65535) throw new FormatError(PORT_EXPECTED);
    return raw;
  },
};

const FACILITY_EXPECTED = `a syslog facility: ${FACILITY_NAMES.join(', ')} or its number 0-23`;
export const syslogFacility: FormatDef<FacilityName> = {
  name: 'syslog-facility',
  expected: FACILITY_EXPECTED,
  note: 'Stored as the name; "security" is read as auth.',
  coerce: (t) => (/^\s*\d+\s*$/.test(t) ? Number(t) : t),
  normalize(raw) {
    if (typeof raw === 'number' && Number.isInteger(raw) && FACILITY_NAMES[raw]) return FACILITY_NAMES[raw]!;
    const aliases: Record<string, FacilityName> = { security: 'auth' };
    if (typeof raw === 'string') {
      const n = raw.trim().toLowerCase();
      if ((FACILITY_NAMES as readonly string[]).includes(n)) return n as FacilityName;
      if (aliases[n]) return aliases[n];
    }
    throw new FormatError(FACILITY_EXPECTED);
  },
};

const SEVERITY_ALIASES: Record<string, SeverityName> = { panic: 'emerg', error: 'err', warn: 'warning', critical: 'crit', emergency: 'emerg', informational: 'info' };
const SEVERITY_EXPECTED = `a syslog severity: ${SEVERITY_NAMES.join(', ')} or its number 0-7`;
function severityOf(raw: unknown): SeverityName | undefined {
  if (typeof raw === 'number' && Number.isInteger(raw)) return SEVERITY_NAMES[raw];
  if (typeof raw !== 'string') return undefined;
  const n = raw.trim().toLowerCase();
  return (SEVERITY_NAMES as readonly string[]).includes(n) ? n as SeverityName : SEVERITY_ALIASES[n];
}
export const syslogSeverity: FormatDef<SeverityName> = {
  name: 'syslog-severity',
  expected: SEVERITY_EXPECTED,
  note: 'Stored as the name; error, warn, panic, critical and informational are read as err, warning, emerg, crit and info.',
  coerce: (t) => (/^\s*\d+\s*$/.test(t) ? Number(t) : t),
  normalize(raw) {
    const s = severityOf(raw);
    if (!s) throw new FormatError(SEVERITY_EXPECTED);
    return s;
  },
};

/** RFC 5424 header fields are printable US-ASCII without spaces, of bounded length. */
function asciiToken(name: string, max: number, empty: boolean, extra = ''): FormatDef<string> {
  const expected = `${empty ? 'empty or ' : ''}1-${max} printable ASCII characters without spaces${extra ? ` or ${extra}` : ''}`;
  return {
    name,
    expected,
    note: 'A header field of RFC 5424 (printable US-ASCII, no spaces).',
    normalize(raw) {
      if (typeof raw !== 'string' || (raw === '' ? !empty : !/^[\x21-\x7e]+$/.test(raw) || raw.length > max)) throw new FormatError(expected);
      if (name === 'syslog-sd-id' && /[=\]"]/.test(raw)) throw new FormatError(expected);
      return raw;
    },
  };
}
export const syslogAppName = asciiToken('syslog-app-name', 48, false);
export const syslogHostname = asciiToken('syslog-hostname', 255, true);
export const syslogSdId = asciiToken('syslog-sd-id', 32, false, '"=", "]" or \'"\'');

// ---- thresholds ----

const THRESHOLD_FIELDS = ['above', 'clear', 'for', 'cooldown', 'window', 'per'];
const THRESHOLD_EXPECTED = 'a threshold: a number (above) or { above, clear, for, cooldown, window, per }';

function nonNegative(v: unknown, sub: string, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new FormatError(`${what}, a number ≥ 0`, sub, v);
  return v;
}

function whole(v: unknown, sub: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new FormatError(`a whole number from 1 to ${max}`, sub, v);
  return v;
}

/** A threshold object (or a bare number meaning `above`); `sub` locates it for error messages. */
export function normalizeThreshold(raw: unknown, sub: string, perDefault: 'key' | 'total' = 'key'): ThresholdSpec {
  if (!isObj(raw) && typeof raw !== 'number') throw new FormatError(THRESHOLD_EXPECTED, sub, raw);
  const o: Obj = isObj(raw) ? raw : { above: raw };
  for (const k of Object.keys(o)) {
    if (!THRESHOLD_FIELDS.includes(k)) throw new FormatError(`a known field, one of ${THRESHOLD_FIELDS.join(', ')}`, `${sub}.${k}`, o[k]);
  }
  if (o.above === undefined) throw new FormatError('the value to raise above, a number ≥ 0', `${sub}.above`, o.above);
  const above = nonNegative(o.above, `${sub}.above`, 'the value to raise above');
  const clear = o.clear === undefined ? above : nonNegative(o.clear, `${sub}.clear`, 'the value to clear at');
  if (clear > above) throw new FormatError(`a value to clear at that is ≤ above (${above})`, `${sub}.clear`, o.clear);
  let cooldown = 0;
  if (o.cooldown !== undefined) {
    try {
      cooldown = duration.normalize(o.cooldown);
    } catch {
      throw new FormatError(duration.expected, `${sub}.cooldown`, o.cooldown);
    }
  }
  const per = o.per === undefined ? perDefault : o.per;
  if (per !== 'key' && per !== 'total') throw new FormatError('one of "key", "total"', `${sub}.per`, o.per);
  return {
    above, clear,
    for: o.for === undefined ? 1 : whole(o.for, `${sub}.for`, 1000),
    cooldown,
    window: o.window === undefined ? 1 : whole(o.window, `${sub}.window`, 1000),
    per,
  };
}

function renderThreshold(t: ThresholdSpec): Obj {
  return { ...t, cooldown: renderDuration(t.cooldown) };
}

/** coerce for env/argv text: JSON, a bare number, or "above=1e8,clear=8e7,for=2". */
function coerceThreshold(t: string): unknown {
  const s = t.trim();
  if (s === '' || s === 'off' || s === 'none') return null;
  if (s.startsWith('{')) { try { return JSON.parse(s) as unknown; } catch { return t; } }
  if (/^[\d.e+]+$/i.test(s) && Number.isFinite(Number(s))) return Number(s);
  const o: Obj = {};
  for (const item of s.split(',')) {
    const [k, v] = item.split('=').map((x) => x.trim());
    if (!k || v === undefined) return t;
    o[k] = /^[\d.e+-]+$/i.test(v) && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return o;
}

export const alertThreshold: FormatDef<ThresholdSpec | null> = {
  name: 'alert-threshold',
  expected: `null or 0 (off), ${THRESHOLD_EXPECTED}`,
  note: 'A number is the value to raise above; an object also sets clear (hysteresis, ≤ above), for (consecutive intervals), cooldown (a duration), window (intervals) and per ("key" or "total"). In the environment and on the command line: a number, JSON or "above=1e8,clear=8e7,for=2"; "off" turns it off.',
  keyed: true, // an object value: must travel through convict whole
  coerce: coerceThreshold,
  normalize: (raw) => (raw === null || raw === 0 || raw === undefined ? null : normalizeThreshold(raw, '')),
  render: (t) => (t ? renderThreshold(t) : null),
};

// ---- flow definitions ----

const FLOW_FIELDS = ['name', 'keys', 'value', 'filter', 'event', 'threshold', 'table', 'severity'];
const FLOWS_EXPECTED = 'a list of flow definitions ({ name, keys, value, filter, event | threshold })';

function normalizeEvent(raw: unknown, sub: string): FlowDefinition['event'] {
  const expected = '"each" or { suppress: DURATION }';
  const suppress = DEFINITION_DEFAULTS.suppress;
  if (raw === 'each' || raw === true) return { suppress };
  if (!isObj(raw)) throw new FormatError(expected, sub, raw);
  for (const k of Object.keys(raw)) if (k !== 'suppress') throw new FormatError('a known field: suppress', `${sub}.${k}`, raw[k]);
  try {
    return { suppress: raw.suppress === undefined ? suppress : duration.normalize(raw.suppress) };
  } catch {
    throw new FormatError(duration.expected, `${sub}.suppress`, raw.suppress);
  }
}

/** One definition object; `sub` is "[i]". */
export function normalizeFlow(raw: unknown, sub: string): FlowDefinition {
  if (!isObj(raw)) throw new FormatError('a flow definition object with name, keys, value and event or threshold', sub, raw);
  for (const k of Object.keys(raw)) {
    if (!FLOW_FIELDS.includes(k)) throw new FormatError(`a known field, one of ${FLOW_FIELDS.join(', ')}`, `${sub}.${k}`, raw[k]);
  }
  const name = checkedName(raw, sub);
  const keysRaw = typeof raw.keys === 'string' ? raw.keys.split(',').map((s) => s.trim()).filter(Boolean) : raw.keys ?? [];
  if (!Array.isArray(keysRaw)) throw new FormatError('a list of flow keys such as [ipsource, ipdestination]', `${sub}.keys`, raw.keys);
  const keys = keysRaw.map((k, j) => {
    if (typeof k !== 'string' || !ALERT_KEYS.includes(k.toLowerCase())) {
      throw new FormatError(`a flow key, one of ${ALERT_KEYS.join(', ')}`, `${sub}.keys[${j}]`, k);
    }
    return k.toLowerCase() as KeyName;
  });
  checkedKeyList(keys, raw, sub);
  const value = raw.value === undefined ? 'bytes' : raw.value;
  if (typeof value !== 'string' || !(VALUE_NAMES as readonly string[]).includes(value)) {
    throw new FormatError(`one of ${VALUE_NAMES.map((v) => `"${v}"`).join(', ')}`, `${sub}.value`, raw.value);
  }
  const filter = checkedFilter(raw, sub, 'direction=in & protocol=udp');
  const table = raw.table === undefined ? DEFINITION_DEFAULTS.table : whole(raw.table, `${sub}.table`, 1_000_000);
  const severity = raw.severity === undefined || raw.severity === null ? null : severityOf(raw.severity);
  if (severity === undefined) throw new FormatError(SEVERITY_EXPECTED, `${sub}.severity`, raw.severity);
  const event = raw.event === undefined || raw.event === null ? null : normalizeEvent(raw.event, `${sub}.event`);
  const threshold = raw.threshold === undefined || raw.threshold === null
    ? null : normalizeThreshold(raw.threshold, `${sub}.threshold`, keys.length ? 'key' : 'total');
  if (!event && !threshold) throw new FormatError('an "event" or a "threshold" (or both)', `${sub}.event`, raw.event);
  if (event && keys.length === 0) throw new FormatError('at least one key for an event definition', `${sub}.keys`, raw.keys);
  if (threshold?.per === 'key' && keys.length === 0) throw new FormatError('keys, or threshold.per "total"', `${sub}.keys`, raw.keys);
  return { name, keys, value: value as FlowDefinition['value'], filter, table, event, threshold, severity };
}

export const flowDefinitions: FormatDef<FlowDefinition[]> = {
  name: 'flow-definitions',
  expected: FLOWS_EXPECTED,
  note: 'See docs/alerts.md. In the environment and on the command line: a JSON list.',
  coerce: coerceJsonList,
  normalize: (raw) => namedItems(raw, FLOWS_EXPECTED, 'definition', normalizeFlow),
  render: (flows) => flows.map((f) => ({
    ...f,
    event: f.event ? { suppress: renderDuration(f.event.suppress) } : null,
    threshold: f.threshold ? renderThreshold(f.threshold) : null,
  })),
};

function shortcuts(what: string): Section {
  const out: Record<string, Section[string]> = {};
  for (const k of SHORTCUT_KEYS) {
    const dir = k.startsWith('in') ? 'in' : 'out';
    const metric = k.slice(dir.length).toLowerCase();
    out[k] = {
      doc: `Threshold on ${metric} ${dir === 'in' ? 'received' : 'sent'} per ${what} per interval (null/0 = off).`,
      format: alertThreshold,
      default: null,
    };
  }
  return out;
}

const S = SYSLOG_DEFAULTS;

export const alertsSection: Section = {
  alerts: {
    enabled: { doc: 'Evaluate the flow definitions and send alerts.', format: bool, default: true },
    rateLimit: {
      doc: 'Most alerts sent per second over all definitions; the excess is counted and reported in one "suppressed" alert per definition.',
      format: positiveInt,
      default: 1000,
    },
    flows: { doc: 'Flow definitions: keys, value, filter and an event or threshold (docs/alerts.md).', format: flowDefinitions, default: [] },
    hosts: shortcuts('local host'),
    groups: shortcuts('home group'),
    syslog: {
      host: { doc: 'Syslog receiver (name or address); "" = do not send syslog.', format: syslogHost, default: S.host },
      port: { doc: 'Syslog receiver port.', format: syslogPort, default: S.port },
      protocol: { doc: 'Transport: "udp", "tcp" or "tls" (RFC 5425).', format: oneOf(['udp', 'tcp', 'tls'] as const), default: S.protocol },
      framing: {
        doc: 'TCP/TLS framing: "octet-counting" (RFC 6587 / RFC 5425) or "lf" (newline-terminated).',
        format: oneOf(['octet-counting', 'lf'] as const),
        default: S.framing,
      },
      format: { doc: 'Message format: "rfc5424" (structured data, JSON message) or "rfc3164" (BSD).', format: oneOf(['rfc5424', 'rfc3164'] as const), default: S.format },
      facility: { doc: 'Syslog facility of alerts.', format: syslogFacility, default: S.facility },
      severity: { doc: 'Syslog severity of alerts (a definition may set its own).', format: syslogSeverity, default: S.severity },
      appName: { doc: 'APP-NAME (RFC 5424) / TAG (RFC 3164).', format: syslogAppName, default: S.appName },
      hostname: { doc: 'HOSTNAME field; "" = this machine\'s host name.', format: syslogHostname, default: S.hostname },
      sdId: { doc: 'SD-ID of the structured data element (RFC 5424); the default uses the documentation enterprise number.', format: syslogSdId, default: S.sdId },
      queue: { doc: 'Messages held while a TCP/TLS receiver is unreachable (UDP: sends in flight); past it the oldest are dropped and counted.', format: positiveInt, default: S.queue },
      connectTimeout: { doc: 'TCP/TLS connect (and handshake) timeout.', format: duration, default: renderDuration(S.connectTimeout) },
      reconnectMin: { doc: 'First delay before reconnecting to a TCP/TLS receiver; doubles per failure.', format: duration, default: renderDuration(S.reconnectMin) },
      reconnectMax: { doc: 'Longest delay between reconnection attempts.', format: duration, default: renderDuration(S.reconnectMax) },
      tls: {
        ca: { doc: 'PEM file of the CA(s) that sign the receiver\'s certificate; "" = the system CAs.', format: text, default: S.tls.ca },
        cert: { doc: 'PEM file of a client certificate (mutual TLS); "" = none.', format: text, default: S.tls.cert },
        key: { doc: 'PEM file of the client certificate\'s private key.', format: text, default: S.tls.key },
        verify: { doc: 'Verify the receiver\'s certificate and name. Turn off only for tests.', format: bool, default: S.tls.verify },
        servername: { doc: 'Name to verify in the receiver\'s certificate (and SNI); "" = the host.', format: text, default: S.tls.servername },
      },
    },
  },
};

/** The formats this section defines, for the configuration reference (reference.ts lists FORMATS + these). */
export const ALERT_FORMATS: readonly FormatDef[] = [
  flowDefinitions, alertThreshold, syslogHost, syslogPort, syslogFacility, syslogSeverity, syslogAppName, syslogHostname, syslogSdId,
] as FormatDef[];
