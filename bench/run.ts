// `npm run bench [name...]`: runs each benchmark (or the named ones) and prints its table.
import { printTable, type BenchRow } from './report.js';

const SUITES: Record<string, () => Promise<{ run(): Promise<BenchRow[]> }>> = {
  decode: () => import('./decode.js'),
  flood: () => import('./flood.js'),
  hostile: () => import('./hostile.js'),
  sinks: () => import('./sinks.js'),
  udp: () => import('./udp.js'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const [name, load] of Object.entries(SUITES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const rows = await (await load()).run();
  printTable(name, rows);
}
