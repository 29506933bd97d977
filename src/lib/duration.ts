// Durations as people write them, for log messages and config text alike (the config's duration
// format parses what this renders).

/** Shortest exact text of a millisecond count: "1h", "5m", "75s", "250ms". */
export function renderDuration(ms: number): string {
  if (ms !== 0 && ms % 3600000 === 0) return `${ms / 3600000}h`;
  if (ms !== 0 && ms % 60000 === 0) return `${ms / 60000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
