// Sums interval summaries (objects or JSON lines) per direction: {direction: [bytes, packets]}.
import type { IntervalSummary } from '../../src/aggregate/summary.js';

type WithDirections = Pick<IntervalSummary, 'directions'>;

export function directionTotals(summaries: Iterable<WithDirections>): Record<string, [number, number]> {
  const tot: Record<string, [number, number]> = {};
  for (const s of summaries) {
    for (const [d, v] of Object.entries(s.directions)) {
      if (!v.bytes && !v.packets) continue;
      const e = (tot[d] ??= [0, 0]);
      e[0] += v.bytes;
      e[1] += v.packets;
    }
  }
  return tot;
}

/** The summaries of JSON-lines output: alerts and replay's figures (`"type"` lines) left out. */
export function parseLines(jsonl: string): WithDirections[] {
  return jsonl.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as WithDirections & { type?: string })
    .filter((o) => o.type === undefined);
}
