// Decoder state (templates and sampling rates) saved across restarts, so data arriving right after a
// restart need not wait for the exporters' next template refresh. Saving is atomic and bounded in size;
// loading never fails the caller: a missing file is normal and a bad one is returned as an error to
// log, then ignored.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { TemplateCache } from './templates.js';
import type { SamplingTable } from './sampling.js';
import type { InterfaceNames } from './interface-names.js';

export const STATE_FORMAT = 'flowbridge-decoder-state';
export const STATE_VERSION = 1;

export interface StateConfig {
  /** How often the live collector writes the file even when nothing changed (template ages). */
  saveEveryMs: number;
  /** Least time between two writes: the first change is written at once, a burst of them then waits. */
  minIntervalMs: number;
  /** Largest file written: templates of the least recently used exporters are left out past it. */
  maxBytes: number;
}

/** 16 MiB holds 10,000 templates of 60 fields; a flood of large templates is written in part. */
export const STATE_DEFAULTS: Readonly<StateConfig> = Object.freeze({
  saveEveryMs: 60_000,
  minIntervalMs: 10_000,
  maxBytes: 16 * 1024 * 1024,
});

/** Files up to this many times maxBytes are read (one written under a larger cap or an older version). */
export const LOAD_SLACK = 4;

export interface StateParts {
  templates: TemplateCache;
  sampling: SamplingTable;
  /** interface names learned from options data (optional: files without them load as before) */
  names?: InterfaceNames;
}

export interface SaveResult {
  bytes: number;
  templates: number;
  /** templates left out to stay within maxBytes */
  skipped: number;
}

export interface LoadResult {
  /** The file existed and was accepted (entries inside may still have been skipped). */
  loaded: boolean;
  missing: boolean;
  templates: number;
  sampling: number;
  interfaceNames: number;
  /** Why the file was ignored, for the caller to log. */
  error?: Error;
}

/**
 * The document, at most maxBytes: sampling rates, interface names, then templates in the cache's order
 * until full (the first two are left out when they alone would pass it).
 */
function render(parts: StateParts, maxBytes: number): { body: string } & SaveResult {
  const tail = ']}}';
  const none = '{"entries":[]}';
  let sampling = JSON.stringify(parts.sampling.serialize());
  let names = parts.names ? JSON.stringify(parts.names.serialize()) : none;
  const head = () => `{"format":${JSON.stringify(STATE_FORMAT)},"version":${STATE_VERSION},"sampling":${sampling},` +
    `"interfaceNames":${names},"templates":{"templates":[`;
  if (Buffer.byteLength(head()) + tail.length > maxBytes) names = none;
  if (Buffer.byteLength(head()) + tail.length > maxBytes) sampling = none;
  const chunks = [head()];
  let bytes = Buffer.byteLength(chunks[0]!) + tail.length, n = 0;
  for (const entry of parts.templates.entryTexts()) {
    const text = n > 0 ? `,${entry}` : entry;
    const len = Buffer.byteLength(text);
    if (bytes + len > maxBytes) break;
    chunks.push(text);
    bytes += len;
    n++;
  }
  chunks.push(tail);
  return { body: chunks.join(''), bytes, templates: n, skipped: parts.templates.size - n };
}

/**
 * Makes the missing directories of `dir`, one level at a time. Not mkdirSync's recursive mode: under
 * some pseudo file systems (/proc/self/x) it loops forever, as each parent "exists" and the child is
 * ENOENT. Throws on the first level that cannot be made.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      if (!statSync(d).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, ${d}`), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(d) === d) throw err;
      missing.push(d);
    }
  }
  for (let i = missing.length - 1; i >= 0; i--) mkdirSync(missing[i]!);
}

/**
 * Writes the state (at most maxBytes) to a temp file in the same directory, fsyncs it, then renames it
 * over `file`. Synchronous on purpose: it also runs on the way out, and the size is bounded. Throws on
 * failure.
 */
export function saveState(file: string, parts: StateParts, maxBytes = STATE_DEFAULTS.maxBytes): SaveResult {
  const { body, ...result } = render(parts, maxBytes);
  const dir = path.dirname(file);
  makeDirs(dir); // the default lives in ./.flowbridge/
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeFileSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  // The rename is durable only once the directory entry is; not every platform lets us fsync a dir.
  try {
    const d = openSync(dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    /* best effort */
  }
  return result;
}

function ignored(file: string, why: string): LoadResult {
  return { loaded: false, missing: false, templates: 0, sampling: 0, interfaceNames: 0, error: new Error(`state file ${file} ignored: ${why}`) };
}

/** Restores state saved by saveState (within the caches' quotas). Never throws: problems come back in `error`. */
export function loadState(file: string, parts: StateParts, maxBytes = STATE_DEFAULTS.maxBytes * LOAD_SLACK): LoadResult {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return ignored(file, 'not a regular file');
    if (st.size > maxBytes) return ignored(file, `${st.size} bytes is more than ${maxBytes}`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { loaded: false, missing: true, templates: 0, sampling: 0, interfaceNames: 0 };
    }
    return ignored(file, (err as Error).message);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return ignored(file, `not JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null) return ignored(file, 'not a JSON object');
  const o = doc as Record<string, unknown>;
  if (o.format !== STATE_FORMAT) return ignored(file, `format is not ${STATE_FORMAT}`);
  if (o.version !== STATE_VERSION) return ignored(file, `version ${String(o.version)} is not ${STATE_VERSION}`);
  return {
    loaded: true,
    missing: false,
    templates: parts.templates.restore(o.templates),
    sampling: parts.sampling.restore(o.sampling),
    interfaceNames: parts.names?.restore(o.interfaceNames) ?? 0,
  };
}

/** Kernel file systems no file can be created on (statfs f_type, Linux). */
const PSEUDO_FS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'], [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0xcafe4a11, 'bpf'],
]);

/**
 * Why a state file at `file` could never be written, or undefined when it might be: checked at start-up
 * without writing anything (permissions may still fail a save, which is then retried). "" is no file.
 */
export function stateFileProblem(file: string): string | undefined {
  if (file === '') return undefined;
  if (file.includes('\0')) return 'a NUL character';
  if (file.endsWith('/') || file.endsWith(path.sep) || ['.', '..'].includes(path.basename(file))) return 'a directory, not a file';
  const full = path.resolve(file);
  try {
    if (!statSync(full).isFile()) return `${full} exists and is not a regular file`;
  } catch {
    /* a file yet to be made */
  }
  // the nearest existing ancestor: a directory to make the rest in, on a file system that takes files
  for (let d = path.dirname(full); ; d = path.dirname(d)) {
    let isDir: boolean;
    try {
      isDir = statSync(d).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && path.dirname(d) !== d) continue;
      return `${d}: ${code ?? (err as Error).message}`;
    }
    if (!isDir) return `${d} is not a directory`;
    let fs: string | undefined;
    try {
      fs = process.platform === 'linux' ? PSEUDO_FS.get(statfsSync(d).type) : undefined;
    } catch {
      fs = undefined; // statfs unsupported: the first save will tell
    }
    return fs === undefined ? undefined : `${d} is on ${fs}, a kernel file system`;
  }
}
