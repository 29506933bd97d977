// Configuration of the InfluxDB and Graphite sinks (docs/sinks.md), and its mapping to each sink's
// options. schema.ts lists the section. Defaults come from each sink's DEFAULTS object, so they are
// written down once.
import { readFileSync } from 'node:fs';
import { INFLUX_DEFAULTS, type InfluxSinkOptions } from '../export/influx.js';
import { InfluxConfigError } from '../export/influx-v1.js';
import { GRAPHITE_DEFAULTS, type GraphiteSinkOptions } from '../export/graphite.js';
import { MEASUREMENTS } from '../export/series.js';
import {
  bool, duration, FormatError, hostPort, httpUrl, oneOf, parseHostPort, positiveInt, text, type FormatDef,
} from './formats.js';
import { renderDuration } from '../lib/duration.js';
import type { Section } from './section.js';

export interface SinksConfig {
  influx: {
    enabled: boolean;
    url: string;
    api: 'v2' | 'v1';
    token: string;
    tokenFile: string;
    org: string;
    bucket: string;
    /** durations in ms */
    timeout: number;
    batchSize: number;
    maxBufferLines: number;
    maxRetries: number;
    maxRetryTime: number;
    minRetryDelay: number;
    maxRetryDelay: number;
    gzip: boolean;
  };
  graphite: {
    enabled: boolean;
    /** canonical host:port (graphiteOptions splits it) */
    address: string;
    protocol: 'tcp' | 'udp';
    prefix: string;
    tagged: boolean;
    maxQueueLines: number;
    /** durations in ms */
    minRetryDelay: number;
    maxRetryDelay: number;
    connectTimeout: number;
    /** ms; 0 = never warn */
    warnAge: number;
  };
}

const I = INFLUX_DEFAULTS, G = GRAPHITE_DEFAULTS;

/** Graphite nodes that follow the prefix: an instance named like one would make dashboard globs ambiguous. */
const RESERVED_INSTANCES = MEASUREMENTS.map((m) => m.graphite);

/**
 * The top-level `instance` key (schema.ts): an InfluxDB tag value and a Graphite path node as it is,
 * with no escaping, and not the name of a Graphite subtree.
 */
export const instanceName: FormatDef<string> = {
  name: 'instance-name',
  expected: `"" or up to 64 letters, digits, "_" and "-", not ${RESERVED_INSTANCES.map((n) => JSON.stringify(n)).join(', ')}`,
  normalize(raw) {
    if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]{0,64}$/.test(raw) || RESERVED_INSTANCES.includes(raw)) {
      throw new FormatError(this.expected);
    }
    return raw;
  },
};

/** The formats this file defines, for the configuration reference (next to FORMATS and ALERT_FORMATS). */
export const SINK_FORMATS: readonly FormatDef[] = [instanceName];

export const sinksSection: Section = {
  influx: {
    enabled: { doc: 'Write interval summaries and alerts to InfluxDB (schema: docs/metrics.md).', format: bool, default: false },
    url: { doc: 'InfluxDB base URL (http or https); put credentials in influx.token, not here.', format: httpUrl, default: I.url },
    api: {
      doc: 'Write endpoint: "v2" = /api/v2/write (InfluxDB 2.x, 3.x, and 1.8+ with token "user:password" and bucket "db/rp"); "v1" = /write?db=&rp= with basic auth from token "user:password", for InfluxDB 1.0–1.7.',
      format: oneOf(['v2', 'v1'] as const),
      default: I.api,
    },
    token: {
      doc: 'API token; for InfluxDB 1.x "username:password" (empty: no authentication, warned about with api "v2"). Prefer influx.tokenFile.',
      format: text,
      default: I.token,
      sensitive: true,
    },
    tokenFile: {
      doc: 'File holding the token (surrounding whitespace ignored); when set it replaces influx.token.',
      format: text,
      default: '',
    },
    org: { doc: 'Organization (InfluxDB 2.x); ignored by 1.8+ and 3.x.', format: text, default: I.org },
    bucket: {
      doc: 'Bucket (2.x); database (3.x); "database" or "database/retention-policy" (1.x).',
      format: text,
      default: I.bucket,
    },
    timeout: { doc: 'Timeout of one write request.', format: duration, default: renderDuration(I.timeoutMs) },
    batchSize: {
      doc: 'Lines per write request; keep it above the series of one interval so each interval is one request.',
      format: positiveInt,
      default: I.batchSize,
    },
    maxBufferLines: {
      doc: 'Lines kept for retry while InfluxDB is unreachable; past it the oldest are dropped and counted.',
      format: positiveInt,
      default: I.maxBufferLines,
    },
    maxRetries: { doc: 'Retries of one failed write before its lines are given up.', format: positiveInt, default: I.maxRetries },
    maxRetryTime: {
      doc: 'How long a failed write is retried before its lines are given up.',
      format: duration,
      default: renderDuration(I.maxRetryTimeMs),
    },
    minRetryDelay: { doc: 'First retry delay; doubles per failure.', format: duration, default: renderDuration(I.minRetryDelayMs) },
    maxRetryDelay: { doc: 'Longest retry delay.', format: duration, default: renderDuration(I.maxRetryDelayMs) },
    gzip: { doc: 'Compress write requests (gzip) above 1000 bytes.', format: bool, default: I.gzip },
  },
  graphite: {
    enabled: { doc: 'Write interval summaries and alerts to Graphite (carbon plaintext protocol).', format: bool, default: false },
    address: { doc: 'carbon receiver, host:port (the plaintext line receiver listens on 2003).', format: hostPort, default: `${G.host}:${G.port}` },
    protocol: {
      doc: 'Transport: "tcp" (reconnects with backoff, queues while carbon is down) or "udp" (fire and forget).',
      format: oneOf(['tcp', 'udp'] as const),
      default: G.protocol,
    },
    prefix: { doc: 'First node(s) of every metric path, e.g. "flowbridge" or "site1.flows"; "" = none.', format: text, default: G.prefix },
    tagged: {
      doc: 'Write Graphite 1.1 tagged series (flowbridge.hosts.bytes;direction=in;host=10.1.0.5) instead of dotted paths.',
      format: bool,
      default: G.tagged,
    },
    maxQueueLines: {
      doc: 'Lines queued while carbon is unreachable; past it the oldest are dropped and counted.',
      format: positiveInt,
      default: G.maxQueueLines,
    },
    minRetryDelay: { doc: 'First reconnect delay; doubles per failure.', format: duration, default: renderDuration(G.minRetryDelayMs) },
    maxRetryDelay: { doc: 'Longest reconnect delay.', format: duration, default: renderDuration(G.maxRetryDelayMs) },
    connectTimeout: { doc: 'Timeout of one TCP connect.', format: duration, default: renderDuration(G.connectTimeoutMs) },
    warnAge: {
      doc: 'Warn (rate-limited) when an interval written is older than this: carbon files old points in a coarser archive, where the points of one slot overwrite each other (replay old captures with --shift-to-now; docs/sinks.md). 0 = never warn.',
      format: duration,
      default: renderDuration(G.warnAgeMs),
    },
  },
};

// ---- the sinks' options ----

/** Sink options from the loaded configuration; reads influx.tokenFile when set. `instance` is the top-level key. */
export function influxOptions(cfg: SinksConfig['influx'], stopTimeoutMs: number, instance = ''): Partial<InfluxSinkOptions> {
  let token = cfg.token;
  if (cfg.tokenFile !== '') {
    try {
      token = readFileSync(cfg.tokenFile, 'utf8').trim();
    } catch (e) {
      throw new InfluxConfigError('influx.tokenFile', `config: influx.tokenFile = ${JSON.stringify(cfg.tokenFile)}: expected a readable file (${(e as Error).message})`);
    }
  }
  return {
    url: cfg.url, api: cfg.api, token, org: cfg.org, bucket: cfg.bucket, timeoutMs: cfg.timeout,
    batchSize: cfg.batchSize, maxBufferLines: cfg.maxBufferLines, maxRetries: cfg.maxRetries,
    maxRetryTimeMs: cfg.maxRetryTime, minRetryDelayMs: cfg.minRetryDelay, maxRetryDelayMs: cfg.maxRetryDelay,
    gzip: cfg.gzip, stopTimeoutMs, instance,
  };
}

/** Graphite sink options from the loaded configuration; `instance` is the top-level key of that name. */
export function graphiteOptions(cfg: SinksConfig['graphite'], stopTimeoutMs: number, instance = ''): Partial<GraphiteSinkOptions> {
  const hp = parseHostPort(cfg.address);
  if (!hp) throw new Error(`graphite.address ${cfg.address} is not host:port`); // the config format validated it
  return {
    host: hp.host, port: hp.port, protocol: cfg.protocol, prefix: cfg.prefix, tagged: cfg.tagged, instance,
    maxQueueLines: cfg.maxQueueLines, minRetryDelayMs: cfg.minRetryDelay, maxRetryDelayMs: cfg.maxRetryDelay,
    connectTimeoutMs: cfg.connectTimeout, warnAgeMs: cfg.warnAge, stopTimeoutMs,
  };
}
