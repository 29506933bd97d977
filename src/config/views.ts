// Configuration of summary views (`views`, docs/output.md): a list of { name, keys, top, filter, per },
// validated here item by item so an error names the exact key (config: views[1].keys[0] = "ifindx":
// expected one of … (did you mean inputifindex?)). schema.ts lists the section.
import { FilterError, UnknownGroupError } from '../flow/filter.js';
import { KEY_NAMES, type KeyName } from '../flow/keys.js';
import { checkViewFilters, DEFAULT_VIEWS, VIEW_DEFAULTS, VIEW_PER, type ViewPer, type ViewSpec } from '../aggregate/views.js';
import { ConfigError } from '../lib/errors.js';
import { FormatError, type FormatDef } from './formats.js';
import { distance } from '../lib/distance.js';
import type { Section } from './section.js';
import { checkedFilter, checkedKeyList, checkedName, coerceJsonList, namedItems } from './flow-fields.js';

export interface ViewsConfig {
  views: ViewSpec[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const FIELDS = ['name', 'keys', 'top', 'filter', 'per'];
const EXPECTED = 'a list of views ({ name, keys, top, filter, per })';
const MAX_TOP = 100_000;

/** The key name nearest to a misspelt one: within 2 edits, or the shortest name it is a subsequence of. */
function nearestKey(raw: string): string | undefined {
  const isSub = (a: string, b: string) => { let i = 0; for (const c of b) if (c === a[i]) i++; return i === a.length; };
  let best: string | undefined, bestD = Infinity;
  for (const k of KEY_NAMES) {
    const d = distance(raw, k);
    if ((d <= 2 || (raw.length >= 3 && isSub(raw, k))) && d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function key(raw: unknown, sub: string): KeyName {
  const k = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if ((KEY_NAMES as readonly string[]).includes(k)) return k as KeyName;
  const near = typeof raw === 'string' ? nearestKey(k) : undefined;
  throw new FormatError(`one of ${KEY_NAMES.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`, sub, raw);
}

/** One view object; `sub` is "[i]". */
export function normalizeView(raw: unknown, sub: string): ViewSpec {
  if (!isObj(raw)) throw new FormatError('a view object with name and keys', sub, raw);
  for (const k of Object.keys(raw)) {
    if (!FIELDS.includes(k)) throw new FormatError(`a known field, one of ${FIELDS.join(', ')}`, `${sub}.${k}`, raw[k]);
  }
  const name = checkedName(raw, sub);
  const keysRaw = typeof raw.keys === 'string' ? raw.keys.split(',').map((s) => s.trim()).filter(Boolean) : raw.keys;
  if (!Array.isArray(keysRaw) || keysRaw.length === 0) {
    throw new FormatError('a list of one or more flow keys such as [exporter, interface]', `${sub}.keys`, raw.keys);
  }
  const keys = keysRaw.map((k, j) => key(k, `${sub}.keys[${j}]`));
  checkedKeyList(keys, raw, sub);
  const top = raw.top === undefined ? VIEW_DEFAULTS.top : raw.top;
  if (typeof top !== 'number' || !Number.isInteger(top) || top < 1 || top > MAX_TOP) {
    throw new FormatError(`a whole number from 1 to ${MAX_TOP}`, `${sub}.top`, raw.top);
  }
  const filter = checkedFilter(raw, sub, 'protocol=udp'); // VIEW_DEFAULTS.filter ('') when absent
  const per = raw.per === undefined ? VIEW_DEFAULTS.per : raw.per;
  if (typeof per !== 'string' || !(VIEW_PER as readonly string[]).includes(per)) {
    throw new FormatError(`one of ${VIEW_PER.map((p) => `"${p}"`).join(', ')}`, `${sub}.per`, raw.per);
  }
  return { name, keys, top, filter, per: per as ViewPer };
}

export const viewDefinitions: FormatDef<ViewSpec[]> = {
  name: 'view-definitions',
  expected: EXPECTED,
  note: 'See docs/output.md (views). In the environment and on the command line: a JSON list; [] turns the default views off.',
  coerce: coerceJsonList,
  normalize: (raw) => namedItems(raw, EXPECTED, 'view', normalizeView),
};

export const viewsSection: Section = {
  views: {
    doc: 'Summaries by flow keys, each interval: name, keys (the alerts\' flow keys, plus interface), top (tuples listed per direction, default 100), filter (the alerts\' filter language) and per ("direction" or "none"). By default "interfaces" (exporter, interface) and "remotehosts" (remotehost), both per direction, top 100; [] turns them off.',
    format: viewDefinitions,
    default: DEFAULT_VIEWS.map((v) => ({ ...v, keys: [...v.keys] })),
  },
};

/** Throws ConfigError when a view's filter names a group `groupNames` lacks (start and reload). */
export function checkViews(cfg: ViewsConfig, groupNames: readonly string[]): void {
  cfg.views.forEach((v, i) => {
    try {
      checkViewFilters([v], groupNames);
    } catch (e) {
      if (!(e instanceof UnknownGroupError || e instanceof FilterError)) throw e;
      throw new ConfigError(`views[${i}].filter`, `config: views[${i}].filter = ${JSON.stringify(v.filter)}: expected a filter expression (${e.message}; groups: ${groupNames.join(', ')})`);
    }
  });
}

/** The formats this section defines, for the configuration reference. */
export const VIEW_FORMATS: readonly FormatDef[] = [viewDefinitions] as FormatDef[];
