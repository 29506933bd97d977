// Issue 18, item 11: an InfluxDB refusal must say which key to change. A 404 on /api/v2/write from a
// server without that endpoint (InfluxDB 1.0–1.7) → influx.api: v1; 401/403 → influx.token; a missing
// bucket → influx.bucket; an empty token with the v2 API is warned about at start. Loopback fakes
// answer as the versions do, and a real influxd 1.6 when installed.
import t, { type Test } from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { InfluxSink, type InfluxSinkOptions } from '../../src/export/influx.js';
import { rejectionHint } from '../../src/export/influx-v1.js';
import { Metrics } from '../../src/lib/counters.js';
import { influxdMissing, startInfluxd } from '../helpers/influxd.js';

function captureLog(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  return { log: pino({ level: 'warn' }, dest), lines };
}

const z = { bytes: 0, packets: 0, flows: 0 };
const d = { bytes: 100, packets: 1, flows: 1, bps: 80, pps: 0.1 };
const SUMMARY: IntervalSummary = {
  start: 1_793_491_200, end: 1_793_491_210, interval: 10, directions: { in: d, out: d, internal: d, external: d }, hosts: [],
  hostsOther: { in: z, out: z }, ports: [], portsOther: { in: z, out: z, internal: z, external: z }, protocols: [], groups: [],
  exporters: [], stats: { records: 0, late: 0, hostOverflow: 0, portOverflow: 0, exporterOverflow: 0, collector: {} },
};

/** A loopback server that reads each request and answers `status` with `body`. */
async function fakeInflux(t: Test, status: number, body: string, type = 'text/plain; charset=utf-8'): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': type }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

/** Writes one interval and stops (a 4xx is not retried), returning the warnings logged. */
async function writeOnce(opts: Partial<InfluxSinkOptions>): Promise<Record<string, unknown>[]> {
  const { log, lines } = captureLog();
  const sink = new InfluxSink({ token: 't0ken', timeoutMs: 2000, stopTimeoutMs: 3000, ...opts }, { metrics: new Metrics(), log });
  sink.write(SUMMARY);
  await sink.stop();
  return lines;
}

const rejectedMsg = (lines: Record<string, unknown>[]): string =>
  String(lines.find((l) => String(l.msg).startsWith('sink write rejected'))?.msg ?? '(no "sink write rejected" line)');

t.test('404 on /api/v2/write with no JSON error (InfluxDB 1.0–1.7): set influx.api: v1', async (t) => {
  const srv = await fakeInflux(t, 404, '404 page not found\n');
  const msg = rejectedMsg(await writeOnce({ url: srv.url }));
  t.match(srv.paths[0], /^\/api\/v2\/write\?/);
  t.match(msg, 'HTTP 404');
  t.match(msg, 'this looks like InfluxDB 1.x: set influx.api: v1');
});

t.test('404 naming a missing bucket (InfluxDB 2.x): influx.bucket, not influx.api', async (t) => {
  const srv = await fakeInflux(t, 404, '{"code":"not found","message":"bucket \\"flows\\" not found"}', 'application/json');
  const msg = rejectedMsg(await writeOnce({ url: srv.url, bucket: 'flows' }));
  t.match(msg, 'check influx.bucket');
  t.notMatch(msg, 'influx.api');
});

for (const status of [401, 403]) {
  t.test(`${status}: the message names influx.token`, async (t) => {
    const srv = await fakeInflux(t, status, '{"code":"unauthorized","message":"unauthorized access"}', 'application/json');
    const msg = rejectedMsg(await writeOnce({ url: srv.url }));
    t.match(msg, `HTTP ${status}`);
    t.match(msg, 'check influx.token (or influx.tokenFile)');
    const v1 = rejectedMsg(await writeOnce({ url: srv.url, api: 'v1', token: 'flowbridge:secret' }));
    t.match(v1, /influx\.token.*"username:password"/, 'v1: the username:password form');
  });
}

t.test('rejectionHint: no advice for other statuses; v1 404 points at influx.url', (t) => {
  t.equal(rejectionHint('v2', 400, 'unable to parse'), undefined);
  t.equal(rejectionHint('v2', 413, ''), undefined);
  t.match(rejectionHint('v1', 404, '404 page not found'), 'check influx.url');
  t.match(rejectionHint('v1', 404, '{"error":"database not found: \\"flows\\""}'), 'check influx.bucket');
  t.end();
});

t.test('an empty token with the v2 API is warned about at start, naming influx.token', (t) => {
  const warnings = (opts: Partial<InfluxSinkOptions>): string[] => {
    const { log, lines } = captureLog();
    void new InfluxSink({ url: 'http://127.0.0.1:9', ...opts }, { metrics: new Metrics(), log }).stop();
    return lines.map((l) => String(l.msg));
  };
  const empty = warnings({ token: '' });
  t.equal(empty.length, 1);
  t.match(empty[0], /^influx\.token is empty: .*set influx\.token or influx\.tokenFile/);
  t.same(warnings({ token: 't0ken' }), [], 'a token: no warning');
  t.same(warnings({ token: '', api: 'v1' }), [], 'v1 without auth is a normal setup');
  t.end();
});

const missing = influxdMissing();
t.test('a real InfluxDB 1.6 answers /api/v2/write with 404: the hint says influx.api: v1', { skip: missing ?? false }, async (t) => {
  const influxd = await startInfluxd(t, { databases: ['hints'] });
  const msg = rejectedMsg(await writeOnce({ url: influxd.url, bucket: 'hints', token: '' }));
  t.match(msg, 'this looks like InfluxDB 1.x: set influx.api: v1');
  t.equal(rejectedMsg(await writeOnce({ url: influxd.url, api: 'v1', bucket: 'hints', token: '' })), '(no "sink write rejected" line)',
    'with influx.api: v1 the same server takes the write');
});
