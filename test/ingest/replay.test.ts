// replay(): pacing at recorded speed, rebasing to the present, and the sinks seeing every interval.
import t from 'tap';
import { Metrics } from '../../src/lib/counters.js';
import { FanOut } from '../../src/export/sink.js';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { replay } from '../../src/ingest/replay.js';
import { JsonSink } from '../../src/export/json.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { silentLogger } from '../../src/lib/log.js';
import { readUdpPackets } from '../../src/ingest/pcap.js';

const FIX = new URL('../fixtures/', import.meta.url).pathname;
const cfg = () => loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] } } });

t.test('--realtime paces datagrams at the capture speed', async (t) => {
  const ts = [...readUdpPackets(`${FIX}pmacctd-ipfix.pcap`)].map((p) => p.tsMs);
  const span = ts[ts.length - 1]! - ts[0]!;
  const t0 = Date.now();
  const r = await replay([`${FIX}pmacctd-ipfix.pcap`], cfg(), { log: silentLogger, realtime: true, progress: false });
  const took = Date.now() - t0;
  t.equal(r.datagrams, 150);
  t.ok(took >= span * 0.9, `took ${took} ms for a capture spanning ${Math.round(span)} ms`);
});

t.test('--shift-to-now rebases flow time so the capture ends now, whole intervals, nothing in the future', async (t) => {
  const now = Date.UTC(2027, 0, 15, 12, 0, 3);
  const out: IntervalSummary[] = [];
  await replay([`${FIX}pmacctd-ipfix.pcap`], cfg(), { log: silentLogger, shiftToNow: true, now: () => now, onSummary: (s) => out.push(s), progress: false });
  const first = out[0]!.start * 1000, last = out[out.length - 1]!.end * 1000;
  t.ok(first % 10_000 === 0, 'interval boundaries stay aligned');
  // the last datagram lands in the interval holding now; no interval starts after it
  t.ok(out.every((s) => s.start * 1000 <= now), `${new Date(last).toISOString()}: no point in the future`);
  const traffic = out.filter((s) => s.directions.in.bytes > 0);
  t.ok(traffic.at(-1)!.start * 1000 <= now && traffic.at(-1)!.end * 1000 > now, 'traffic up to the interval holding now');
  t.equal(last - first, 300_000, 'the whole 300 s capture, no gap');
  t.same(out.map((s) => s.start), out.map((_, i) => out[0]!.start + 10 * i), 'consecutive intervals');
});

t.test('the JSON sink writes one parsable line per interval, the same objects the pipeline emits', async (t) => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d));
  const out: IntervalSummary[] = [];
  await replay([`${FIX}pmacctd-v9.pcap`], cfg(), { fanout: new FanOut([new JsonSink('-', stream)], new Metrics(), silentLogger), log: silentLogger, onSummary: (s) => out.push(s), progress: false });
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as IntervalSummary);
  t.equal(lines.length, out.length);
  t.same(lines, JSON.parse(JSON.stringify(out)));
});

t.test('a capture that is not pcap fails with a clear error', async (t) => {
  await t.rejects(replay([`${FIX}traffic.truth.json`], cfg(), { log: silentLogger, progress: false }), /not a pcap or pcapng file/);
});
