// The configuration schema, built from sections so later components (sinks, alerts, web) add theirs in
// their own files: export a Section, list it in SECTIONS below and extend `Config`. Env and CLI names
// are derived from the key path, so they cannot drift: aggregate.topHosts → FLOWBRIDGE_AGGREGATE_TOP_HOSTS
// and --aggregate-top-hosts.
import {
  bool, duration, hostPortList, oneOf, positiveInt, prefixGroups, prefixList, rateMap, text, wholeSeconds,
  type FormatDef,
} from './formats.js';
import { renderDuration } from '../lib/duration.js';
import { RECORD_LIMITS_DEFAULTS } from '../flow/normalize.js';
import { AGGREGATOR_DEFAULTS, ASSIGN_MODES, type AssignMode } from '../aggregate/aggregator.js';
import { instanceName, sinksSection, type SinksConfig } from './sinks.js';
import { alertsSection, type AlertsConfig } from './alerts.js';
import { webSection, type WebConfig } from './web.js';
import { viewsSection, type ViewsConfig } from './views.js';
import { interfacesSection, type InterfacesConfig } from './interfaces.js';
import { FormatError } from './formats.js';
import { TEMPLATE_CACHE_DEFAULTS } from '../decode/templates.js';
import { STATE_DEFAULTS, stateFileProblem } from '../decode/state.js';
import { UDP_DEFAULTS } from '../ingest/udp.js';
import { isLeaf, type Leaf, type Section } from './section.js';


// ---- the loaded configuration (normalized: durations in ms, host:port and prefixes canonical text) ----

export type OutputFormat = 'console' | 'json' | 'none';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** host:port lists hold canonical text ("0.0.0.0:2055", "[::]:2055"); split with lib/hostport.ts. */
export interface ListenConfig {
  netflow: string[];
  sflow: string[];
  extra: string[];
  recvBufferSize: number;
  thread: boolean;
}
export interface AggregateConfig {
  assign: AssignMode;
  hold: number;
  maxFlowDuration: number;
  maxPacketBytes: number;
  maxLinkGbps: number;
  topHosts: number;
  topPorts: number;
  maxHosts: number;
  maxPorts: number;
  maxViewTuples: number;
  perExporter: boolean;
}
export interface Config extends SinksConfig, AlertsConfig, WebConfig, ViewsConfig, InterfacesConfig {
  listen: ListenConfig;
  exporters: { allow: string[] };
  /** Group name → canonical prefixes. */
  networks: Record<string, string[]>;
  /** Milliseconds, a whole number of seconds. */
  interval: number;
  aggregate: AggregateConfig;
  sampling: { default: number; overrides: Record<string, number>; maxRate: number };
  /** Durations in ms, sizes in bytes (see TEMPLATE_CACHE_DEFAULTS). */
  templates: {
    ttl: number; max: number; maxBytes: number; maxPerExporter: number; maxBytesPerExporter: number;
    pendingTtl: number; pendingMaxSets: number; pendingMaxSetsPerExporter: number; pendingMaxBytesPerExporter: number;
    pendingMaxBytes: number;
  };
  /** Durations in ms, maxBytes in bytes (see STATE_DEFAULTS). */
  state: { file: string; saveEvery: number; minInterval: number; maxBytes: number };
  output: { format: OutputFormat; path: string };
  log: { level: LogLevel };
  /** Milliseconds. */
  shutdownTimeout: number;
  /** This collector's name among several writing to one database (docs/scaling.md); "" = none. */
  instance: string;
}

// ---- sections ----

const listen: Section = {
  listen: {
    netflow: {
      doc: 'UDP addresses to receive flows on. Every port auto-detects NetFlow v5/v9, IPFIX and sFlow; this list is for the customary NetFlow/IPFIX port.',
      format: hostPortList,
      default: ['0.0.0.0:2055', '[::]:2055'],
    },
    sflow: {
      doc: 'UDP addresses for the customary sFlow port (the format is auto-detected as on every port).',
      format: hostPortList,
      default: ['0.0.0.0:6343', '[::]:6343'],
    },
    extra: { doc: 'More UDP addresses to receive flows on (any format).', format: hostPortList, default: [] },
    recvBufferSize: {
      doc: 'Socket receive buffer (SO_RCVBUF) in bytes; the kernel may cap it (net.core.rmem_max).',
      format: positiveInt,
      default: UDP_DEFAULTS.recvBufferSize,
    },
    thread: {
      doc: 'Read the UDP sockets in a worker thread that hands the datagrams over in batches, leaving the main thread to decoding and counting (reading costs about 5 µs a datagram); false reads them on the main thread.',
      format: bool,
      default: true,
    },
  },
};

const exporters: Section = {
  exporters: {
    allow: {
      doc: 'Exporter source prefixes to accept datagrams from; empty = any. Others are counted and dropped.',
      format: prefixList,
      default: [],
    },
  },
};

const networks: Section = {
  networks: {
    doc: 'Home networks by group. Flows are in/out/internal/external relative to the union; a host belongs to the group of its longest matching prefix. The CLI shortcut --home replaces this with one "home" group.',
    format: prefixGroups,
    default: { home: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] },
  },
};

const A = AGGREGATOR_DEFAULTS;
const aggregate: Section = {
  interval: {
    doc: 'Length of one counting interval.',
    format: wholeSeconds,
    default: renderDuration(A.intervalMs),
  },
  aggregate: {
    assign: {
      doc: 'How a flow is put into intervals: "spread" over its start–end span, "end" all at its end time, "arrival" all at receipt time.',
      format: oneOf(ASSIGN_MODES),
      default: A.assign,
    },
    hold: {
      doc: 'How long an interval stays open after its end for late and spread records.',
      format: duration,
      default: renderDuration(A.holdMs),
    },
    maxFlowDuration: {
      doc: 'Longest plausible flow, a little over the longest active timeout of your exporters (softflowd\'s maxlife defaults to 7 days: set it lower there, or raise this). A record spanning more, ending before it starts, or ending this far after its datagram arrived is counted as bad_time and put at its end (at its arrival when the end is wrong), as assign "end" would.',
      format: duration,
      default: renderDuration(RECORD_LIMITS_DEFAULTS.maxFlowDurationMs),
    },
    maxPacketBytes: {
      doc: 'Largest plausible IP packet in bytes; a record claiming more bytes per packet is clamped to it and counted as bad_counter.',
      format: positiveInt,
      default: RECORD_LIMITS_DEFAULTS.maxPacketBytes,
    },
    maxLinkGbps: {
      doc: 'Speed of the fastest link, in Gb/s: a record claiming more bytes or minimum-size packets (times its sampling rate) than that link carries over the record\'s span (at least 1 s) is clamped and counted as bad_counter.',
      format: positiveInt,
      default: RECORD_LIMITS_DEFAULTS.maxLinkBps / 1e9,
    },
    topHosts: { doc: 'Hosts reported per interval (largest first).', format: positiveInt, default: A.topHosts },
    topPorts: { doc: 'Ports reported per interval (largest first).', format: positiveInt, default: A.topPorts },
    maxHosts: {
      doc: 'Cap on distinct local hosts tracked across the open intervals (the current one and those held open for late records); past it hosts fold into "other" and are counted as dropped.',
      format: positiveInt,
      default: A.maxHosts,
    },
    maxPorts: { doc: 'Cap on distinct ports tracked across the open intervals.', format: positiveInt, default: A.maxPorts },
    maxViewTuples: {
      doc: 'Cap on distinct key tuples each view (views) tracks across the open intervals; past it a record counts in the view\'s "other" and in view_tuples_capped_total{view}, so a spoofed flood cannot grow memory.',
      format: positiveInt,
      default: A.maxViewTuples,
    },
    perExporter: { doc: 'Also keep totals per exporter.', format: bool, default: A.perExporter },
  },
};

const sampling: Section = {
  sampling: {
    default: {
      doc: 'Sampling rate assumed when the exporter does not say (1 = unsampled).',
      format: positiveInt,
      default: 1,
    },
    overrides: {
      doc: 'Sampling rate per exporter address; wins over what the exporter says.',
      format: rateMap,
      default: {},
    },
    maxRate: {
      doc: 'Largest plausible sampling rate (1 in N). A record whose rate is above it, below 1 or 0 in sFlow is counted as bad_sampling and counted at sampling.default instead.',
      format: positiveInt,
      default: RECORD_LIMITS_DEFAULTS.maxRate,
    },
  },
};

const T = TEMPLATE_CACHE_DEFAULTS, S = STATE_DEFAULTS;

const STATE_FILE_EXPECTED = '"" or the path of a file whose directory exists or can be created, not on a kernel file system such as /proc or /sys';
/** A state file path that could ever be written: checked when the configuration loads (exit 2), not at the first save. */
const stateFile: FormatDef<string> = {
  name: 'state-file',
  expected: STATE_FILE_EXPECTED,
  note: 'A relative path is relative to the working directory. Checked when the configuration loads, without writing: a path under a regular file, an existing directory, or a directory on proc, sysfs or cgroup is refused; missing directories are made at the first save.',
  normalize(raw) {
    if (typeof raw !== 'string') throw new FormatError(STATE_FILE_EXPECTED);
    const problem = stateFileProblem(raw);
    if (problem !== undefined) throw new FormatError(`${STATE_FILE_EXPECTED} (${problem})`);
    return raw;
  },
};

/** The formats this file defines, for the configuration reference (next to FORMATS and SINK_FORMATS). */
export const STATE_FORMATS: readonly FormatDef[] = [stateFile];

const templates: Section = {
  templates: {
    ttl: { doc: 'NetFlow v9/IPFIX templates not refreshed for this long are forgotten.', format: duration, default: renderDuration(T.ttlMs) },
    max: {
      doc: 'Cap on templates kept over all exporters, a last resort behind the per-exporter quotas: past it the templates of the least recently used exporter are evicted (first those of exporters whose templates never decoded a data set) and counted in templates_evicted_total.',
      format: positiveInt,
      default: T.maxTemplates,
    },
    maxBytes: {
      doc: 'Cap on the estimated memory of all templates, in bytes (1.8 KB plus 16 bytes a field each); past it, as templates.max.',
      format: positiveInt,
      default: T.maxBytes,
    },
    maxPerExporter: {
      doc: 'Templates one exporter (source address) may have cached, over all versions and observation domains; its further new templates are refused and counted in templates_refused_total{reason="exporter_templates"}. A big router sends a few hundred.',
      format: positiveInt,
      default: T.maxPerExporter,
    },
    maxBytesPerExporter: {
      doc: 'Estimated memory of one exporter\'s templates, in bytes; past it its new templates are refused and counted (reason "exporter_bytes").',
      format: positiveInt,
      default: T.maxBytesPerExporter,
    },
    pendingTtl: {
      doc: 'How long data sets that arrived before their template are kept waiting for it.',
      format: duration,
      default: renderDuration(T.pendingTtlMs),
    },
    pendingMaxSets: {
      doc: 'Cap on data sets waiting for one template (exporter, version, domain and template id); past it the oldest are dropped and counted as template misses.',
      format: positiveInt,
      default: T.pendingMaxSets,
    },
    pendingMaxSetsPerExporter: {
      doc: 'Cap on data sets waiting for templates, per exporter; past it that exporter\'s oldest are dropped and counted as template misses.',
      format: positiveInt,
      default: T.pendingMaxSetsPerExporter,
    },
    pendingMaxBytesPerExporter: {
      doc: 'Bytes of data sets waiting for templates, per exporter (64 more counted per set); past it that exporter\'s oldest are dropped.',
      format: positiveInt,
      default: T.pendingMaxBytesPerExporter,
    },
    pendingMaxBytes: {
      doc: 'Bytes of data sets waiting for templates over all exporters; past it the oldest are dropped.',
      format: positiveInt,
      default: T.pendingMaxBytes,
    },
  },
  state: {
    file: {
      doc: 'File the live collector persists templates, sampling rates and learned interface names in, so a restart has no template gap; "" = do not persist. Replay never reads or writes it. A path that can never be written (its directory under a file or on /proc) stops the collector at start-up; a save that fails later is retried, less and less often, and counted in state_save_errors_total.',
      format: stateFile,
      default: '.flowbridge/state.json',
    },
    saveEvery: { doc: 'How often the state file is written even when nothing changed (template ages).', format: duration, default: renderDuration(S.saveEveryMs) },
    minInterval: {
      doc: 'Least time between two writes of the state file: a change is written at once unless the file was written less than this ago, then when this has passed.',
      format: duration,
      default: renderDuration(S.minIntervalMs),
    },
    maxBytes: {
      doc: 'Largest state file written, in bytes: past it the templates of the least recently used exporters are left out (counted in state_templates_unsaved). Larger files (up to 4 times this) are still read.',
      format: positiveInt,
      default: S.maxBytes,
    },
  },
};

const output: Section = {
  output: {
    format: {
      doc: 'Interval summaries: "console" (readable table), "json" (one JSON object per line) or "none".',
      format: oneOf(['console', 'json', 'none'] as const),
      default: 'console',
    },
    path: {
      doc: 'Where summaries go: "-" = standard output, else a file that JSON lines are appended to.',
      format: text,
      default: '-',
    },
  },
  log: {
    level: {
      doc: 'Least severe log messages written (to standard error, as JSON lines).',
      format: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
      default: 'info',
    },
  },
  shutdownTimeout: {
    doc: 'On SIGINT/SIGTERM, how long to wait for the last intervals to flush before exiting anyway.',
    format: duration,
    default: '10s',
  },
  instance: {
    doc: 'Name of this collector when several write to the same InfluxDB or Graphite (docs/scaling.md): the InfluxDB sink adds the tag "instance" with this value to every point, the Graphite sink a path node after graphite.prefix (a tag when graphite.tagged). "" = a single collector: no tag, no node.',
    format: instanceName,
    default: '',
  },
};

/** Every section, in documentation order. Add new sections here. */
export const SECTIONS: readonly Section[] = [
  listen, exporters, networks, aggregate, sampling, templates, output, viewsSection, interfacesSection, sinksSection, alertsSection,
  webSection,
];

/** Merges sections into one schema; a top-level key defined twice is a programming error. */
export function composeSchema(sections: readonly Section[]): Section {
  const out: Record<string, Leaf | Section> = {};
  for (const s of sections) {
    for (const [k, v] of Object.entries(s)) {
      if (k in out) throw new Error(`config schema: "${k}" is defined by two sections`);
      out[k] = v;
    }
  }
  return out;
}

export const schema: Section = composeSchema(SECTIONS);

export interface LeafInfo {
  /** Dotted key path, e.g. "aggregate.topHosts". */
  path: string;
  parts: string[];
  leaf: Leaf;
  env: string;
  arg: string;
}

function words(parts: string[]): string[] {
  return parts.flatMap((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(' '));
}

export function envName(parts: string[]): string {
  return `FLOWBRIDGE_${words(parts).join('_').toUpperCase()}`;
}

export function argName(parts: string[]): string {
  return words(parts).join('-');
}

/** Every leaf of a schema in definition order, with its derived env and CLI names. */
export function listLeaves(s: Section, prefix: string[] = []): LeafInfo[] {
  const out: LeafInfo[] = [];
  for (const [k, node] of Object.entries(s)) {
    const parts = [...prefix, k];
    if (isLeaf(node)) out.push({ path: parts.join('.'), parts, leaf: node, env: envName(parts), arg: argName(parts) });
    else out.push(...listLeaves(node, parts));
  }
  return out;
}
