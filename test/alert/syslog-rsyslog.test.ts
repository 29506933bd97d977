// The syslog sender against a real rsyslogd on loopback: RFC 5424 and 3164 over UDP, TCP with
// octet-counting and LF framing, TLS (gtls) with certificates made here, and what rsyslog parses out.
import t, { type Test as Tap } from 'tap';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertEvent } from '../../src/alert/event.js';
import { alertJson, SyslogSender } from '../../src/alert/syslog.js';
import { loadConfig } from '../../src/config/load.js';
import { Metrics } from '../../src/lib/counters.js';
import { silentLogger } from '../../src/lib/log.js';
import { makeCerts, rsyslogMissing, rsyslogTlsMissing, startRsyslog, type Received } from '../helpers/rsyslog.js';

const missing = rsyslogMissing();
if (missing) {
  t.plan(0, missing);
} else {
  const certs = makeCerts(t.testdir());
  // the gtls driver is a package of its own (rsyslog-gnutls): without it the TLS tests skip, saying so
  const noTls = rsyslogTlsMissing('gtls');
  if (noTls) t.comment(`skipping the TLS tests: ${noTls}`);
  const rs = await startRsyslog(t, noTls ? {} : { tls: { driver: 'gtls', ca: certs.ca, cert: certs.serverCert, key: certs.serverKey } });

  /** The sender as the configuration builds it, pointed at our rsyslog. */
  function sender(t: Tap, syslog: Record<string, unknown>): { s: SyslogSender; m: Metrics } {
    const cfg = loadConfig({ argv: [], env: {}, overrides: { alerts: { syslog: { host: '127.0.0.1', reconnectMin: '50ms', reconnectMax: '200ms', ...syslog } } } });
    const m = new Metrics();
    const s = new SyslogSender(cfg.alerts.syslog, { metrics: m, log: silentLogger });
    t.teardown(() => s.stop(100)); // also when an assertion throws: no reconnect loop left behind
    return { s, m };
  }

  let seq = 0;
  function alert(extra: Partial<AlertEvent> = {}): AlertEvent {
    seq++;
    return {
      kind: 'event', name: 'uport', keys: { ipsource: '10.1.1.3', ipdestination: '203.0.113.66', icmpunreachableport: 1000 + seq },
      value: 1, metric: 'frames', start: 1793491200, end: 1793491210, exporter: '127.0.0.1', time: Date.now(), ...extra,
    };
  }

  /** Messages received after `before` that came from input `input`. */
  async function arrivals(before: number, n: number, timeoutMs = 5000): Promise<Received[]> {
    const all = await rs.waitFor(before + n, timeoutMs);
    return all.slice(before);
  }

  t.test('RFC 5424 over UDP: rsyslog parses hostname, app-name, procid, msgid, structured data and the JSON msg', async (t) => {
    const { s, m } = sender(t, { port: rs.udpPort, protocol: 'udp', hostname: 'fb-test-host' });
    const before = rs.received().length;
    const a = alert({ name: 'esc"ape]me\\' });
    s.send(a);
    await s.stop(2000);
    const [r] = await arrivals(before, 1);
    t.ok(r, 'received');
    t.same([r!.hostname, r!['app-name'], r!.procid, r!.msgid, r!['protocol-version'], r!.facility, r!.severity, r!.inputname],
      ['fb-test-host', 'flowbridge', String(process.pid), 'EVENT', '1', 'local0', 'notice', 'udp']);
    t.equal(r!.msg, alertJson(a), 'msg is the JSON exactly');
    t.same(r!.sd, { 'flowbridge@32473': {
      kind: 'event', name: 'esc"ape]me\\', metric: 'frames', value: '1', start: '1793491200', end: '1793491210', exporter: '127.0.0.1',
      ipsource: '10.1.1.3', ipdestination: '203.0.113.66', icmpunreachableport: String(a.keys.icmpunreachableport),
    } }, 'mmpstrucdata resolves the escapes');
    t.match(r!.timereported, new RegExp(`^${new Date(a.time).toISOString().slice(0, 19)}\\.\\d{3}`), 'timestamp kept with its fraction');
    t.equal(m.total('syslog_sent_total'), 1);
    t.equal(m.total('syslog_dropped_total'), 0);
  });

  t.test('RFC 3164 over UDP: hostname, tag and pid; msg is the JSON after rsyslog\'s leading space', async (t) => {
    const { s } = sender(t, { port: rs.udpPort, protocol: 'udp', format: 'rfc3164', facility: 'local3', severity: 'warning' });
    const before = rs.received().length;
    const a = alert();
    s.send(a);
    await s.stop(2000);
    const [r] = await arrivals(before, 1);
    t.same([r!.hostname, r!['app-name'], r!.procid, r!.facility, r!.severity], [hostname().replace(/[^\x21-\x7e]/g, '_'), 'flowbridge', String(process.pid), 'local3', 'warning']);
    t.equal(r!.msg, ` ${alertJson(a)}`);
  });

  t.test('TCP with octet counting: byte lengths (UTF-8), a line feed inside a message, 300 messages in order', async (t) => {
    const { s, m } = sender(t, { port: rs.tcpPort, protocol: 'tcp' });
    const before = rs.received().length;
    // multi-byte characters: a count in characters instead of bytes would cut the stream wrongly
    const utf = alert({ exporter: 'exportér→🙂', keys: { group: 'línea\nnueva', big: 'x'.repeat(3000) } });
    s.send(utf);
    const sent: AlertEvent[] = [];
    for (let i = 0; i < 300; i++) sent.push(alert());
    for (const a of sent) s.send(a);
    const got = await arrivals(before, 301);
    t.equal(got.length, 301, 'one message per frame, none split or merged');
    t.equal(got[0]!.sd!['flowbridge@32473']!.exporter, 'exportér→🙂');
    t.equal(got[0]!.sd!['flowbridge@32473']!.big!.length, 3000);
    t.match(got[0]!.sd!['flowbridge@32473']!.group, /^línea(#012|\n)nueva$/, 'the LF stayed inside its message');
    t.same(got.slice(1).map((r) => r.msg), sent.map(alertJson), 'every message, in order');
    t.ok(got.every((r) => r.inputname === 'tcp'));
    await s.stop(2000);
    t.equal(m.total('syslog_sent_total'), 301);
    t.equal(m.total('syslog_connects_total'), 1);
  });

  t.test('TCP with LF framing', async (t) => {
    const { s } = sender(t, { port: rs.tcpPort, protocol: 'tcp', framing: 'lf' });
    const before = rs.received().length;
    const sent = [alert(), alert(), alert()];
    for (const a of sent) s.send(a);
    const got = await arrivals(before, 3);
    t.same(got.map((r) => r.msg), sent.map(alertJson));
    await s.stop(2000);
  });

  t.test('TLS (RFC 5425): verified against the test CA; refused against another CA; verify off connects anyway', { skip: noTls ?? false }, async (t) => {
    const ok = sender(t, { port: rs.tlsPort, protocol: 'tls', tls: { ca: certs.ca } });
    let before = rs.received().length;
    const a = alert();
    ok.s.send(a);
    const [r] = await arrivals(before, 1);
    t.equal(r?.msg, alertJson(a));
    t.equal(r?.inputname, 'tls');
    await ok.s.stop(2000);
    t.equal(ok.m.total('syslog_sent_total'), 1);

    const wrong = sender(t, { port: rs.tlsPort, protocol: 'tls', tls: { ca: certs.otherCa } });
    before = rs.received().length;
    wrong.s.send(alert());
    await sleep(600);
    t.not(wrong.s.transport.state, 'connected', 'an unknown CA never gets a connection');
    t.ok(wrong.m.total('syslog_errors_total') >= 1, `${wrong.m.total('syslog_errors_total')} verification errors counted`);
    t.equal(wrong.s.transport.depth, 1, 'the message waits in the queue');
    await wrong.s.stop(100);
    t.equal(wrong.m.total('syslog_dropped_total'), 1, 'left at shutdown: dropped and counted');
    t.equal(rs.received().length, before, 'nothing delivered');

    const name = sender(t, { port: rs.tlsPort, protocol: 'tls', tls: { ca: certs.ca, servername: 'not-the-server.example' } });
    name.s.send(alert());
    await sleep(400);
    t.not(name.s.transport.state, 'connected', 'a name the certificate does not carry is refused');
    await name.s.stop(100);

    const off = sender(t, { port: rs.tlsPort, protocol: 'tls', tls: { ca: certs.otherCa, verify: false } });
    before = rs.received().length;
    off.s.send(alert());
    t.equal((await arrivals(before, 1)).length, 1, 'verify: false skips the check');
    await off.s.stop(2000);
  });

  t.test('mutual TLS: rsyslog (gtls, x509/name) accepts only our client certificate', { skip: noTls ?? false }, async (t) => {
    const strict = await startRsyslog(t, { tls: { driver: 'gtls', ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, authMode: 'x509/name', permittedPeer: 'flowbridge-client' } });
    const mk = (tls: Record<string, unknown>) => sender(t, { port: strict.tlsPort, protocol: 'tls', tls });
    const anon = mk({ ca: certs.ca });
    anon.s.send(alert());
    await sleep(500);
    await anon.s.stop(100);
    t.equal(strict.received().length, 0, 'no client certificate: nothing accepted');
    const client = mk({ ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
    const a = alert();
    client.s.send(a);
    const got = await strict.waitFor(1, 5000);
    t.same(got.map((r) => r.msg), [alertJson(a)]);
    await client.s.stop(2000);
  });

  t.test('receiver down: the queue stays bounded, drops are counted, delivery resumes on reconnect', async (t) => {
    const { s, m } = sender(t, { port: rs.tcpPort, protocol: 'tcp', queue: 10 });
    const first = rs.received().length;
    for (let i = 0; i < 5; i++) s.send(alert());
    t.equal((await arrivals(first, 5)).length, 5);
    await rs.stop();
    for (let i = 0; i < 200 && s.transport.state === 'connected'; i++) await sleep(10);
    t.not(s.transport.state, 'connected', 'the closed connection was noticed');
    const outage: AlertEvent[] = [];
    let maxDepth = 0;
    for (let i = 0; i < 50; i++) {
      const a = alert();
      outage.push(a);
      s.send(a);
      maxDepth = Math.max(maxDepth, s.transport.depth);
    }
    t.equal(maxDepth, 10, 'never more than the queue size');
    t.equal(m.total('syslog_dropped_total'), 40, 'the 40 oldest dropped and counted');
    t.equal(m.snapshot().find((x) => x.name === 'syslog_queue_depth')?.value, 10, 'queue depth gauge');
    await sleep(300);
    t.ok(m.total('syslog_errors_total') >= 1, 'failed reconnects counted');
    const before = rs.received().length;
    await rs.start();
    const got = await arrivals(before, 10);
    t.same(got.map((r) => r.msg), outage.slice(40).map(alertJson), 'the 10 newest arrive after the restart');
    await sleep(100);
    t.equal(rs.received().length, before + 10, 'and nothing else');
    t.equal(m.total('syslog_sent_total'), 15);
    t.equal(m.total('syslog_connects_total'), 2);
    await s.stop(2000);
    t.equal(m.snapshot().find((x) => x.name === 'syslog_queue_depth')?.value, 0);
  });

  t.test('UDP to a port nobody listens on: sends are counted, nothing blocks; a stopped sender drops', async (t) => {
    const { s, m } = sender(t, { port: 9, protocol: 'udp' });
    for (let i = 0; i < 20; i++) s.send(alert());
    await s.stop(2000);
    t.equal(m.total('syslog_sent_total') + m.total('syslog_dropped_total'), 20);
    s.send(alert());
    t.equal(m.total('syslog_dropped_total') - (20 - m.total('syslog_sent_total')), 1, 'after stop: dropped');
  });
}
