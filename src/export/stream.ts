// Line output to stdout or a file, respecting backpressure, and drained on stop.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export function openOutput(path: string): Writable {
  return path === '-' ? process.stdout : createWriteStream(path, { flags: 'a' });
}

export async function closeOutput(out: Writable): Promise<void> {
  if (out === process.stdout) {
    if (out.writableNeedDrain) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    return;
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
