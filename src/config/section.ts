// The building blocks of the schema. The section files (sinks.ts, alerts.ts, web.ts) take these from
// here rather than from schema.ts, which lists them: one way, no cycle.
import type { FormatDef } from './formats.js';

export interface Leaf {
  doc: string;
  format: FormatDef<any>;
  /** Raw default, in config-file form ("10s", not 10000); normalized like any other value. */
  default: unknown;
  /** Shown as "[redacted]" by printConfig and in error messages. */
  sensitive?: boolean;
}

export interface Section {
  readonly [key: string]: Leaf | Section;
}

export function isLeaf(node: Leaf | Section): node is Leaf {
  const n = node as Partial<Record<string, unknown>>;
  return typeof n.doc === 'string' && typeof n.format === 'object' && n.format !== null && 'default' in n;
}
