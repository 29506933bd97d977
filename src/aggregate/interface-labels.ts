// Interface names on a built summary: the rows of views keyed by interface and the sFlow interface
// counters get `ifName` where a name is known (decode/interface-names.ts). Applied once per summary,
// after it is built, so counting never looks a name up and a name learned during the interval counts.
import type { InterfaceNameLookup } from '../decode/interface-names.js';
import type { IntervalSummary } from './summary.js';

/** Sets `ifName` on the summary's view rows that have exporter and interface keys, and on `interfaces`; returns how many. */
export function labelInterfaces(s: IntervalSummary, names: InterfaceNameLookup): number {
  if (names.size === 0) return 0;
  let n = 0;
  const views = s.views;
  if (views !== undefined) {
    for (const rows of Object.values(views)) {
      // a view keyed by interface has exporter beside it (config/views.ts); every row has the same keys
      if (rows.length === 0 || typeof rows[0]!.key.interface !== 'number') continue;
      for (const r of rows) {
        const exporter = r.key.exporter, ifIndex = r.key.interface;
        if (typeof exporter !== 'string' || typeof ifIndex !== 'number') continue;
        const name = names.name(exporter, ifIndex);
        if (name !== undefined) { r.ifName = name; n++; }
      }
    }
  }
  for (const r of s.interfaces ?? []) {
    const name = names.name(r.exporter, r.ifIndex);
    if (name !== undefined) { r.ifName = name; n++; }
  }
  return n;
}
