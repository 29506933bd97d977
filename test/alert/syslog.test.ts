// Our syslog output parsed strictly against the RFC 5424 and RFC 3164 grammars (rsyslog is lenient and
// cannot prove it valid), with SD-PARAM escaping, UTF-8 and the JSON MSG.
process.env.TZ = 'UTC'; // RFC 3164 timestamps are local time
import t from 'tap';
import type { AlertEvent } from '../../src/alert/event.js';
import {
  alertJson, escapeSdValue, formatRfc3164, formatRfc5424, headerToken, priority, type HeaderOptions,
} from '../../src/alert/syslog.js';

interface Parsed5424 {
  pri: number; version: number; timestamp: string; hostname: string; appName: string; procId: string; msgId: string;
  sd: { id: string; params: [string, string][] }[]; msg: string | null;
}

/** RFC 5424 §6 ABNF, strictly: field lengths, PRINTUSASCII, SD-NAME characters, PARAM-VALUE escapes. */
function parse5424(line: string): Parsed5424 {
  let i = 0;
  const fail = (what: string): never => { throw new Error(`RFC 5424: ${what} at ${i}: ${JSON.stringify(line.slice(i, i + 20))}`); };
  const m = /^<(0|[1-9]\d{0,2})>([1-9]\d{0,2}) /.exec(line) ?? fail('PRI/VERSION');
  const pri = Number(m[1]);
  if (pri > 191) fail('PRI > 191');
  i = m[0].length;
  const token = (max: number, name: string): string => {
    const end = line.indexOf(' ', i);
    if (end < 0) fail(`${name} not followed by SP`);
    const v = line.slice(i, end);
    if (v.length < 1 || v.length > max || !/^[\x21-\x7e]+$/.test(v)) fail(`${name} (1-${max} PRINTUSASCII)`);
    i = end + 1;
    return v;
  };
  const timestamp = token(64, 'TIMESTAMP');
  if (timestamp !== '-' && !/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/.test(timestamp)) fail('TIMESTAMP');
  const hostname = token(255, 'HOSTNAME');
  const appName = token(48, 'APP-NAME');
  const procId = token(128, 'PROCID');
  const msgId = token(32, 'MSGID');
  const sd: Parsed5424['sd'] = [];
  const sdName = (): string => {
    const mm = /^[^= \]"\x00-\x20\x7f-\uffff]{1,32}/.exec(line.slice(i)) ?? fail('SD-NAME');
    i += mm[0].length;
    return mm[0];
  };
  if (line[i] === '-') {
    i++;
  } else {
    if (line[i] !== '[') fail('STRUCTURED-DATA');
    while (line[i] === '[') {
      i++;
      const id = sdName();
      if (sd.some((e) => e.id === id)) fail('SD-ID repeated');
      const params: [string, string][] = [];
      while (line[i] === ' ') {
        i++;
        const name = sdName();
        if (line[i] !== '=' || line[i + 1] !== '"') fail('="');
        i += 2;
        let v = '';
        for (;;) {
          const c = line[i];
          if (c === undefined) fail('unterminated PARAM-VALUE');
          if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\' || line[i + 1] === ']')) { v += line[i + 1]; i += 2; continue; }
          if (c === '"') { i++; break; }
          if (c === ']') fail('unescaped "]" in PARAM-VALUE');
          v += c;
          i++;
        }
        params.push([name, v]);
      }
      if (line[i] !== ']') fail('"]"');
      i++;
      sd.push({ id, params });
    }
  }
  let msg: string | null = null;
  if (i < line.length) {
    if (line[i] !== ' ') fail('SP before MSG');
    msg = line.slice(i + 1);
  }
  return { pri, version: Number(m[2]), timestamp, hostname, appName, procId, msgId, sd, msg };
}

/** RFC 3164 §4.1: PRI, "Mmm dd hh:mm:ss", HOSTNAME, TAG (≤ 32 alphanumerics) and CONTENT; ≤ 1024 bytes. */
function parse3164(line: string): { pri: number; timestamp: string; hostname: string; tag: string; pid: string; content: string } {
  if (Buffer.byteLength(line) > 1024) throw new Error('RFC 3164: over 1024 bytes');
  const m = /^<(0|[1-9]\d{0,2})>((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?: [1-9]|[12]\d|3[01]) (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d) ([\x21-\x7e]+) ([A-Za-z0-9]{1,32})\[(\d+)\]: (.*)$/s.exec(line);
  if (!m || Number(m[1]) > 191) throw new Error(`RFC 3164: malformed ${JSON.stringify(line.slice(0, 60))}`);
  return { pri: Number(m[1]), timestamp: m[2]!, hostname: m[3]!, tag: m[4]!, pid: m[5]!, content: m[6]! };
}

const H: HeaderOptions = { format: 'rfc5424', facility: 16, severity: 5, appName: 'flowbridge', hostname: 'probe-1.example', procId: '4242', sdId: 'flowbridge@32473' };

const event: AlertEvent = {
  kind: 'event', name: 'uport', keys: { ipsource: '10.1.1.3', ipdestination: '203.0.113.66', icmpunreachableport: 1042 },
  value: 1, metric: 'frames', start: 1793491200, end: 1793491210, exporter: '127.0.0.1', time: Date.UTC(2026, 10, 1, 0, 0, 3, 25),
};

t.test('RFC 5424: header fields, one SD element with every field and key, the JSON as MSG', (t) => {
  const line = formatRfc5424(event, H);
  const p = parse5424(line);
  t.same([p.pri, p.version, p.timestamp, p.hostname, p.appName, p.procId, p.msgId],
    [16 * 8 + 5, 1, '2026-11-01T00:00:03.025Z', 'probe-1.example', 'flowbridge', '4242', 'EVENT']);
  t.same(p.sd, [{ id: 'flowbridge@32473', params: [
    ['kind', 'event'], ['name', 'uport'], ['metric', 'frames'], ['value', '1'], ['start', '1793491200'], ['end', '1793491210'],
    ['exporter', '127.0.0.1'], ['ipsource', '10.1.1.3'], ['ipdestination', '203.0.113.66'], ['icmpunreachableport', '1042'],
  ] }]);
  t.equal(p.msg, alertJson(event));
  t.same(JSON.parse(p.msg!), {
    kind: 'event', name: 'uport', ipsource: '10.1.1.3', ipdestination: '203.0.113.66', icmpunreachableport: 1042,
    metric: 'frames', value: 1, start: 1793491200, end: 1793491210, exporter: '127.0.0.1',
  });
  t.end();
});

t.test('threshold alerts carry the threshold; a definition severity overrides the default', (t) => {
  const a: AlertEvent = { kind: 'threshold', name: 'host-in', keys: { ipdestination: '10.1.0.99' }, value: 123456789.5, metric: 'bps',
    threshold: 1e8, start: 1793491190, end: 1793491210, time: Date.UTC(2026, 10, 1, 0, 0, 10), severity: 'warning' };
  const p = parse5424(formatRfc5424(a, H));
  t.equal(p.pri, 16 * 8 + 4);
  t.equal(p.msgId, 'THRESHOLD');
  t.same(Object.fromEntries(p.sd[0]!.params), { kind: 'threshold', name: 'host-in', metric: 'bps', value: '123456789.5', threshold: '100000000', start: '1793491190', end: '1793491210', ipdestination: '10.1.0.99' });
  t.same(JSON.parse(p.msg!), { kind: 'threshold', name: 'host-in', ipdestination: '10.1.0.99', metric: 'bps', value: 123456789.5, threshold: 1e8, start: 1793491190, end: 1793491210 });
  t.equal(priority({ ...a, severity: undefined }, H), 133);
  t.equal(priority({ ...a, severity: 'emerg' }, { ...H, facility: 0 }), 0);
  t.equal(parse5424(formatRfc5424({ ...a, kind: 'cleared' }, H)).msgId, 'CLEARED');
  t.end();
});

t.test('SD-PARAM values escape ", \\ and ]; the MSG is ASCII JSON that decodes to the original text', (t) => {
  t.equal(escapeSdValue('a"b\\c]d[e'), 'a\\"b\\\\c\\]d[e');
  const nasty: AlertEvent = { ...event, name: 'we"ird\\na]me', exporter: 'naïve→🙂', keys: { group: 'x]"\\' } };
  const line = formatRfc5424(nasty, H);
  const p = parse5424(line);
  const params = Object.fromEntries(p.sd[0]!.params);
  t.equal(params.name, 'we"ird\\na]me');
  t.equal(params.exporter, 'naïve→🙂', 'UTF-8 in PARAM-VALUE');
  t.equal(params.group, 'x]"\\');
  t.match(p.msg!, /^[\x20-\x7e]+$/, 'MSG is printable ASCII: no BOM needed');
  t.same(JSON.parse(p.msg!).exporter, 'naïve→🙂');
  t.throws(() => parse5424('<133>1 - h a p m [x@1 k="a]b"] m'), /unescaped "\]"/, 'the strict parser does catch a bad value');
  t.end();
});

t.test('header tokens: printable ASCII only, bounded, "-" when empty', (t) => {
  t.equal(headerToken('my host\tname', 255), 'my_host_name');
  t.equal(headerToken('', 48), '-');
  t.equal(headerToken('x'.repeat(60), 48).length, 48);
  t.equal(headerToken('hôte', 255), 'h_te');
  t.end();
});

t.test('RFC 3164: <PRI>Mmm dd hh:mm:ss HOST TAG[pid]: JSON, space-padded day, under 1024 bytes', (t) => {
  const h = { ...H, format: 'rfc3164' as const };
  const line = formatRfc3164(event, h);
  t.equal(line.slice(0, 31), '<133>Nov  1 00:00:03 probe-1.ex');
  const p = parse3164(line);
  t.same([p.pri, p.timestamp, p.hostname, p.tag, p.pid], [133, 'Nov  1 00:00:03', 'probe-1.example', 'flowbridge', '4242']);
  t.equal(p.content, alertJson(event));
  const late = parse3164(formatRfc3164({ ...event, time: Date.UTC(2026, 11, 24, 23, 59, 59) }, h));
  t.equal(late.timestamp, 'Dec 24 23:59:59');
  t.end();
});
