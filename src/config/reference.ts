// Renders docs/configuration.md from the schema, so the reference cannot drift from the code (a test
// compares the committed file with this output). Run directly to rewrite it:
//   npm run build && node dist/config/reference.js
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FORMATS, type FormatDef } from './formats.js';
import { ALERT_FORMATS } from './alerts.js';
import { VIEW_FORMATS } from './views.js';
import { INTERFACE_FORMATS } from './interfaces.js';
import { SINK_FORMATS } from './sinks.js';
import { ENV_NOT_CONFIG, RELOADABLE_KEYS } from './load.js';
import { listLeaves, schema, STATE_FORMATS, type LeafInfo } from './schema.js';
import { isLeaf, type Section } from './section.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string): string => `\`${cell(s)}\``;

function formatCell(f: FormatDef): string {
  if (f.name.startsWith('one-of(')) return f.expected;
  return `[${f.name}](#${f.name})`;
}

function table(rows: LeafInfo[]): string {
  let out = '| Key | Env | CLI | Default | Format | Description |\n|---|---|---|---|---|---|\n';
  for (const r of rows) {
    const def = r.leaf.sensitive ? '(secret)' : code(JSON.stringify(r.leaf.default));
    out += `| ${code(r.path)} | ${code(r.env)} | ${code(`--${r.arg}`)} | ${def} | ${formatCell(r.leaf.format)} | ${cell(r.leaf.doc)} |\n`;
  }
  return out;
}

const INTRO = `# Configuration reference

<!-- Generated from src/config/schema.ts by src/config/reference.ts; do not edit by hand.
     Regenerate with: npm run build && node dist/config/reference.js -->

Sources, from lowest to highest precedence: built-in defaults, a file given with \`--config FILE\`
(\`.json\`, \`.yaml\` or \`.yml\`), environment variables, command-line options, and the CLI's shortcut
flags (such as \`--home\`). A key unknown to the schema, in a file or anywhere else, is an error, and
every error names the key, the bad value and the expected form on one line, for example:

    config: interval = "10x": expected a duration such as 10, "10s", "1m"

The same holds for an unknown command-line option and an unknown \`FLOWBRIDGE_*\` environment variable
(\`FLOWBRIDGE_INFLUX_URLL\`): flowbridge exits with status 2 and suggests the nearest name. These
\`FLOWBRIDGE_*\` variables are no configuration keys and are left alone: ${ENV_NOT_CONFIG.map((k) => `\`${k}\``).join(', ')}
(the host ports docker-compose.yml publishes, the fuzz tests' iteration count and the switch that rewrites test/cases' expected output).

\`flowbridge --print-config\` shows the effective configuration, in a form that can be used as a
config file, with secrets shown as "[redacted]" (an empty one as "").

In a file, give keys nested (\`aggregate: { topHosts: 500 }\`). Environment variables and command-line
options take text: lists as comma-separated items, groups and maps in the compact forms shown under
[Formats](#formats) or as JSON. A list option may be given more than once and its items add up; any
other option given twice is an error. In YAML, quote host:port values that start with "[" (IPv6), which
YAML would otherwise read as a list.

**Reloading.** \`kill -HUP\` (\`docker compose kill -s HUP flowbridge\`) makes the running collector
read its configuration again, from the same file, environment and options, and apply
${RELOADABLE_KEYS.map((k) => `\`${k}\``).join(', ')} without closing the open interval: what it counted
so far is kept (a new group counts from the reload on), the old sinks flush their queues as the new ones
take over, and alert definitions whose text is unchanged keep their state. A file that does not load,
or a sink that does not start, is logged and the running configuration stays. Other keys take effect
after a restart; the log names those that changed. \`config_reloads_total{result}\` counts reloads.
`;

/** The whole reference document. */
export function renderReference(s: Section = schema): string {
  const leaves = listLeaves(s);
  let out = INTRO;
  const top = leaves.filter((l) => l.parts.length === 1);
  if (top.length) out += `\n## Top-level keys\n\n${table(top)}`;
  for (const [k, node] of Object.entries(s)) {
    if (isLeaf(node)) continue;
    out += `\n## ${k}\n\n${table(leaves.filter((l) => l.parts[0] === k))}`;
  }
  out += '\n## Formats\n\n';
  for (const f of [...FORMATS, ...ALERT_FORMATS, ...VIEW_FORMATS, ...INTERFACE_FORMATS, ...SINK_FORMATS, ...STATE_FORMATS]) out += `### ${f.name}\n\nExpected: ${f.expected}.${f.note ? ` ${f.note}` : ''}\n\n`;
  return out.replace(/\n+$/, '\n');
}

/** Default location of the committed reference, relative to this module (src/ or dist/). */
export const REFERENCE_PATH = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) {
  writeFileSync(REFERENCE_PATH, renderReference());
  process.stdout.write(`wrote ${REFERENCE_PATH}\n`);
}
