// The issue's `uport` definition (sFlow-RT's syslog.js) over the real pmacctd sFlow capture, through
// replay() with the engine as an observer, delivered to a real rsyslog: one event per distinct
// (ipsource, ipdestination, icmpunreachableport) of the UDP port scan, checked against the capture.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createAlerting } from '../../src/alert/alerting.js';
import type { AlertEvent } from '../../src/alert/event.js';
import { loadConfig } from '../../src/config/load.js';
import { JsonSink } from '../../src/export/json.js';
import { replay } from '../../src/ingest/replay.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { rsyslogMissing, startRsyslog, type Received } from '../helpers/rsyslog.js';

const missing = rsyslogMissing();
if (missing) {
  t.plan(0, missing);
} else {
  const FIX = new URL('../fixtures/', import.meta.url).pathname;
  const expected = JSON.parse(readFileSync(`${FIX}pmacctd-sflow.expected.json`, 'utf8')) as { unreachable_tuples: number };
  // UDP syslog has no flow control: with the kernel's default receive buffer (~208 KB) rsyslog kept
  // 172 of the 400-event burst (measured); a 4 MB buffer, as a busy receiver should have, keeps them all
  const rs = await startRsyslog(t, { udpRcvbuf: '4m' });

  const UPORT = {
    name: 'uport',
    keys: ['ipsource', 'ipdestination', 'icmpunreachableport'],
    value: 'frames',
    event: 'each',
  };

  for (const protocol of ['tcp', 'udp'] as const) {
    t.test(`pmacctd-sflow.pcap → uport → rsyslog over ${protocol}: exactly one event per distinct tuple`, async (t) => {
      const cfg = loadConfig({ argv: [], env: {}, overrides: {
        networks: { home: ['10.1.0.0/16', '2001:db8:1::/48'] },
        alerts: { flows: [UPORT], syslog: { host: '127.0.0.1', port: protocol === 'tcp' ? rs.tcpPort : rs.udpPort, protocol, appName: `uport-${protocol}` } },
      } });
      const metrics = new Metrics();
      const out = new PassThrough();
      let jsonText = '';
      out.on('data', (d: Buffer) => { jsonText += d.toString(); });
      const json = new JsonSink('-', out);
      const seen: AlertEvent[] = [];
      const alerting = createAlerting(cfg, {
        metrics, log: silentLogger, groupNames: Object.keys(cfg.networks), intervalMs: cfg.interval,
        sinks: { writeAlert: (a) => { seen.push(a); json.writeAlert(a); } },
      });
      const started = Date.now();
      await replay([`${FIX}pmacctd-sflow.pcap`], cfg, { log: silentLogger, observers: [alerting.observer], metrics, progress: false });
      await alerting.stop(5000);
      const got = (await rs.waitFor(rs.received().filter((r) => r['app-name'] !== `uport-${protocol}`).length + expected.unreachable_tuples, 10_000))
        .filter((r: Received) => r['app-name'] === `uport-${protocol}`);
      t.comment(`replay + delivery of ${got.length} events over ${protocol}: ${Date.now() - started} ms`);

      t.equal(got.length, expected.unreachable_tuples, `${expected.unreachable_tuples} events arrived`);
      const bodies = got.map((r) => JSON.parse(r.msg) as Record<string, unknown>);
      const tuples = new Set(bodies.map((b) => `${b.ipsource}|${b.ipdestination}|${b.icmpunreachableport}`));
      t.equal(tuples.size, 400, 'all distinct: no tuple alerted twice');
      const ports = bodies.map((b) => b.icmpunreachableport as number).sort((a, b) => a - b);
      t.same(ports, Array.from({ length: 400 }, (_, i) => 1000 + i), 'ports exactly 1000–1399');
      t.ok(bodies.every((b) => /^10\.1\.1\.[1-8]$/.test(b.ipsource as string)), 'sources are 10.1.1.1–10.1.1.8');
      t.same([...new Set(bodies.map((b) => b.ipdestination))], ['203.0.113.66'], 'destination is the scanner');
      t.same([...new Set(bodies.map((b) => b.ipsource))].sort(), ['10.1.1.1', '10.1.1.2', '10.1.1.3', '10.1.1.4', '10.1.1.5', '10.1.1.6', '10.1.1.7', '10.1.1.8']);
      t.ok(bodies.every((b) => b.kind === 'event' && b.name === 'uport' && b.metric === 'frames' && b.value === 1 &&
        b.exporter === '127.0.0.1' && typeof b.start === 'number' && (b.end as number) - (b.start as number) === 10), 'kind, metric, value, exporter, interval');
      t.ok(got.every((r) => r.msgid === 'EVENT' && r.sd?.['flowbridge@32473']?.name === 'uport'
        && r.sd['flowbridge@32473']!.icmpunreachableport === String(JSON.parse(r.msg).icmpunreachableport)), 'structured data agrees with the JSON');

      t.equal(seen.length, 400, 'the sink saw the same 400');
      const lines = jsonText.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      t.equal(lines.length, 400);
      t.ok(lines.every((l) => l.type === 'alert' && l.kind === 'event'), 'JSON sink: "type":"alert" lines');
      t.equal(metrics.total('alerts_total', { name: 'uport', kind: 'event' }), 400);
      t.equal(metrics.total('alerts_suppressed_total'), 0);
      t.equal(metrics.total('syslog_sent_total'), 400);
      t.equal(metrics.total('syslog_dropped_total'), 0);
      // each probe's unreachable was sampled once: every matching record made exactly one event
      t.equal(metrics.total('alert_records_total', { name: 'uport' }), 400);
    });
  }
}
