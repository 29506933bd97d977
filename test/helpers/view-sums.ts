// Sums of the `views` of interval summaries (docs/output.md "Views"), for tests that hold them against
// an independent count: per key tuple and direction over a run, and per summary Σ rows + viewsOther.
import type { IntervalSummary, Totals } from '../../src/aggregate/summary.js';

export type { Totals };
export const zero = (): Totals => ({ bytes: 0, packets: 0, flows: 0 });
export const addTo = (a: Totals, b: Totals): Totals => {
  a.bytes += b.bytes;
  a.packets += b.packets;
  a.flows += b.flows;
  return a;
};

/** The row label of a view's direction: the direction name, or "all" for a view counted per: none. */
export const ALL = 'all';

/**
 * Σ over the summaries of view `name`'s rows, by `label(key)` and direction: "<label>|<direction>"
 * ("<label>|all" for per: none). Throws on a summary without the view.
 */
export function viewTotals(summaries: readonly IntervalSummary[], name: string,
  label: (key: Record<string, string | number>) => string): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const s of summaries) {
    const rows = s.views?.[name];
    if (rows === undefined) throw new Error(`summary ${s.start} has no view ${name}`);
    for (const r of rows) {
      const k = `${label(r.key)}|${r.direction ?? ALL}`;
      let e = out.get(k);
      if (e === undefined) out.set(k, (e = zero()));
      addTo(e, r);
    }
  }
  return out;
}

/** Σ rows + viewsOther of view `name` in one summary, per direction label ("all" for per: none). */
export function viewSums(s: IntervalSummary, name: string): Record<string, Totals> {
  const out: Record<string, Totals> = {};
  for (const [d, o] of Object.entries(s.viewsOther?.[name] ?? {})) out[d] = addTo(zero(), o!);
  for (const r of s.views?.[name] ?? []) addTo((out[r.direction ?? ALL] ??= zero()), r);
  return out;
}

/** Σ viewsOther of view `name` over the summaries, all directions together. */
export function otherTotal(summaries: readonly IntervalSummary[], name: string): Totals {
  const t = zero();
  for (const s of summaries) for (const o of Object.values(s.viewsOther?.[name] ?? {})) addTo(t, o!);
  return t;
}

/** The summary's direction totals (bytes, packets, flows), per direction name. */
export function directionCounts(s: IntervalSummary): Record<string, Totals> {
  const out: Record<string, Totals> = {};
  for (const [d, v] of Object.entries(s.directions)) out[d] = { bytes: v.bytes, packets: v.packets, flows: v.flows };
  return out;
}
