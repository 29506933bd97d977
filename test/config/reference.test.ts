import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { REFERENCE_PATH, renderReference } from '../../src/config/reference.js';
import { listLeaves, schema } from '../../src/config/schema.js';
import { FORMATS } from '../../src/config/formats.js';

const committed = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

t.test('docs/configuration.md is exactly the rendered reference (regenerate: node dist/config/reference.js)', (t) => {
  t.equal(REFERENCE_PATH, committed, 'the script writes the committed file');
  t.equal(readFileSync(committed, 'utf8'), renderReference());
  t.end();
});

t.test('the reference lists every key with env, CLI arg and default, and every format', (t) => {
  const md = renderReference();
  for (const l of listLeaves(schema)) {
    const row = md.split('\n').find((line) => line.startsWith(`| \`${l.path}\` |`));
    t.ok(row, `${l.path} has a row`);
    t.match(row!, `\`${l.env}\``);
    t.match(row!, `\`--${l.arg}\``);
    t.match(row!, l.leaf.sensitive ? '(secret)' : JSON.stringify(l.leaf.default).replace(/\|/g, '\\|'));
  }
  for (const f of FORMATS) t.match(md, `### ${f.name}\n\nExpected: ${f.expected}.`);
  t.match(md, '| `aggregate.assign` | `FLOWBRIDGE_AGGREGATE_ASSIGN` | `--aggregate-assign` | `"spread"` | one of "spread", "end", "arrival" |');
  t.match(md, /\n## aggregate\n/);
  t.match(md, /\n## Top-level keys\n/);
  t.end();
});
