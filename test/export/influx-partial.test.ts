// Issue 17 drill: InfluxDB stores part of a batch and rejects the rest with HTTP 400 ("partial write:
// ... dropped=N"). A real influxd 1.6 rejects the hosts points of an interval (their `bytes` field
// clashes with a float written earlier); the sink must count the stored lines as written and only the
// rejected ones as failed, and InfluxQL must show exactly those points stored. Then the answers of the
// other versions, read by partialWriteRejected.
import t from 'tap';
import { createServer } from 'node:http';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { InfluxSink } from '../../src/export/influx.js';
import { partialWriteRejected } from '../../src/export/influx-v1.js';
import { Metrics } from '../../src/lib/counters.js';
import { httpCall, influxdMissing, startInfluxd, startV2Shim } from '../helpers/influxd.js';

const missing = influxdMissing();
if (missing) {
  t.plan(0, missing);
  process.exit(0);
}

const influxd = await startInfluxd(t, { databases: ['partial_v1', 'partial_v2'] });

const z = { bytes: 0, packets: 0, flows: 0 };
const START = 1_793_491_200;

function summary(hosts: number): IntervalSummary {
  const rows: IntervalSummary['hosts'] = [];
  for (let i = 0; i < hosts; i++) {
    rows.push({ host: `10.1.0.${i}`, group: 'home', direction: i & 1 ? 'out' : 'in', bytes: 1500 * (i + 1), packets: i + 1, flows: 1 });
  }
  const d = { bytes: 100, packets: 1, flows: 1, bps: 80, pps: 0.1 };
  return {
    start: START, end: START + 10, interval: 10, directions: { in: d, out: d, internal: d, external: d }, hosts: rows,
    hostsOther: { in: z, out: z }, ports: [], portsOther: { in: z, out: z, internal: z, external: z }, protocols: [], groups: [],
    exporters: [], stats: { records: 0, late: 0, hostOverflow: 0, portOverflow: 0, exporterOverflow: 0, collector: {} },
  };
}

async function count(db: string, measurement: string, field: string): Promise<number> {
  const r = await influxd.query(`SELECT COUNT(${field}) FROM ${measurement}`, db);
  return (r[0]?.values[0]?.[1] as number | undefined) ?? 0;
}

for (const api of ['v1', 'v2'] as const) {
  t.test(`${api}: a partial write counts the stored lines as written and only the rejected ones as failed`, async (t) => {
    const db = `partial_${api}`;
    // an earlier point makes `bytes` of `hosts` a float in this shard: every hosts line of ours (bytes=…i) clashes
    const seed = await httpCall(`${influxd.url}/write?db=${db}&precision=s`, 'POST', `hosts,host=seed bytes=1.5 ${START}`);
    t.equal(seed.status, 204);
    const url = api === 'v1' ? influxd.url : (await startV2Shim(t, influxd)).url;
    const metrics = new Metrics();
    const sink = new InfluxSink({ api, url, bucket: db, minRetryDelayMs: 50, maxRetryDelayMs: 100 }, { metrics });
    const s = summary(6);
    const lines = sink.format(s).length + 1; // + the sink's own row
    const hostLines = s.hosts.length;
    sink.write(s);
    await sink.stop();
    const c = (name: string) => metrics.total(name, { sink: 'influx' });
    t.comment(`${lines} lines handed: ${c('sink_lines_total')} written, ${c('sink_lines_failed_total')} failed, ${c('sink_dropped_total')} dropped`);
    t.equal(c('sink_lines_failed_total'), hostLines, `the ${hostLines} rejected hosts lines count as failed`);
    t.equal(c('sink_lines_total'), lines - hostLines, `the other ${lines - hostLines} count as written`);
    t.equal(c('sink_dropped_total'), 0);
    t.equal(c('sink_retries_total'), 0, 'a 400 is not retried');
    t.equal(c('sink_errors_total'), 1, 'one failed request');
    t.equal(sink.queued, 0);
    // what InfluxDB holds: the seed alone in hosts, everything else of the interval
    t.equal(await count(db, 'hosts', 'bytes'), 1, 'no hosts point of ours stored');
    t.equal(await count(db, 'traffic', 'bytes'), 4, 'the four traffic points stored');
    t.equal(await count(db, 'sinks', 'lines'), 1, "the sink's own row stored");
    const stored = (await count(db, 'traffic', 'bytes')) + (await count(db, 'sinks', 'lines')) +
      (await count(db, 'collector', 'intervalRecords'));
    t.equal(stored, c('sink_lines_total'), 'every line counted as written is a stored point');
  });
}

t.test('2.x answers a partial write with 422: counted line by line, not retried', async (t) => {
  // InfluxDB 2.7's answer (not installed here): a loopback server that reads the batch and says so
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(422, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ code: 'unprocessable entity', message: 'failure writing points to database: partial write: field type conflict: input field "bytes" on measurement "hosts" is type integer, already exists as type float dropped=6' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const metrics = new Metrics();
  const sink = new InfluxSink({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, bucket: 'b', gzip: false }, { metrics });
  sink.write(summary(6));
  await sink.stop();
  const c = (name: string) => metrics.total(name, { sink: 'influx' });
  const lines = bodies[0]!.split('\n').length;
  t.equal(bodies.length, 1, 'one request, not retried');
  t.same([c('sink_lines_total'), c('sink_lines_failed_total'), c('sink_dropped_total')], [lines - 6, 6, 0], `${lines - 6} written, 6 failed`);
});

t.test('partialWriteRejected reads how many lines each version rejected', async (t) => {
  const j = (o: object) => JSON.stringify(o);
  // influxd 1.6 here: a type clash, unparsable lines (not in dropped=), a batch of which nothing parsed
  t.equal(partialWriteRejected(j({ error: 'partial write: field type conflict: input field "v" on measurement "m" is type float, already exists as type integer dropped=2' }), 5), 2);
  t.equal(partialWriteRejected(j({ error: "partial write: unable to parse 'bad line': invalid field format\nunable to parse 'worse': missing fields dropped=0" }), 5), 2);
  t.equal(partialWriteRejected(j({ error: "unable to parse 'bad line': invalid field format\nunable to parse 'worse': missing fields" }), 2), undefined,
    'nothing parsed: the whole batch refused');
  // later 1.x name the database after dropped=
  t.equal(partialWriteRejected(j({ error: 'partial write: field type conflict: … dropped=1 for database: unpoller for retention policy: autogen' }), 9), 1);
  t.equal(partialWriteRejected(j({ error: 'partial write: points beyond retention policy dropped=3' }), 10), 3);
  // 2.x OSS (422)
  t.equal(partialWriteRejected(j({ code: 'unprocessable entity', message: 'failure writing points to database: partial write: field type conflict: input field "value" on measurement "x" is type string, already exists as type float dropped=11' }), 20), 11);
  // Cloud 2 / explicit bucket schemas
  t.equal(partialWriteRejected(j({ code: 'invalid', message: "partial write error (2 written): unable to parse 'air_sensor …': schema: field type for field \"temperature\" not permitted by schema" }), 3), 1);
  t.equal(partialWriteRejected(j({ code: 'invalid', message: 'partial write error (5 accepted): 1 out of 6 points rejected (check rejected_points in your _monitoring bucket for further information)' }), 6), 1);
  // 3.x Core/Enterprise: one entry per rejected line
  const line = { original_line: 'cpu,host=a val= 123', line_number: 2, error_message: 'No fields were provided' };
  t.equal(partialWriteRejected(j({ error: 'partial write of line protocol occurred', data: [line, { ...line, line_number: 3 }] }), 3), 2);
  t.equal(partialWriteRejected(j({ error: 'parsing failed for write_lp endpoint', data: line }), 3), undefined, 'accept_partial=false: all refused');
  // not partial writes; a count never leaves 0…lines
  t.equal(partialWriteRejected(j({ code: 'not found', message: 'bucket "x" not found' }), 4), undefined);
  t.equal(partialWriteRejected('400 Bad Request', 4), undefined);
  t.equal(partialWriteRejected(j({ error: 'partial write: … dropped=9' }), 4), 4);
});
