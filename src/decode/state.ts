// Decoder state (templates and sampling rates) saved across restarts, so data arriving right after a
// restart need not wait for the exporters' next template refresh. Saving is atomic; loading never fails
// the caller: a missing file is normal and a bad one is returned as an error to log, then ignored.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { TemplateCache } from './templates.js';
import type { SamplingTable } from './sampling.js';

export const STATE_FORMAT = 'flowbridge-decoder-state';
export const STATE_VERSION = 1;
/** Far above 10,000 templates of 512 fields; a bigger file is not ours. */
export const MAX_STATE_BYTES = 256 * 1024 * 1024;

export interface StateParts {
  templates: TemplateCache;
  sampling: SamplingTable;
}

export interface LoadResult {
  /** The file existed and was accepted (entries inside may still have been skipped). */
  loaded: boolean;
  missing: boolean;
  templates: number;
  sampling: number;
  /** Why the file was ignored, for the caller to log. */
  error?: Error;
}

/**
 * Writes the state to a temp file in the same directory, fsyncs it, then renames it over `file`.
 * Synchronous on purpose: it also runs on the way out, and the file is small. Throws on failure.
 */
export function saveState(file: string, parts: StateParts): void {
  const body = JSON.stringify({
    format: STATE_FORMAT,
    version: STATE_VERSION,
    templates: parts.templates.serialize(),
    sampling: parts.sampling.serialize(),
  });
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true }); // the default lives in ./.flowbridge/
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
}

function ignored(file: string, why: string): LoadResult {
  return { loaded: false, missing: false, templates: 0, sampling: 0, error: new Error(`state file ${file} ignored: ${why}`) };
}

/** Restores state saved by saveState. Never throws: problems come back in `error`. */
export function loadState(file: string, parts: StateParts): LoadResult {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return ignored(file, 'not a regular file');
    if (st.size > MAX_STATE_BYTES) return ignored(file, `${st.size} bytes is too large`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { loaded: false, missing: true, templates: 0, sampling: 0 };
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
  };
}
