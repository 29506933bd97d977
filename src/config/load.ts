// Loads the configuration: defaults < file (--config, JSON or YAML) < env < argv < overrides (the CLI's
// shortcut flags). convict reads env and argv and validates strictly; every failure becomes ONE
// ConfigError line naming the key, the bad value and the expected form.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import convict from 'convict';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../lib/errors.js';
import { FormatError, redactUrl, RESERVED_KEYS, type FormatDef } from './formats.js';
import { distance } from '../lib/distance.js';
import { argName, envName, listLeaves, schema as fullSchema, type Config, type LeafInfo } from './schema.js';
import { isLeaf, type Leaf, type Section } from './section.js';

/** Top-level keys a running collector applies on SIGHUP (Pipeline.reload); others need a restart. */
export const RELOADABLE_KEYS: readonly string[] = ['networks', 'exporters', 'output', 'influx', 'graphite', 'alerts', 'views', 'interfaces'];

export type { Config } from './schema.js';

export interface LoadOptions {
  /** Command-line arguments (without node and script); default process.argv.slice(2). */
  argv?: string[];
  /** Environment; default process.env. */
  env?: Record<string, string | undefined>;
  /** Path of a .json, .yaml or .yml file (the --config flag). */
  file?: string;
  /** Highest precedence, same shape as a config file. */
  overrides?: object;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

// convict takes any schema node with a "default" key for a leaf, so a key named "default"
// (sampling.default) is renamed inside convict and back outside. Only section keys are renamed.
const internalKey = (k: string): string => (k === 'default' ? '$default' : k);
const publicKey = (k: string): string => (k === '$default' ? 'default' : k);

// convict walks object values by splitting paths on "." (flatten() in validate), so an object keyed by
// data such as "192.0.2.1" breaks it. Keyed formats therefore travel through convict as an entry list
// wrapped in a marker object, and are unwrapped before normalizing.
const ENTRIES = '$entries';
function encode(f: FormatDef, v: unknown): unknown {
  return f.keyed && isObj(v) ? { [ENTRIES]: Object.entries(v) } : v;
}
function decode(v: unknown): unknown {
  if (!isObj(v) || !Array.isArray(v[ENTRIES]) || Object.keys(v).length !== 1) return v;
  return Object.fromEntries(v[ENTRIES] as [string, unknown][]);
}

// convict's format registry is global and keyed by name, so one name must mean one definition.
const registered = new Map<string, FormatDef>();
function register(f: FormatDef): void {
  const known = registered.get(f.name);
  if (known === f) return;
  if (known) throw new Error(`config schema: two different formats are named "${f.name}"`);
  registered.set(f.name, f);
  const validate = (v: unknown): void => void f.normalize(decode(v));
  const coerce = f.coerce;
  // convict passes the key's path (internal names) third; text from env and argv is checked here
  const coerceChecked = coerce && ((v: string, _cv?: unknown, k = ''): unknown => {
    const c = coerce(v);
    checkProto(k.split('.').map(publicKey).join('.'), f, c);
    return encode(f, c);
  });
  convict.addFormat(coerceChecked ? { name: f.name, validate, coerce: coerceChecked } : { name: f.name, validate });
}

function toConvict(s: Section, prefix: string[]): Obj {
  const out: Obj = {};
  for (const [k, node] of Object.entries(s)) {
    const parts = [...prefix, k];
    if (isLeaf(node)) {
      register(node.format);
      out[internalKey(k)] = {
        doc: node.doc, format: node.format.name, default: encode(node.format, node.default),
        env: envName(parts), arg: argName(parts), sensitive: node.sensitive === true,
      };
    } else {
      out[internalKey(k)] = toConvict(node, parts);
    }
  }
  return out;
}

const MAX_SHOWN = 80;
function show(v: unknown, sensitive = false, replacer?: (k: string, x: unknown) => unknown): string {
  if (sensitive) return '"[redacted]"';
  const s = JSON.stringify(v, replacer) ?? String(v);
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 1)}…` : s;
}

/** A value of unknown meaning (a misspelt key): URLs in it are shown without their passwords. */
function showUnknown(v: unknown): string {
  return show(v, false, (_k, x) => (typeof x === 'string' && x.includes('://') ? redactUrl(x) : x));
}

function fail(key: string, value: string, expected: string): ConfigError {
  return new ConfigError(key, `config: ${key} = ${value}: expected ${expected}`);
}

function sectionError(path: string, v: unknown, s: Section): ConfigError {
  return fail(path, showUnknown(v), `a section (mapping) with keys ${Object.keys(s).join(', ')}`);
}

function readConfigFile(file: string): Obj {
  const bad = (expected: string): ConfigError => new ConfigError('config', `config: config = ${JSON.stringify(file)}: expected ${expected}`);
  const ext = extname(file).toLowerCase();
  const yaml = ext === '.yaml' || ext === '.yml';
  if (!yaml && ext !== '.json') throw bad('a .json, .yaml or .yml file');
  let textIn: string;
  try {
    textIn = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw bad(`a readable file (${(e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = yaml ? parseYaml(textIn) : textIn.trim() === '' ? {} : JSON.parse(textIn);
  } catch (e) {
    const first = ((e as Error).message.split('\n')[0] ?? '').trim().replace(/:$/, ''); // yaml ends it with a code frame
    throw bad(`valid ${yaml ? 'YAML' : 'JSON'} (${first})`);
  }
  if (parsed === null || parsed === undefined) return {}; // an empty YAML file
  if (!isObj(parsed)) throw bad('a mapping of configuration keys at the top level');
  return parsed;
}

/**
 * Sets every leaf of `obj` through convict (so strings are coerced like env values). A leaf replaces
 * the current value wholesale: a file's `networks` replaces the default groups instead of merging.
 * Unknown keys are set too, so strict validation reports them.
 */
function apply(cv: convict.Config<Obj>, s: Section, obj: Obj, prefix: string[]): void {
  for (const [k, v] of Object.entries(obj)) {
    const pub = [...prefix, k].join('.');
    // convict drops __proto__ without a word; the others are no keys of ours either
    if (k.startsWith('$') || RESERVED_KEYS.includes(k)) throw unknownKey(pub, v, s);
    const path = [...prefix, internalKey(k)].join('.');
    const node = own(s, k) ? s[k]! : undefined;
    if (node === undefined) {
      cv.set(path, v);
    } else if (isLeaf(node)) {
      checkProto(pub, node.format, v);
      cv.set(path, encode(node.format, v));
    } else if (isObj(v)) {
      apply(cv, node, v, [...prefix, internalKey(k)]);
    } else {
      throw sectionError(pub, v, node); // a scalar where a section belongs
    }
  }
}

function unknownKey(path: string, v: unknown, s: Section): ConfigError {
  const name = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  const keys = Object.keys(s);
  const near = keys.find((k) => distance(k.toLowerCase(), name) <= 2);
  const hint = near ? ` (did you mean ${path.slice(0, path.lastIndexOf('.') + 1)}${near}?)` : '';
  return fail(path, showUnknown(v), `a known key, one of ${keys.join(', ')}${hint}`);
}

function leafError(path: string, leaf: Leaf, e: unknown, v: unknown): ConfigError {
  const redact = leaf.format.redact ?? ((x: unknown) => x);
  if (!(e instanceof FormatError)) return fail(path, show(redact(v), leaf.sensitive), `${leaf.format.expected} (${String(e)})`);
  // The whole value is shown unless the format pointed at one element of it.
  const shown = e.whole ? v : e.value;
  return new ConfigError(path, `config: ${path}${e.sub} = ${show(redact(shown), leaf.sensitive)}: expected ${e.expected}`);
}

/**
 * Where in a value an own "__proto__" key hides ("[0].__proto__"). convict's deep copy assigns it, which
 * sets a prototype instead, so values are checked before convict takes them. Keyed formats (networks)
 * travel as entry lists and check their keys themselves.
 */
function protoKey(v: unknown, sub = ''): string | null {
  if (typeof v !== 'object' || v === null) return null;
  if (!Array.isArray(v) && own(v, '__proto__')) return `${sub}.__proto__`;
  for (const [k, x] of Object.entries(v)) {
    const found = protoKey(x, Array.isArray(v) ? `${sub}[${k}]` : `${sub}.${k}`);
    if (found) return found;
  }
  return null;
}

function checkProto(path: string, f: FormatDef, v: unknown): void {
  const proto = f.keyed ? null : protoKey(v);
  if (proto) throw fail(path + proto, showUnknown(v), 'a key other than __proto__');
}

/** Finds the first bad value or unknown key and explains it; convict's own text only as a fallback. */
function diagnose(s: Section, raw: Obj, prefix: string[]): ConfigError | null {
  for (const [k, node] of Object.entries(s)) {
    const path = [...prefix, k].join('.');
    const v = decode(raw[internalKey(k)]);
    if (isLeaf(node)) {
      try {
        node.format.normalize(v);
      } catch (e) {
        return leafError(path, node, e, v);
      }
    } else if (!isObj(v)) {
      return sectionError(path, v, node);
    } else {
      const inner = diagnose(node, v, [...prefix, k]);
      if (inner) return inner;
    }
  }
  for (const [rk, v] of Object.entries(raw)) {
    const k = publicKey(rk);
    if (!own(s, k)) return unknownKey([...prefix, k].join('.'), v, s);
  }
  return null;
}

function normalize(s: Section, raw: Obj, prefix: string[]): Obj {
  const out: Obj = {};
  for (const [k, node] of Object.entries(s)) {
    const path = [...prefix, k].join('.');
    const v = decode(raw[internalKey(k)]);
    if (isLeaf(node)) {
      try {
        out[k] = node.format.normalize(v);
      } catch (e) {
        throw leafError(path, node, e, v);
      }
    } else {
      out[k] = normalize(node, v as Obj, [...prefix, k]);
    }
  }
  return out;
}

const leafOf = (leaves: Map<string, LeafInfo>, name: string): LeafInfo | undefined =>
  leaves.get(name) ?? (name.startsWith('no-') ? leaves.get(name.slice(3)) : undefined);

/**
 * The error for an option (name without "--") that is no configuration key, or null. convict ignores
 * such options, so the command line (parseCli) asks here; loadConfig's argv may carry other options.
 */
export function unknownOption(name: string, s: Section = fullSchema): ConfigError | null {
  const leaves = new Map(listLeaves(s).map((l) => [l.arg, l]));
  if (leafOf(leaves, name)) return null;
  const near = [...leaves.keys()].find((k) => distance(k, name.toLowerCase()) <= 2);
  return new ConfigError(name, `config: unknown option --${name}${near ? ` (did you mean --${near}?)` : ''}`);
}

/**
 * FLOWBRIDGE_ variables that are no configuration keys, so loading leaves them alone: the host ports
 * docker-compose.yml publishes (.env.example), the fuzz tests' iteration count (npm run fuzz) and the
 * switch that rewrites the capture cases' expected output (test/cases).
 */
export const ENV_NOT_CONFIG: readonly string[] = [
  'FLOWBRIDGE_NETFLOW_PORT', 'FLOWBRIDGE_SFLOW_PORT', 'FLOWBRIDGE_WEB_BIND', 'FLOWBRIDGE_WEB_PORT', 'FLOWBRIDGE_FUZZ_ITERATIONS',
  'FLOWBRIDGE_UPDATE_CASES',
];

/** convict reads only the variables it knows, so a misspelt one would leave its key at the default unsaid. */
function checkEnv(s: Section, env: Record<string, string | undefined>): void {
  const names = listLeaves(s).map((l) => l.env);
  for (const [k, v] of Object.entries(env)) {
    const upper = k.toUpperCase();
    if (v === undefined || !upper.startsWith('FLOWBRIDGE_') || names.includes(k) || ENV_NOT_CONFIG.includes(k)) continue;
    let near: string | undefined, best = 3; // at most 2 edits away
    for (const n of names) {
      const d = distance(n, upper);
      if (d < best) [near, best] = [n, d];
    }
    throw new ConfigError(k, `config: environment variable ${k} is no configuration key` +
      `${near ? ` (did you mean ${near}?)` : ''}: expected a FLOWBRIDGE_ name listed in docs/configuration.md; unset it or correct its name`);
  }
}

/**
 * convict's yargs-parser turns an option given twice into the text "A,B" (or a list of both), so that
 * is an error here, before convict. Only list options may repeat: their items add up.
 */
function checkRepeats(s: Section, argv: readonly string[]): void {
  const leaves = new Map(listLeaves(s).map((l) => [l.arg, l]));
  const seen = new Map<string, number>();
  for (const a of argv) {
    if (a === '--') break; // the rest are positional to yargs-parser
    if (!a.startsWith('--')) continue; // a value
    const leaf = leafOf(leaves, a.slice(2).split('=')[0]!);
    if (leaf === undefined) continue;
    const n = (seen.get(leaf.arg) ?? 0) + 1;
    seen.set(leaf.arg, n);
    if (n === 2 && !leaf.leaf.format.list) {
      const times = argv.filter((x) => x === `--${leaf.arg}` || x.startsWith(`--${leaf.arg}=`) || x === `--no-${leaf.arg}`).length;
      const list = [...leaves.values()].find((l) => l.leaf.format.list);
      throw new ConfigError(leaf.path, `config: ${leaf.path}: expected --${leaf.arg} once, not ${times} times` +
        `${list ? ` (only list options, such as --${list.arg}, add up)` : ''}`);
    }
  }
}

/** Loads against any schema; loadConfig is this with the full flowbridge schema. */
export function loadConfigFrom<T>(s: Section, opts: LoadOptions = {}): T {
  let cv: convict.Config<Obj>;
  const argv = opts.argv ?? process.argv.slice(2);
  const env = opts.env ?? process.env;
  checkEnv(s, env);
  checkRepeats(s, argv);
  try {
    cv = convict<Obj>(toConvict(s, []) as convict.Schema<Obj>, {
      env,
      args: argv,
    });
    if (opts.file !== undefined) {
      apply(cv, s, readConfigFile(opts.file), []);
      cv.load({}); // re-applies env and argv over the file, as convict's own loadFile does
    }
    if (opts.overrides !== undefined) {
      if (!isObj(opts.overrides)) throw fail('overrides', show(opts.overrides), 'an object shaped like a config file');
      apply(cv, s, opts.overrides, []);
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError('', `config: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  const raw = cv.getProperties();
  try {
    cv.validate({ allowed: 'strict' });
  } catch (e) {
    throw diagnose(s, raw, []) ?? new ConfigError('', `config: ${(e as Error).message.split('\n')[0]}`);
  }
  return normalize(s, raw, []) as T;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  return loadConfigFrom<Config>(fullSchema, opts);
}

/** The configuration with nothing but defaults (no env, argv or file). */
export function defaultConfig(): Config {
  return loadConfig({ argv: [], env: {} });
}

/** Effective configuration as config-file JSON (durations as "10s"), so it can be loaded back; secrets redacted unless empty. */
export function renderConfig(s: Section, cfg: object): string {
  const walk = (sec: Section, c: Obj): Obj => {
    const out: Obj = {};
    for (const [k, node] of Object.entries(sec)) {
      if (!isLeaf(node)) out[k] = walk(node, (c[k] ?? {}) as Obj);
      else if (node.sensitive) out[k] = c[k] === '' ? '' : '[redacted]'; // an empty secret is no secret, and worth seeing
      else out[k] = node.format.render ? node.format.render(c[k]) : c[k];
    }
    return out;
  };
  return JSON.stringify(walk(s, cfg as Obj), null, 2);
}

export function printConfig(cfg: Config): string {
  return renderConfig(fullSchema, cfg);
}
