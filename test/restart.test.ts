// Restart drill: the collector is killed with SIGKILL between a template and its data; started again
// on the same state file, it decodes the data with the persisted template, with no template-miss gap.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readUdpPackets } from '../src/ingest/pcap.js';
import { loadConfig } from '../src/config/load.js';
import { Pipeline } from '../src/pipeline.js';
import { startCli, type CliProcess } from './helpers/cli-process.js';
import { killHard } from './helpers/process.js';
import { directionTotals } from './helpers/totals.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;
const datagrams = [...readUdpPackets(`${FIX}pmacctd-ipfix.pcap`)].map((p) => Buffer.from(p.payload));

function start(stateFile: string): Promise<CliProcess> {
  return startCli(t, ['--home', '10.1.0.0/16,2001:db8:1::/48', '--output', 'json', '--listen-netflow', '127.0.0.1:0',
    '--listen-sflow', '', '--state-file', stateFile, '--web-enabled', 'false', '--interval', '60'], { web: false });
}

async function send(port: number, bufs: Buffer[]): Promise<void> {
  const sock = createSocket('udp4');
  for (const b of bufs) await new Promise<void>((r) => sock.send(b, port, '127.0.0.1', () => r()));
  sock.close();
  await new Promise((r) => setTimeout(r, 400));
}

/** What the datagrams after the first hold, decoded offline with every template known. */
function expectedAfterFirst(): Record<string, [number, number]> {
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] } } });
  const all = [] as Parameters<typeof directionTotals>[0] extends Iterable<infer S> ? S[] : never;
  const p = new Pipeline(cfg, { time: 'event', onSummary: (s) => all.push(s) });
  p.onDatagram(datagrams[0]!, '127.0.0.1', 1);
  const firstOnly = p.metrics.total('records_total');
  p.aggregator.flush();
  const first = directionTotals(all.splice(0));
  for (let i = 1; i < datagrams.length; i++) p.onDatagram(datagrams[i]!, '127.0.0.1', 2 + i);
  p.aggregator.flush();
  const rest = directionTotals(all);
  t.comment(`first datagram: templates and ${firstOnly} records ${JSON.stringify(first)}`);
  return rest;
}

t.test('kill -9 after the template: the restarted collector decodes the data with the persisted template', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-restart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, 'state.json');
  const want = expectedAfterFirst();

  const a = await start(state);
  await send(a.udpPort, datagrams.slice(0, 1));
  await killHard(a.child);
  t.equal(a.child.exitCode, null, 'killed without a chance to flush');

  const b = await start(state);
  await send(b.udpPort, datagrams.slice(1));
  t.equal(await b.stop(), 0);
  const lines = b.summaries();
  t.same(directionTotals(b.summaries()), want, 'everything after the template is counted');
  t.equal(lines.reduce((s, l) => s + (l.stats.collector.templateMisses ?? 0), 0), 0, 'no template misses');

  // the control: without the state file the same sequence loses data to template misses
  const c = await start('');
  await send(c.udpPort, datagrams.slice(1, 10));
  t.equal(await c.stop(), 0);
  const cl = c.summaries();
  const misses = cl.reduce((s, l) => s + (l.stats.collector.templateMisses ?? 0), 0);
  t.ok(misses > 0, `without persistence: ${misses} template misses`);
});
