// The Grafana dashboards as data for the tests: the bundled ones and those the generator makes for a
// configuration (src/dashboards/), their queries, variables and datasources; the series schema as
// docs/metrics.md states it (parsed from its tables, so there is one list of names), with the measurements
// of configured views; and Grafana's variable substitution, enough to run the queries as Grafana sends them.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ViewSpec } from '../../src/aggregate/views.js';
import { graphiteDashboard, influxDashboard, type DashboardConfig } from '../../src/dashboards/index.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const DASHBOARDS = { influxdb: 'grafana/dashboards/flowbridge-influxdb.json', graphite: 'grafana/dashboards/flowbridge-graphite.json' };

type Obj = Record<string, unknown>;
export interface Dashboard extends Obj { uid: string; title: string; schemaVersion: number; panels: Panel[]; templating: { list: Variable[] }; annotations: { list: Obj[] } }
export interface Panel extends Obj { id: number; type: string; title: string; datasource?: Obj; targets?: Obj[]; panels?: Panel[] }
export interface Variable extends Obj {
  name: string; type: string; query: string | VariableQuery; includeAll?: boolean; multi?: boolean; allValue?: string; regex?: string; datasource?: Obj;
}
/** A Graphite variable query in object form: "Metric Name" runs `target` through /render and takes the series names. */
export interface VariableQuery { queryType: string; refId: string; target: string }
/** one query of a dashboard: a panel target, a variable or an annotation */
export interface Query { where: string; text: string }

export function loadDashboard(kind: keyof typeof DASHBOARDS): Dashboard {
  return JSON.parse(readFileSync(ROOT + DASHBOARDS[kind], 'utf8')) as Dashboard;
}

/** The generator's dashboard for a configuration, as Grafana reads it (JSON). */
export function generatedDashboard(kind: keyof typeof DASHBOARDS, cfg: DashboardConfig): Dashboard {
  const d = kind === 'influxdb' ? influxDashboard(cfg) : graphiteDashboard(cfg);
  return JSON.parse(JSON.stringify(d)) as Dashboard;
}

/** The measurements an InfluxQL query reads (FROM, quoted names unquoted). */
export function measurementsOf(q: string): string[] {
  return [...q.matchAll(/FROM ("(?:\\.|[^"])*"|\w+)/g)].map((m) => m[1]!.replace(/^"(.*)"$/, '$1'));
}

export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Panel targets and the annotation queries; `field` is "query" (InfluxQL) or "target" (Graphite). */
export function panelQueries(d: Dashboard, field: 'query' | 'target'): Query[] {
  const out: Query[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) if (typeof t[field] === 'string') out.push({ where: `panel "${p.title}" ${String(t.refId)}`, text: t[field] as string });
  }
  for (const a of d.annotations.list) {
    const t = a.target as Obj | undefined;
    if (t && typeof t[field] === 'string') out.push({ where: `annotation "${String(a.name)}"`, text: t[field] as string });
  }
  return out;
}

export function queryVariables(d: Dashboard): Variable[] {
  return d.templating.list.filter((v) => v.type === 'query');
}

/** A variable's query as Grafana runs it: a find pattern (or InfluxQL) as text, or a render target. */
export function variableQuery(v: Variable): { kind: 'find' | 'render'; text: string } {
  if (typeof v.query === 'string') return { kind: 'find', text: v.query };
  if (v.query.queryType !== 'Metric Name') throw new Error(`variable ${v.name}: query type ${v.query.queryType}`);
  return { kind: 'render', text: v.query.target };
}

/** Every {type, uid} datasource reference anywhere in the dashboard, but Grafana's built-in one. */
export function datasourceRefs(d: unknown, path = ''): { path: string; type: string; uid: string }[] {
  if (Array.isArray(d)) return d.flatMap((x, i) => datasourceRefs(x, `${path}[${i}]`));
  if (typeof d !== 'object' || d === null) return [];
  const o = d as Obj;
  const out: { path: string; type: string; uid: string }[] = [];
  const ds = o.datasource as Obj | undefined;
  if (ds && typeof ds === 'object' && ds.type !== 'grafana') out.push({ path, type: String(ds.type), uid: String(ds.uid) });
  for (const [k, v] of Object.entries(o)) if (k !== 'datasource') out.push(...datasourceRefs(v, `${path}.${k}`));
  return out;
}

export function provisionedDatasources(): { uid: string; type: string; jsonData: Obj }[] {
  const y = parseYaml(readFileSync(`${ROOT}grafana/provisioning/datasources/flowbridge.yaml`, 'utf8')) as { datasources: { uid: string; type: string; jsonData: Obj }[] };
  return y.datasources;
}

// ---- the schema, from docs/metrics.md ----

export interface MeasurementDoc {
  name: string;
  /** Graphite path pattern with the default prefix, e.g. flowbridge.total.<direction>.<field> */
  graphite: string;
  tags: string[];
  fields: string[];
  /** fields that exist in Graphite (alerts: value and threshold only) */
  graphiteFields: string[];
}
export interface SchemaDoc {
  measurements: Map<string, MeasurementDoc>;
  /** the views and interface counters table's `interface_counters` (its fields from the table after it) */
  interfaceCounters: MeasurementDoc;
  /** the fields of a `view_<name>` */
  viewFields: string[];
  /** whether the doc names the `ifname` tag of interface views and interface_counters */
  ifnameDocumented: boolean;
  directions: string[];
  /** tags every measurement may carry (`instance`, docs/metrics.md "## Tags") */
  commonTags: string[];
  /** the Graphite subtrees under the prefix: the measurements', then those of views and interface counters */
  subtrees: string[];
}

interface Table { heading: string; header: string[]; rows: string[][] }

function tablesOf(md: string): Table[] {
  const out: Table[] = [];
  let heading = '', cur: Table | undefined;
  for (const line of md.split('\n')) {
    if (!line.startsWith('|')) {
      cur = undefined;
      if (line.startsWith('#') || line.startsWith('**')) heading = line;
      continue;
    }
    const cells = line.slice(1, line.lastIndexOf('|')).split('|').map((c) => c.trim());
    if (!cur) out.push((cur = { heading, header: cells, rows: [] }));
    else if (!cells.every((c) => /^:?-+:?$/.test(c))) cur.rows.push(cells);
  }
  return out;
}

const ticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

export function loadSchemaDoc(): SchemaDoc {
  const md = readFileSync(`${ROOT}docs/metrics.md`, 'utf8');
  const tables = tablesOf(md);
  const find = (what: string, pred: (t: Table) => boolean): Table => {
    const t = tables.find(pred);
    if (!t) throw new Error(`docs/metrics.md: no ${what} table`);
    return t;
  };
  const main = find('measurement', (t) => t.header[0] === 'InfluxDB measurement');
  const names = (t: Table) => t.rows.flatMap((r) => ticked(r[0]!));
  const explicit = new Set(main.rows.flatMap((r) => ticked(r[3]!)));
  // "rates" is the rates table less the fields a row names explicitly ("rates, `records`")
  const rates = names(find('rates', (t) => t.heading.startsWith('**Rates**'))).filter((n) => !explicit.has(n));
  const collector = names(find('collector fields', (t) => t.heading.includes('`collector` fields')));
  const sinks = names(find('sinks fields', (t) => t.heading.includes('`sinks` fields')));
  const alertRows = find('alerts', (t) => t.heading.startsWith('## `alerts`')).rows;
  const alertFields = alertRows.filter((r) => r[1] !== 'tag').flatMap((r) => ticked(r[0]!));
  const graphiteAlert = ticked(/^Graphite gets (.*) only\.$/m.exec(md)?.[1] ?? '');
  const groups: Record<string, string[]> = { rates, 'collector counters': collector, 'sink counters': sinks, 'alert fields': alertFields };

  const measurements = new Map<string, MeasurementDoc>();
  for (const r of main.rows) {
    const name = ticked(r[0]!)[0]!;
    const fields = [...(groups[r[3]!.replace(/,?\s*`[^`]+`/g, '').trim()] ?? []), ...ticked(r[3]!)];
    if (fields.length === 0) throw new Error(`docs/metrics.md: no fields for ${name} ("${r[3]}")`);
    measurements.set(name, {
      name, graphite: ticked(r[1]!)[0]!, tags: ticked(r[2]!), fields,
      graphiteFields: name === 'alerts' ? graphiteAlert : fields,
    });
  }
  // "- `direction`: `in`, `out`, `internal`, `external` (relative to …": the list before the parenthesis
  const directions = ticked((/^- `direction`: (.*)$/m.exec(md)?.[1] ?? '').split(' (')[0]!);
  // "- `instance`: … every measurement …": a tag of all of them, when the collector has one
  const commonTags = [...md.matchAll(/^- `(\w+)`: [^\n]*every measurement/gm)].map((m) => m[1]!);
  const viewTable = find('views and interface counters', (t) => t.heading.includes('Views and interface counters'));
  const subtrees = [...measurements.values()].map((m) => m.graphite.split('.')[1]!)
    .concat(viewTable.rows.map((r) => ticked(r[1]!)[0]!.split('.')[1]!));
  const ifRow = viewTable.rows.find((r) => ticked(r[0]!)[0] === 'interface_counters');
  const viewRow = viewTable.rows.find((r) => ticked(r[0]!)[0] === 'view_<name>');
  if (!ifRow || !viewRow) throw new Error('docs/metrics.md: no view_<name> or interface_counters row');
  const ifFields = names(find('interface counters fields', (t) => t !== viewTable && t.heading.includes('Views and interface counters') && t.header[0] === 'field'));
  const ifnameDocumented = /`ifname`/.test(md);
  const interfaceCounters: MeasurementDoc = {
    name: 'interface_counters', graphite: ticked(ifRow[1]!)[0]!, tags: [...new Set([...ticked(ifRow[2]!), IFNAME])],
    fields: ifFields, graphiteFields: ifFields,
  };
  if (!/rates/.test(viewRow[3]!)) throw new Error(`docs/metrics.md: view_<name> fields "${viewRow[3]}"`);
  return { measurements, directions, commonTags, subtrees, interfaceCounters, viewFields: rates, ifnameDocumented };
}

/** The optional interface name tag (interface views and interface_counters; plain Graphite paths have none). */
export const IFNAME = 'ifname';

/**
 * The schema with the measurements of `views` and interface_counters, as docs/metrics.md words them:
 * a tag per key in key order (`group` is `network`; `direction` in a view per direction is
 * `flowdirection`), `direction` when per direction, `ifname` with the `interface` key.
 */
export function withViews(schema: SchemaDoc, views: readonly ViewSpec[]): SchemaDoc {
  const measurements = new Map(schema.measurements);
  measurements.set('interface_counters', schema.interfaceCounters);
  for (const v of views) {
    const per = v.per === 'direction';
    const keyTags = v.keys.map((k) => (k === 'group' ? 'network' : k === 'direction' && per ? 'flowdirection' : k));
    const node = v.name.replace(/:/g, '-').replace(/[^A-Za-z0-9_-]/g, '_');
    measurements.set(`view_${v.name}`, {
      name: `view_${v.name}`,
      graphite: ['flowbridge', 'views', node, ...keyTags.map((k) => `<${k}>`), ...(per ? ['<direction>'] : []), '<field>'].join('.'),
      tags: [...keyTags, ...(per ? ['direction'] : []), ...(v.keys.includes('interface') ? [IFNAME] : [])],
      fields: schema.viewFields, graphiteFields: schema.viewFields,
    });
  }
  return { ...schema, measurements };
}

// ---- InfluxQL: which measurements, tags and fields a query names ----

const KEYWORDS = new Set(['select', 'from', 'where', 'and', 'or', 'group', 'by', 'fill', 'null', 'none', 'previous', 'linear', 'order', 'desc',
  'asc', 'limit', 'slimit', 'offset', 'soffset', 'as', 'show', 'tag', 'values', 'with', 'key', 'time', 'not', 'in', 'tz']);
// `time` is also GROUP BY time(…): a keyword followed by "(" is not a function call
const FUNCTIONS = new Set(['mean', 'sum', 'max', 'min', 'last', 'first', 'count', 'top', 'bottom', 'median', 'mode', 'spread', 'stddev',
  'percentile', 'derivative', 'non_negative_derivative', 'difference', 'integral', 'moving_average', 'cumulative_sum', 'distinct']);

interface Tok { t: 'id' | 'str' | 're' | 'num' | 'var' | 'op' | 'punct'; v: string }

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!, rest = q.slice(i);
    let m: RegExpExecArray | null;
    if (/\s/.test(c)) { i++; continue; }
    if ((m = /^(=~|!~|!=|<>|<=|>=|=|<|>|\+|-|\*|\/)/.exec(rest))) {
      const prev = out[out.length - 1];
      if (c === '/' && prev?.t === 'op' && (prev.v === '=~' || prev.v === '!~')) {
        const end = /^\/((?:\\.|[^\\/])*)\//.exec(rest);
        if (!end) throw new Error(`unterminated regex in ${q}`);
        out.push({ t: 're', v: end[1]! });
        i += end[0].length;
      } else {
        out.push({ t: 'op', v: m[1]! });
        i += m[1]!.length;
      }
    } else if ((m = /^'((?:\\.|[^\\'])*)'/.exec(rest))) { out.push({ t: 'str', v: m[1]! }); i += m[0].length; }
    else if ((m = /^"((?:\\.|[^\\"])*)"/.exec(rest))) { out.push({ t: 'id', v: m[1]! }); i += m[0].length; }
    else if ((m = /^\$\{?(\w+)\}?/.exec(rest))) { out.push({ t: 'var', v: m[1]! }); i += m[0].length; }
    else if ((m = /^\d+(\.\d+)?[a-z]*/.exec(rest))) { out.push({ t: 'num', v: m[0] }); i += m[0].length; }
    else if ((m = /^[A-Za-z_]\w*/.exec(rest))) { out.push({ t: 'id', v: m[0] }); i += m[0].length; }
    else if ('(),;'.includes(c)) { out.push({ t: 'punct', v: c }); i++; }
    else throw new Error(`unexpected "${c}" in ${q}`);
  }
  return out;
}

/** Problems with an InfluxQL query against the documented schema ([] = fine). */
export function checkInfluxQL(q: string, schema: SchemaDoc): string[] {
  const toks = tokenize(q);
  const problems: string[] = [];
  const from = new Set<string>();
  const aliases = new Set<string>();
  toks.forEach((k, i) => {
    const prev = toks[i - 1];
    if (k.t === 'id' && prev?.t === 'id' && prev.v.toLowerCase() === 'from') from.add(k.v);
    if (k.t === 'id' && prev?.t === 'id' && prev.v.toLowerCase() === 'as') aliases.add(k.v);
  });
  if (from.size !== 1) return [`expected one measurement, found ${[...from].join(', ') || 'none'}`];
  const m = schema.measurements.get([...from][0]!);
  if (!m) return [`measurement ${[...from][0]} is not in docs/metrics.md`];
  let groupBy = false;
  toks.forEach((k, i) => {
    if (k.t !== 'id') return;
    const lower = k.v.toLowerCase(), prev = toks[i - 1], next = toks[i + 1];
    if (lower === 'group' && next?.v.toLowerCase() === 'by') groupBy = true;
    if (['fill', 'order', 'limit', 'slimit'].includes(lower)) groupBy = false;
    if (next?.v === '(' && !KEYWORDS.has(lower)) {
      if (!FUNCTIONS.has(lower)) problems.push(`unknown function ${k.v}`);
      return;
    }
    // compared with a string or regex: a tag, even when it is spelled like a keyword (group)
    const compared = next?.t === 'op' && ['=', '!=', '=~', '!~', '<>'].includes(next.v) && ['str', 're'].includes(toks[i + 2]?.t ?? '');
    if (KEYWORDS.has(lower) && !compared) return;
    if (from.has(k.v) && prev?.v.toLowerCase() === 'from') return;
    if (prev?.t === 'id' && prev.v.toLowerCase() === 'as') return;
    const isTag = m.tags.includes(k.v) || schema.commonTags.includes(k.v), isField = m.fields.includes(k.v);
    const afterKey = toks[i - 2]?.v.toLowerCase() === 'key' && prev?.v === '=';
    if (groupBy || afterKey || compared) {
      if (!isTag) problems.push(`${k.v} is not a tag of ${m.name}`);
    } else if (!isTag && !isField && !aliases.has(k.v)) {
      problems.push(`${k.v} is neither a field nor a tag of ${m.name}`);
    }
  });
  return problems;
}

// ---- Graphite: the metric paths a target names ----

/** The path expressions of a target that start with `start` (default "$prefix."), braces kept whole. */
export function graphitePaths(target: string, start = '$prefix.'): string[] {
  const out: string[] = [];
  let i = target.indexOf(start);
  while (i >= 0) {
    let j = i, depth = 0;
    while (j < target.length && (depth > 0 || !/[\s,()'"]/.test(target[j]!))) {
      if (target[j] === '{') depth++;
      if (target[j] === '}') depth--;
      j++;
    }
    out.push(target.slice(i, j));
    i = target.indexOf(start, j);
  }
  return out;
}

const nodesOf = (path: string): string[] => path.split(/\.(?![^{]*\})/);

/** A path of the several-collectors layout ($prefix.$instance.total…) as the single-collector one. */
export const withoutInstance = (path: string): string => path.replace(/^\$prefix\.\$instance\./, '$prefix.');

/**
 * Problems with one Graphite path against the documented patterns ([] = fine). `partial`: the path is
 * the beginning of one (a variable's find query, `$prefix.hosts.*`).
 */
export function checkGraphitePath(path: string, schema: SchemaDoc, partial = false, prefix = '$prefix'): string[] {
  const nodes = nodesOf(withoutInstance(path));
  const tried: string[] = [];
  for (const m of schema.measurements.values()) {
    const whole = nodesOf(m.graphite.replace(/^flowbridge(?=\.)/, prefix));
    const pattern = partial ? whole.slice(0, nodes.length) : whole;
    if (pattern.length !== nodes.length || pattern[1] !== nodes[1] || (pattern[1] === 'views' && pattern[2] !== nodes[2])) continue;
    const problems: string[] = [];
    pattern.forEach((p, i) => {
      const n = nodes[i]!;
      const alternatives = /^\{.*\}$/.test(n) ? n.slice(1, -1).split(',') : [n];
      if (p === '<field>') {
        for (const a of alternatives) if (!m.graphiteFields.includes(a)) problems.push(`${a} is not a Graphite field of ${m.name}`);
      } else if (p === '<direction>') {
        for (const a of alternatives) if (!/[$*]/.test(a) && !schema.directions.includes(a)) problems.push(`${a} is not a direction`);
      } else if (!p.startsWith('<') && p !== n) {
        problems.push(`node ${i} is ${n}, ${m.graphite} has ${p}`);
      }
    });
    if (problems.length === 0) return [];
    tried.push(...problems);
  }
  return tried.length ? tried : [`${path} matches no Graphite path of docs/metrics.md`];
}

// ---- Grafana's variable substitution ----

export type VarValue = string | string[] | { all: true };
export interface Substitution {
  vars: Record<string, VarValue>;
  /** variable definitions (includeAll, allValue, multi) by name */
  defs: Map<string, Variable>;
  /** $timeFilter, $__interval, … as text */
  builtins: Record<string, string>;
  /** "regex" (InfluxQL) or "glob" (Graphite), as each datasource formats multi-value variables */
  format: 'regex' | 'glob';
  /** every value of a variable, for "All" without an allValue */
  allValues: Record<string, string[]>;
}

const escapeRegex = (v: string): string => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

export function substitute(text: string, s: Substitution): string {
  return text.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    if (name in s.builtins) return s.builtins[name]!;
    const def = s.defs.get(name);
    const value = s.vars[name];
    if (!def || value === undefined) return whole;
    if (typeof value === 'object' && 'all' in value && def.allValue) return def.allValue;
    const list = typeof value === 'object' && 'all' in value ? s.allValues[name] ?? [] : Array.isArray(value) ? value : [value];
    if (!def.multi && !def.includeAll) return list[0] ?? '';
    if (s.format === 'glob') return list.length === 1 ? list[0]! : `{${list.join(',')}}`;
    const esc = list.map(escapeRegex);
    return esc.length === 1 ? esc[0]! : `(${esc.join('|')})`;
  });
}
