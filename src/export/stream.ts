// Line output to stdout or a file, respecting backpressure, and drained on stop. A reader that goes
// away (`flowbridge replay X --output json | head -1`) is EPIPE: the output is marked closed and later
// lines are dropped quietly, as other Unix filters do, instead of an unhandled 'error' ending the process.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

/** Outputs whose reader has gone (EPIPE). */
const closed = new WeakSet<Writable>();
/** Outputs failed otherwise (ENOSPC, EIO...), with the error stop() reports. */
const failed = new WeakMap<Writable, Error>();
const watched = new WeakSet<Writable>();

/** Takes over `out`'s 'error' events: EPIPE closes it quietly, another error is kept for closeOutput. */
export function watchOutput(out: Writable): Writable {
  if (watched.has(out)) return out;
  watched.add(out);
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') closed.add(out);
    else if (!failed.has(out)) failed.set(out, err);
  });
  return out;
}

export function openOutput(path: string): Writable {
  return watchOutput(path === '-' ? process.stdout : createWriteStream(path, { flags: 'a' }));
}

/** Whether nothing written to `out` can arrive any more (its reader went away, or it failed). */
export function outputClosed(out: Writable): boolean {
  return closed.has(out) || failed.has(out) || out.destroyed;
}

/** Writes one line unless the output is gone. */
export function writeLine(out: Writable, line: string): void {
  if (!outputClosed(out)) out.write(line);
}

/**
 * Resolves once `out` takes more (its buffer drained), or at once as undefined when it need not be
 * waited for. A pipe that breaks meanwhile never drains: 'error' and 'close' end the wait too.
 */
export function drained(out: Writable): Promise<void> | undefined {
  if (!out.writableNeedDrain || outputClosed(out)) return undefined;
  return new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('error', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('error', done);
    out.on('close', done);
  });
}

export async function closeOutput(out: Writable): Promise<void> {
  const err = failed.get(out);
  if (err) throw err;
  if (out === process.stdout) {
    await drained(out);
    const late = failed.get(out);
    if (late) throw late;
    return;
  }
  if (outputClosed(out)) return;
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}
