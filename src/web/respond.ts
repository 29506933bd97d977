// Response helpers of the web server: a JSON array streamed without stalling the collector, and the
// parsing of numeric query parameters.
import { Readable } from 'node:stream';
import { setImmediate as setImmediateP } from 'node:timers/promises';

/**
 * A JSON array as a stream of one element per chunk, pausing for the event loop every ~256 kB: an
 * hour of large summaries is tens of MB, and serializing it in one go would stall the collector's UDP
 * receive for the better part of a second (measured: docs/web.md).
 */
export function jsonArray<T>(items: readonly T[], map: (x: T) => unknown = (x) => x): Readable {
  async function* chunks(): AsyncGenerator<string> {
    if (!items.length) return yield '[]';
    let sinceYield = 0;
    for (let i = 0; i < items.length; i++) {
      const chunk = (i === 0 ? '[' : ',') + JSON.stringify(map(items[i]!));
      sinceYield += chunk.length;
      if (sinceYield >= 256 * 1024) {
        sinceYield = 0;
        await setImmediateP();
      }
      yield chunk;
    }
    yield ']';
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Query number: undefined when absent, NaN when malformed or out of [min, max]. */
export function num(v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) return NaN;
  const n = Number(v);
  return n >= min && n <= max ? n : NaN;
}
