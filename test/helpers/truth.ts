// The ground truth of the traffic in test/fixtures (tools/ in ../shared/fixtures made it): totals per
// direction, per interval, per local host and per flow, as [bytes, packets] (hosts: in, then out).
import { readFileSync } from 'node:fs';

export interface Truth {
  home: string[];
  t0: number;
  interval: number;
  packets: number;
  by_direction: Record<string, [number, number]>;
  by_interval_direction: Record<string, [number, number]>;
  by_local_host: Record<string, [number, number, number, number]>;
  flows: Record<string, [number, number]>;
}

export const truth = JSON.parse(readFileSync(new URL('../fixtures/traffic.truth.json', import.meta.url), 'utf8')) as Truth;
