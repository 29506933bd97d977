// Scale-out (docs/scaling.md): two collectors (the real CLI) on loopback, each owning one exporter —
// softflowd's NetFlow v9 from 127.0.0.2 to "edge-1", pmacctd's IPFIX from 127.0.0.3 to "edge-2" — write
// to ONE influxd and, through carbon-c-relay's consistent hash, to TWO carbon-caches. Summed over the
// instances (and the caches), the stored totals per direction equal the collectors' own JSON output,
// which equals the capture's truth once per exporter.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readUdpPackets } from '../src/ingest/pcap.js';
import { carbonMissing, startCarbon, type Carbon } from './helpers/carbon.js';
import { startCli, type CliProcess } from './helpers/cli-process.js';
import { relayMissing, startRelay } from './helpers/carbon-relay.js';
import { influxdMissing, startInfluxd } from './helpers/influxd.js';
import { directionTotals } from './helpers/totals.js';
import { truth } from './helpers/truth.js';

const missing = influxdMissing() ?? carbonMissing() ?? relayMissing();
if (missing) {
  t.plan(0, missing);
  process.exit(0);
}

const FIX = new URL('./fixtures/', import.meta.url).pathname;
const DB = 'flows';
const DIRECTIONS = ['in', 'out', 'internal', 'external'] as const;

interface Collector { name: string; exporter: string; capture: string; cli: CliProcess }

const [influxd, ...caches] = await Promise.all([startInfluxd(t, { databases: [DB] }), startCarbon(t), startCarbon(t)]) as
  [Awaited<ReturnType<typeof startInfluxd>>, Carbon, Carbon];
const relay = await startRelay(t, caches.map((c, i) => ({ port: c.linePort, instance: `cache${i + 1}` })));

/** One collector; its instance name comes from FLOWBRIDGE_INSTANCE or --instance (both are checked). */
async function startCollector(name: string, exporter: string, capture: string, viaEnv: boolean): Promise<Collector> {
  const args = ['--home', truth.home.join(','), '--output', 'json', '--listen-netflow', '127.0.0.1:0', '--listen-sflow', '',
    '--state-file', '', '--web-enabled', 'false', '--log-level', 'info',
    // the captures are old: count every record when it arrives, not at its (long closed) flow time
    '--aggregate-assign', 'arrival',
    '--influx-enabled', 'true', '--influx-api', 'v1', '--influx-url', influxd.url, '--influx-bucket', DB,
    '--graphite-enabled', 'true', '--graphite-address', `127.0.0.1:${relay.port}`,
    ...(viaEnv ? [] : ['--instance', name])];
  const cli = await startCli(t, args, { env: viaEnv ? { FLOWBRIDGE_INSTANCE: name } : {}, web: false });
  return { name, exporter, capture, cli };
}

/** The capture's datagrams, in order, from the exporter's own source address. */
async function feed(c: Collector): Promise<number> {
  const datagrams = [...readUdpPackets(`${FIX}${c.capture}`)].map((p) => Buffer.from(p.payload));
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, c.exporter, resolve));
  for (const b of datagrams) await new Promise<void>((resolve, reject) => sock.send(b, c.cli.udpPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve) => sock.close(resolve));
  return datagrams.length;
}

const summaries = (c: Collector) => c.cli.summaries();
const twice = Object.fromEntries(Object.entries(truth.by_direction).map(([d, [b, p]]) => [d, [2 * b, 2 * p]]));
const add = (a: Record<string, [number, number]>, b: Record<string, [number, number]>) =>
  Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((d) => [d, [(a[d]?.[0] ?? 0) + (b[d]?.[0] ?? 0), (a[d]?.[1] ?? 0) + (b[d]?.[1] ?? 0)]]));

const collectors = await Promise.all([
  startCollector('edge-1', '127.0.0.2', 'softflowd-v9.pcap', true),
  startCollector('edge-2', '127.0.0.3', 'pmacctd-ipfix.pcap', false),
]);
const sent = await Promise.all(collectors.map(feed));
await sleep(500); // loopback: the collectors read their sockets within milliseconds
const codes = await Promise.all(collectors.map((c) => c.cli.stop())); // SIGTERM flushes every open interval to both sinks
const own = collectors.map((c) => directionTotals(summaries(c)));

t.test('each collector counted its own exporter: its JSON output equals the capture truth', async (t) => {
  t.same(codes, [0, 0], 'both exited cleanly');
  collectors.forEach((c, i) => {
    const datagrams = summaries(c).reduce((a, s) => a + (s.stats.collector.datagrams ?? 0), 0);
    t.equal(datagrams, sent[i], `${c.name}: all ${sent[i]} datagrams from ${c.exporter}`);
    t.same(own[i], truth.by_direction, `${c.name}: totals per direction = the truth`);
    t.notMatch(c.cli.stderr(), /"level":(40|50)/, `${c.name}: no warnings or errors logged`);
  });
});

t.test('one influxd: the instance tag is there, and the sum over instances equals the sum of the collectors', async (t) => {
  const tags = await influxd.query('SHOW TAG VALUES FROM traffic WITH KEY = instance', DB);
  t.same(tags[0]?.values.map((v) => v[1]), ['edge-1', 'edge-2'], 'SHOW TAG VALUES: both instance names');
  const rows = await influxd.query('SELECT sum(bytes), sum(packets) FROM traffic GROUP BY instance, direction', DB);
  const per: Record<string, Record<string, [number, number]>> = {};
  for (const r of rows) {
    const v = r.values[0]!;
    if (v[1] || v[2]) (per[r.tags!.instance!] ??= {})[r.tags!.direction!] = [v[1] as number, v[2] as number];
  }
  t.same(per, { 'edge-1': own[0], 'edge-2': own[1] }, 'per instance = that collector\'s JSON output');
  const all = await influxd.query('SELECT sum(bytes), sum(packets) FROM traffic GROUP BY direction', DB);
  t.same(Object.fromEntries(all.map((r) => [r.tags!.direction, r.values[0]!.slice(1)])), add(own[0]!, own[1]!), 'Σ over instances = Σ of the collectors');
  t.same(add(own[0]!, own[1]!), twice, '= the truth once per exporter');
  const exporters = await influxd.query('SELECT sum(records) FROM exporters GROUP BY instance, exporter', DB);
  t.same(exporters.map((r) => [r.tags!.instance, r.tags!.exporter]).sort(), [['edge-1', '127.0.0.2'], ['edge-2', '127.0.0.3']],
    'each exporter under exactly one instance');
});

t.test('carbon-c-relay (carbon_ch) over two carbon-caches: each series in one cache, sums over caches and instances', async (t) => {
  // every traffic point each collector wrote, as the JSON output says
  const want: { path: string; ts: number; value: number; instance: string; direction: string; field: 'bytes' | 'packets' }[] = [];
  collectors.forEach((c) => {
    for (const s of summaries(c)) {
      for (const d of DIRECTIONS) {
        for (const field of ['bytes', 'packets'] as const) {
          want.push({ path: `flowbridge.${c.name}.total.${d}.${field}`, ts: s.start, value: s.directions[d]![field], instance: c.name, direction: d, field });
        }
      }
    }
  });
  const read = (path: string, ts: number) => caches.map((c) => c.value(path, ts));
  const deadline = Date.now() + 20_000;
  let pending = want;
  while (pending.length > 0 && Date.now() < deadline) {
    pending = pending.filter((w) => read(w.path, w.ts).every((v) => v === null));
    if (pending.length > 0) await sleep(50);
  }
  t.same(pending.map((w) => w.path).slice(0, 5), [], `all ${want.length} traffic points readable from whisper`);
  const stored = (w: (typeof want)[number]) => read(w.path, w.ts).find((x) => x !== null) ?? null;
  t.same(want.filter((w) => stored(w) !== w.value).slice(0, 5), [], 'each stored point equals what its collector counted');

  const files = (c: Carbon) => listWhisper(join(c.dir, 'storage', 'whisper'));
  const [one, two] = caches.map(files) as [string[], string[]];
  t.ok(one.length > 0 && two.length > 0, `the hash spreads the series over both caches (${one.length} + ${two.length} files)`);
  const inTwo = new Set(two);
  t.same(one.filter((f) => inTwo.has(f)), [], 'no series in both caches (replication 1)');
  const roots = new Set([...one, ...two].map((f) => f.split('/').slice(0, 2).join('.')));
  t.same([...roots].sort(), ['flowbridge.edge-1', 'flowbridge.edge-2'], 'every path has the instance node right after the prefix');

  const got: Record<string, Record<string, [number, number]>> = {};
  for (const w of want) {
    const v = stored(w) ?? 0;
    const e = ((got[w.instance] ??= {})[w.direction] ??= [0, 0]);
    e[w.field === 'bytes' ? 0 : 1] += v;
  }
  for (const g of Object.values(got)) for (const d of Object.keys(g)) if (!g[d]![0] && !g[d]![1]) delete g[d];
  t.same(got, { 'edge-1': own[0], 'edge-2': own[1] }, 'per instance, summed over the caches = that collector\'s JSON output');
  t.same(add(got['edge-1']!, got['edge-2']!), twice, 'Σ over instances = the truth once per exporter');
});

/** Whisper files below a directory, as paths relative to it ("flowbridge/edge-1/total/in/bytes.wsp"). */
function listWhisper(dir: string, rel = ''): string[] {
  if (!existsSync(join(dir, rel))) return [];
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? listWhisper(dir, p) : e.name.endsWith('.wsp') ? [p] : [];
  });
}
