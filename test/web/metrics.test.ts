// /metrics after a real replay, checked by a strict parser of the Prometheus text format 0.0.4
// (HELP/TYPE lines, metric and label names, label escaping, values, one contiguous block per family).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { replay } from '../../src/ingest/replay.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { WebServer } from '../../src/web/server.js';

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Family { type?: string; help?: string; samples: Sample[] }

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses `name{a="x",b="y"}` from the start of `line`; returns the rest after the closing brace. */
function parseSeries(line: string, lineNo: number): { name: string; labels: Record<string, string>; rest: string } {
  const fail = (why: string): never => {
    throw new Error(`line ${lineNo}: ${why}: ${line}`);
  };
  const m = /^([^\s{]+)/.exec(line) ?? fail('no metric name');
  const name = m[1]!;
  if (!METRIC.test(name)) fail(`bad metric name ${name}`);
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const ln = /^([^=]*)="/.exec(line.slice(i)) ?? fail('expected label="value"');
      const label = ln[1]!;
      if (!LABEL.test(label) || label.startsWith('__')) fail(`bad label name ${label}`);
      if (label in labels) fail(`label ${label} twice`);
      i += ln[0].length;
      let v = '';
      for (;;) {
        const c = line[i++];
        if (c === undefined) fail('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i++];
          if (e === '\\') v += '\\';
          else if (e === '"') v += '"';
          else if (e === 'n') v += '\n';
          else fail(`bad escape \\${e}`);
        } else v += c;
      }
      labels[label] = v;
      if (line[i] === ',') {
        i++;
        if (line[i] === '}') fail('trailing comma');
      } else if (line[i] !== '}') fail('expected , or }');
    }
    i++;
  }
  return { name, labels, rest: line.slice(i) };
}

function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const fams = new Map<string, Family>();
  const seen = new Set<string>();
  let current = '';
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, n) => {
    const no = n + 1;
    const family = (name: string): Family => {
      if (!METRIC.test(name)) throw new Error(`line ${no}: bad metric name ${name}`);
      // a family's lines must form one block
      if (name !== current && fams.has(name)) throw new Error(`line ${no}: ${name} is not contiguous`);
      current = name;
      let f = fams.get(name);
      if (!f) fams.set(name, (f = { samples: [] }));
      return f;
    };
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const f = family(meta[2]!);
      const arg = meta[3] ?? '';
      if (meta[1] === 'HELP') {
        if (f.help !== undefined) throw new Error(`line ${no}: HELP twice`);
        if (/\\[^\\n]/.test(arg.replace(/\\\\/g, ''))) throw new Error(`line ${no}: bad escape in HELP`);
        f.help = arg;
      } else {
        if (f.type !== undefined) throw new Error(`line ${no}: TYPE twice`);
        if (f.samples.length) throw new Error(`line ${no}: TYPE after samples`);
        if (!TYPES.has(arg)) throw new Error(`line ${no}: bad type ${arg}`);
        f.type = arg;
      }
      return;
    }
    if (line.startsWith('#')) return; // other comments are allowed
    const { name, labels, rest } = parseSeries(line, no);
    const f = family(name);
    if (f.type === undefined) throw new Error(`line ${no}: sample before its TYPE`);
    const parts = rest.split(' ');
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) throw new Error(`line ${no}: expected " value [timestamp]"`);
    if (!VALUE.test(parts[1]!)) throw new Error(`line ${no}: bad value ${parts[1]}`);
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`line ${no}: bad timestamp`);
    const value = Number(parts[1]!.replace(/Inf$/, 'Infinity'));
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`line ${no}: counter ${name} = ${value}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`line ${no}: duplicate series`);
    seen.add(key);
    f.samples.push({ name, labels, value });
  });
  return fams;
}

t.test('the strict parser accepts good text and rejects malformed text', async (t) => {
  const ok = '# HELP a_total x \\\\ y\\n\n# TYPE a_total counter\na_total{l="v\\"q\\n",m="\\\\"} 1\n# comment\nb_x 1\n';
  t.throws(() => parsePrometheus(ok), /sample before its TYPE/);
  const fams = parsePrometheus(ok.replace('# comment\nb_x 1\n', '# TYPE b gauge\nb NaN\nb{x="1"} -Inf 123\n'));
  t.strictSame(fams.get('a_total')!.samples, [{ name: 'a_total', labels: { l: 'v"q\n', m: '\\' }, value: 1 }]);
  t.equal(fams.get('b')!.samples[1]!.value, -Infinity);
  for (const bad of [
    'a_total 1\n', // no TYPE
    '# TYPE a counter\na{l="v} 1\n', // unterminated label
    '# TYPE a counter\na{l="v",} 1\n', // trailing comma
    '# TYPE a counter\na{1l="v"} 1\n', // bad label name
    '# TYPE a counter\na{__l="v"} 1\n', // reserved label name
    '# TYPE a counter\na{l="v",l="w"} 1\n', // duplicate label
    '# TYPE a counter\na{l="v"x} 1\n', // junk after a label
    '# TYPE a counter\na 1x\n', // bad value
    '# TYPE a counter\na  1\n', // two spaces
    '# TYPE a counter\na -1\n', // negative counter
    '# TYPE a counter\n# TYPE a counter\na 1\n', // TYPE twice
    '# TYPE a counter\n# TYPE b gauge\nb 1\na 1\n', // family not contiguous
    '# TYPE a counter\na 1\na 2\n', // duplicate series
    '# TYPE a counter\na{l="\\x"} 1\n', // bad escape
    '# TYPE a counter\na 1', // no final newline
    '# TYPE 9a counter\n9a 1\n', // bad metric name
    '# TYPE a countr\na 1\n', // bad type
    '# HELP a x\\t\n# TYPE a counter\na 1\n', // bad HELP escape
  ]) t.throws(() => parsePrometheus(bad), JSON.stringify(bad));
});

t.test('/metrics after replaying the IPFIX capture', async (t) => {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] } } });
  const metrics = new Metrics();
  const web = new WebServer({ ...cfg.web, listen: '127.0.0.1:0' }, { metrics, log: silentLogger, intervalSec: 10 });
  t.teardown(() => web.stop());
  await web.start();
  const base = `http://127.0.0.1:${web.address().port}`;
  await replay([new URL('../fixtures/pmacctd-ipfix.pcap', import.meta.url).pathname], cfg, {
    metrics, log: silentLogger, progress: false, onSummary: (s) => web.onSummary(s),
  });

  const r = await fetch(`${base}/metrics`);
  t.equal(r.status, 200);
  t.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await r.text();
  const fams = parsePrometheus(text);
  t.comment(`${fams.size} families, ${text.split('\n').length} lines, ${text.length} bytes`);
  const sum = (name: string) => (fams.get(name)?.samples ?? []).reduce((a, s) => a + s.value, 0);
  t.equal(fams.get('flowbridge_records_total')?.type, 'counter');
  t.equal(sum('flowbridge_records_total'), 1098, 'every record of the capture');
  t.equal(sum('flowbridge_datagrams_decoded_total'), 150, 'every datagram');
  t.equal(sum('flowbridge_decode_errors_total'), 0);
  t.equal(sum('flowbridge_web_summaries_total'), 30);
  t.equal(sum('flowbridge_web_history_intervals'), 30);
  for (const f of fams.values()) t.ok(f.help !== undefined && f.type !== undefined, 'every family has HELP and TYPE');

  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  t.strictSame(fams.get('flowbridge_build_info')!.samples,
    [{ name: 'flowbridge_build_info', labels: { version: pkg.version, node: process.version }, value: 1 }]);
  const up = fams.get('flowbridge_uptime_seconds')!;
  t.equal(up.type, 'gauge');
  t.ok(up.samples[0]!.value > 0 && up.samples[0]!.value < 60, `uptime ${up.samples[0]!.value} s`);
  t.ok(sum('flowbridge_resident_memory_bytes') > 1e6);

  // requests are counted by route and status class: the first scrape shows in the second
  const again = parsePrometheus(await (await fetch(`${base}/metrics`)).text());
  const req = again.get('flowbridge_web_requests_total')!.samples;
  t.ok(req.some((s) => s.labels.route === '/metrics' && s.labels.code === '2xx' && s.value === 1), 'one earlier scrape');
  await fetch(`${base}/no-such-page`);
  const third = parsePrometheus(await (await fetch(`${base}/metrics`)).text());
  t.ok(third.get('flowbridge_web_requests_total')!.samples.some((s) => s.labels.route === 'other' && s.labels.code === '4xx'),
    'unknown paths share one series (bounded labels)');
});
