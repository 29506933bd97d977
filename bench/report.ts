// Shared by every benchmark: rows of a results table, printed with ratios to a baseline measured in
// the same run (machines here are noisy; absolute numbers only mean something next to their baseline).

export interface BenchRow {
  /** what was measured, e.g. "netflow5 decode+classify+aggregate" */
  name: string;
  /** the headline figure */
  value: number;
  unit: string;
  /** name of the row this one is compared with (same run), if any */
  baseline?: string;
  /** extra columns: loss, RSS, … */
  notes?: string;
}

export function rssMB(): number {
  return Math.round(process.memoryUsage().rss / 1e5) / 10;
}

export function printTable(title: string, rows: BenchRow[]): void {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
  process.stdout.write(`\n## ${title}\n`);
  process.stdout.write(`| benchmark | value | unit | vs baseline | notes |\n| --- | ---: | --- | --- | --- |\n`);
  for (const r of rows) {
    const b = r.baseline ? byName.get(r.baseline) : undefined;
    const ratio = b && b.value > 0 ? `${(r.value / b.value).toFixed(2)}× ${b.name}` : '';
    process.stdout.write(`| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${ratio} | ${r.notes ?? ''} |\n`);
  }
}

/** Runs fn repeatedly for at least `ms` and returns operations per second (ops = fn's return). */
export function rate(fn: () => number, ms = 2000): number {
  fn(); // warm-up
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < ms) {
    ops += fn();
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return (ops * 1000) / elapsed;
}
