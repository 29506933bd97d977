// An interval summary with nothing counted, for tests that fill in only the parts they are about.
import type { IntervalSummary } from '../../src/aggregate/summary.js';

const z = { bytes: 0, packets: 0, flows: 0 };
const zr = { ...z, bps: 0, pps: 0 };

/** An empty summary of the interval starting at `start` (epoch seconds), `interval` seconds long. */
export function emptySummary(start: number, interval = 10): IntervalSummary {
  return {
    start, end: start + interval, interval,
    directions: { in: { ...zr }, out: { ...zr }, internal: { ...zr }, external: { ...zr } },
    hosts: [], hostsOther: { in: { ...z }, out: { ...z } }, ports: [],
    portsOther: { in: { ...z }, out: { ...z }, internal: { ...z }, external: { ...z } },
    protocols: [], groups: [], exporters: [],
    stats: { records: 0, late: 0, hostOverflow: 0, portOverflow: 0, exporterOverflow: 0, collector: {} },
  };
}
