// Shutdown always ends (issue 17, item 2): the real CLI with an InfluxDB that accepts connections and
// never answers exits within --shutdown-timeout, non-zero, naming what it lost; a SIGHUP storm during a
// slow reload leaves one reload running and at most one pending, and SIGTERM still ends in time.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBlackhole } from './helpers/blackhole.js';
import { startCli, v5Datagram, type CliProcess } from './helpers/cli-process.js';

const TIMEOUT_MS = 2000;
/** ending after the deadline (main.ts's watchdog included) takes well under this; the helper kills at 8 s past it */
const MARGIN_MS = 2000;

/** the collector on 1 s intervals, writing to a never-answering InfluxDB */
async function collector(t: Parameters<typeof startCli>[0], influxPort: number, extra: string[] = []): Promise<CliProcess> {
  return startCli(t, ['--home', '10.1.0.0/16', '--output', 'json', '--listen-netflow', '127.0.0.1:0', '--listen-sflow', '',
    '--state-file', '', '--interval', '1', '--aggregate-hold', '0s', '--web-listen', '127.0.0.1:0',
    '--influx-enabled', 'true', '--influx-url', `http://127.0.0.1:${influxPort}`, '--shutdown-timeout', `${TIMEOUT_MS / 1000}s`, ...extra]);
}

/** `seconds` of NetFlow v5 from one home host, 20 datagrams a second, so intervals close and queue in the sink */
async function feed(fb: CliProcess, seconds: number): Promise<void> {
  const sock = createSocket('udp4');
  for (let i = 0; i < seconds * 20; i++) {
    await new Promise<void>((r) => sock.send(v5Datagram('10.1.0.5', `192.0.2.${i % 200}`, 10, 1000), fb.udpPort, '127.0.0.1', () => r()));
    await sleep(50);
  }
  sock.close();
}

/** SIGTERM; the exit code and how long the process took to end (null: it had to be killed) */
async function terminate(fb: CliProcess): Promise<{ code: number | null; ms: number }> {
  const start = performance.now();
  const code = await fb.stop(TIMEOUT_MS + 8000);
  return { code, ms: Math.round(performance.now() - start) };
}

const logLines = (fb: CliProcess) => fb.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

t.test('an InfluxDB that never answers: SIGTERM ends the process within the timeout, non-zero, naming what was lost', async (t) => {
  const influx = await startBlackhole({ read: false });
  t.teardown(() => influx.close());
  // requests time out and are retried, as with an InfluxDB hung for longer than influx.timeout
  const fb = await collector(t, influx.port, ['--influx-timeout', '300ms', '--influx-min-retry-delay', '100ms']);
  await feed(fb, 5);
  const before = await fb.metrics();
  t.ok(before.total('flowbridge_sink_queue_lines', { sink: 'influx' }) > 0, 'lines wait in the influx sink');
  const { code, ms } = await terminate(fb);
  t.comment(`exit ${code} after ${ms} ms`);
  t.not(code, null, 'the process ended by itself');
  t.not(code, 0, 'non-zero: lines were lost');
  t.ok(ms < TIMEOUT_MS + MARGIN_MS, `ended ${ms} ms after SIGTERM (timeout ${TIMEOUT_MS} ms)`);
  const lost = logLines(fb).find((l) => typeof l.msg === 'string' && /not delivered/.test(l.msg));
  t.ok(lost, `a log line says what was not delivered: ${fb.stderr().slice(-1500)}`);
  const lines = (lost?.lines ?? {}) as Record<string, number>;
  t.ok((lines.influx ?? 0) > 0, `the influx lines lost are counted: ${JSON.stringify(lost)}`);
});

t.test('a sink that never finishes stopping (JSON lines into a FIFO nobody reads): the process ends at the deadline', async (t) => {
  const influx = await startBlackhole({ read: false });
  t.teardown(() => influx.close());
  const fifo = join(t.testdir(), 'summaries.fifo');
  execFileSync('mkfifo', [fifo]);
  // opening a FIFO for writing waits for a reader, so the JSON sink's stop() waits forever
  const fb = await collector(t, influx.port, ['--output-path', fifo]);
  await feed(fb, 2);
  const { code, ms } = await terminate(fb);
  t.comment(`exit ${code} (${fb.child.signalCode}) after ${ms} ms`);
  // the blocked open holds a thread of libuv's pool, which process.exit() waits for: main.ts's watchdog
  // then SIGKILLs the process half a second later
  t.ok(code === 1 || fb.child.signalCode === 'SIGKILL', 'ended by the deadline: status 1, or the watchdog when exit() hangs');
  // the watchdog is a node process started at the deadline: allow for its start-up on a busy machine
  t.ok(ms >= TIMEOUT_MS - 100 && ms < TIMEOUT_MS + 2 * MARGIN_MS, `ended ${ms} ms after SIGTERM (timeout ${TIMEOUT_MS} ms)`);
  const timedOut = logLines(fb).find((l) => l.msg !== undefined && String(l.msg).startsWith('shutdown timed out'));
  t.ok(timedOut, 'the log says the shutdown timed out');
  t.equal(timedOut?.waitingFor, 'sinks', 'and what it was waiting for');
  t.match(String(timedOut?.msg), /^shutdown timed out: \d+ lines and 0 alerts not delivered$/, 'and what was lost');
  t.ok(((timedOut?.lines ?? {}) as Record<string, number>).influx! > 0, `the influx lines are counted: ${JSON.stringify(timedOut)}`);
});

t.test('a SIGHUP storm during a slow reload: one running, at most one pending; SIGTERM still ends in time', async (t) => {
  const influx = await startBlackhole({ read: false });
  t.teardown(() => influx.close());
  // requests hang (influx.timeout 10 s): stopping a sink that holds lines waits most of the shutdown timeout
  const fb = await collector(t, influx.port);
  const feeding = feed(fb, 4);
  await sleep(2500); // intervals have closed: the first sink holds lines, so stopping it in the reload is slow
  const mark = fb.stderr().length;
  const stormStart = performance.now();
  for (let i = 0; i < 200; i++) {
    fb.child.kill('SIGHUP');
    await sleep(2); // one at a time: the kernel merges signals that arrive together
  }
  const stormMs = performance.now() - stormStart;
  await feeding;
  const m = await fb.metrics();
  const elapsed = performance.now() - stormStart;
  const reloads = (result: string) => m.total('flowbridge_config_reloads_total', { result });
  const started = reloads('ok') + reloads('failed') + reloads('invalid');
  t.comment(`reloads: ok ${reloads('ok')}, failed ${reloads('failed')}, coalesced ${reloads('coalesced')}`);
  // each reload stops a sink holding lines, which takes 1.6 s (80 % of the timeout): one running, one
  // pending, and on a slow machine one more per 1.6 s the storm and the feed lasted
  t.ok(started <= 2 + Math.floor(elapsed / 1600), `${started} reloads finished ${Math.round(elapsed)} ms after a ${Math.round(stormMs)} ms storm began`);
  t.ok(reloads('coalesced') >= 150, `${reloads('coalesced')} SIGHUPs folded into the pending reload`);
  const { code, ms } = await terminate(fb);
  t.comment(`exit ${code} after ${ms} ms`);
  t.not(code, null, 'the process ended by itself');
  t.ok(ms < TIMEOUT_MS + MARGIN_MS, `ended ${ms} ms after SIGTERM (timeout ${TIMEOUT_MS} ms)`);
  const done = fb.stderr().slice(mark).split('\n').filter((l) => l.includes('"msg":"configuration reloaded"')).length;
  t.ok(done <= started + 1, `${done} reloads applied in all: at most the one running at SIGTERM after those`);
});
