// What a Graphite user must change in carbon, said in the log, since carbon itself says nothing: the
// storage-schemas section for a prefix other than the default (else the catch-all schema's coarse
// archive keeps one point per slot), and a warning when points are so old (a replayed capture) that
// carbon files them in a coarse archive, where the points of one slot overwrite each other.
import { renderDuration } from '../lib/duration.js';
import type { Logger } from '../lib/log.js';
import { graphitePrefix, MEASUREMENTS } from './series.js';

const RETENTIONS = [[60_000, '14d'], [3_600_000, '2y']] as const;

/**
 * The storage-schemas.conf section (lines ending in "\n") for metric paths starting with `pathPrefix`
 * ("site1.flows"; "" = the measurement nodes), its first archive the collector's interval, as in examples/carbon.
 */
export function storageSchemaSection(pathPrefix: string, intervalMs: number): string {
  const nodes = pathPrefix === '' ? `(${MEASUREMENTS.map((m) => m.graphite).join('|')})` : pathPrefix.replace(/\./g, '\\.');
  const name = pathPrefix === '' ? 'flowbridge' : pathPrefix.replace(/\./g, '_');
  // carbon needs each coarser precision to be a multiple of the finer one
  const coarser = RETENTIONS.filter(([ms]) => ms > intervalMs && ms % intervalMs === 0).map(([ms, keep]) => `${renderDuration(ms)}:${keep}`);
  return `[${name}]\npattern = ^${nodes}\\.\nretentions = ${[`${renderDuration(intervalMs)}:1d`, ...coarser].join(',')}\n`;
}

/** Logs, once at start, the schema a non-default graphite.prefix needs. */
export function logPrefixSchema(log: Logger, sink: string, prefix: string, pathPrefix: string, intervalMs: number, defaultPrefix: string): void {
  if (graphitePrefix(prefix) === defaultPrefix) return;
  const section = storageSchemaSection(pathPrefix, intervalMs);
  const pattern = /^pattern = (.*)$/m.exec(section)![1]!;
  log.info({ sink, prefix, storageSchemas: section },
    `graphite.prefix ${JSON.stringify(prefix)} is not the default: put this section (one line per key) above [default] in carbon's ` +
    `storage-schemas.conf before the first point arrives, and begin the patterns of storage-aggregation.conf with ${pattern} ` +
    `instead of ^flowbridge\\.: ${section.trim().replace(/\n/g, ' ')}`);
}

/** At most one warning per period, with the count of old intervals since the previous one. */
export class OldPointWarning {
  private last = -Infinity;
  private count = 0;

  constructor(private readonly log: Logger, private readonly sink: string, private readonly warnAgeMs: number,
    private readonly now: () => number, private readonly periodMs = 600_000) {}

  /** `startS`: the interval's start, epoch seconds. */
  check(startS: number): void {
    const ageMs = this.now() - startS * 1000;
    if (this.warnAgeMs <= 0 || ageMs <= this.warnAgeMs) return;
    this.count++;
    if (this.now() - this.last < this.periodMs) return;
    this.last = this.now();
    this.log.warn({ sink: this.sink, interval: startS, ageSeconds: Math.round(ageMs / 1000), intervals: this.count },
      `points older than graphite.warnAge (${renderDuration(this.warnAgeMs)}): carbon files them in a coarser archive, where the points ` +
      'of one slot overwrite each other; replay old captures with --shift-to-now, or raise graphite.warnAge (0 = never warn)');
    this.count = 0;
  }
}
