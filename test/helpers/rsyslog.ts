// A private rsyslogd for tests (../shared/recipes/rsyslog.md): its own config, work dir, pid file and
// loopback ports, writing every received message as one JSON line (hostname, app-name, procid, msgid,
// structured data parsed by mmpstrucdata, msg). Never touches the system's rsyslog. Also makes EC P-256
// certificates with openssl for the TLS listener.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { freeTcpPort, freeUdpPort, retryPortClash } from './ports.js';
import { killHard, stopGently } from './process.js';

export const RSYSLOGD = process.env.RSYSLOGD_PATH || '/usr/sbin/rsyslogd';

/** null when rsyslogd is missing: the caller skips with this reason. */
export function rsyslogMissing(): string | null {
  return existsSync(RSYSLOGD) ? null : `rsyslogd not found at ${RSYSLOGD} (apt-get install rsyslog rsyslog-gnutls rsyslog-openssl)`;
}

/** RSYSLOG_MODDIR (passed to rsyslogd as -M), else the directory holding imtcp, which rsyslog itself ships. */
export function rsyslogModuleDir(): string | undefined {
  if (process.env.RSYSLOG_MODDIR) return process.env.RSYSLOG_MODDIR;
  const multiarch = existsSync('/usr/lib') ? readdirSync('/usr/lib').map((d) => `/usr/lib/${d}/rsyslog`) : [];
  return ['/usr/lib/rsyslog', '/usr/lib64/rsyslog', ...multiarch].find((d) => existsSync(join(d, 'imtcp.so')));
}

const TLS_PACKAGES = { gtls: 'rsyslog-gnutls', ossl: 'rsyslog-openssl' } as const;

/**
 * null when rsyslog can run a TLS listener with `driver`. The drivers are separate, optional Debian
 * packages: without one, rsyslogd only logs the failed listener, so say why and let the caller skip.
 */
export function rsyslogTlsMissing(driver: TlsListener['driver']): string | null {
  const base = rsyslogMissing();
  if (base) return base;
  const dir = rsyslogModuleDir();
  if (!dir) return `rsyslog's module directory not found (set RSYSLOG_MODDIR)`;
  return existsSync(join(dir, `lmnsd_${driver}.so`)) ? null
    : `rsyslog's ${driver} TLS driver (lmnsd_${driver}.so) is not in ${dir} (apt-get install ${TLS_PACKAGES[driver]})`;
}

/** One received message as the FlowJson template writes it. */
export interface Received {
  timereported: string;
  hostname: string;
  'app-name': string;
  procid: string;
  msgid: string;
  'structured-data': string;
  /** mmpstrucdata's parse: { "flowbridge@32473": { name: "uport", … } } (escapes resolved) */
  sd?: Record<string, Record<string, string>>;
  msg: string;
  facility: string;
  severity: string;
  'protocol-version': string;
  inputname: string;
}

export interface TlsListener {
  driver: 'gtls' | 'ossl';
  ca: string;
  cert: string;
  key: string;
  /** "anon" (default) or "x509/name" with permittedPeer (mutual TLS) */
  authMode?: 'anon' | 'x509/name';
  permittedPeer?: string;
}

export interface Rsyslog {
  udpPort: number;
  tcpPort: number;
  tlsPort: number;
  dir: string;
  /** complete lines of the output file, parsed; the readiness probes are left out */
  received(): Received[];
  /** waits until `n` messages arrived (or the timeout), returns them */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  stop(): Promise<void>;
  /** starts the same daemon again on the same ports (after stop) */
  start(): Promise<void>;
  /** SIGKILL, as a crash (no shutdown); start() brings it back on the same ports and output file */
  kill(): Promise<void>;
  /** rsyslogd's own messages (config errors and the like) */
  internalLog(): string;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

function config(w: string, udp: number, tcp: number, tlsPort: number, tls?: TlsListener, udpRcvbuf?: string): string {
  const tlsInput = tls ? `
input(type="imtcp" address="127.0.0.1" port="${tlsPort}" ruleset="remote" name="tls"
      streamDriver.name="${tls.driver}" streamDriver.mode="1" streamDriver.authMode="${tls.authMode ?? 'anon'}"
      ${tls.permittedPeer ? `permittedPeer=["${tls.permittedPeer}"]` : ''}
      streamDriver.CAFile="${tls.ca}" streamDriver.CertFile="${tls.cert}" streamDriver.KeyFile="${tls.key}")` : '';
  return `global(workDirectory="${w}/work" maxMessageSize="64k" processInternalMessages="on" net.enableDNS="off")
module(load="imudp")
module(load="imtcp" maxSessions="200")
module(load="mmpstrucdata")
template(name="FlowJson" type="list" option.jsonf="on") {
  property(outname="timereported" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app-name" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="structured-data" name="structured-data" format="jsonf")
  property(outname="sd" name="$!rfc5424-sd" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="facility" name="syslogfacility-text" format="jsonf")
  property(outname="severity" name="syslogseverity-text" format="jsonf")
  property(outname="protocol-version" name="protocol-version" format="jsonf")
  property(outname="inputname" name="inputname" format="jsonf")
}
ruleset(name="remote") {
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file="${w}/out/messages.jsonl" template="FlowJson" flushOnTXEnd="on" asyncWriting="off")
}
input(type="imudp" address="127.0.0.1" port="${udp}" ruleset="remote" name="udp"${udpRcvbuf ? ` rcvbufSize="${udpRcvbuf}"` : ''})
input(type="imtcp" address="127.0.0.1" port="${tcp}" ruleset="remote" name="tcp")${tlsInput}
action(type="omfile" file="${w}/out/rsyslogd-internal.log")
`;
}

const PROBE_APP = 'rsyslog-probe';

/** Starts rsyslogd on free loopback ports; stopped and its directory removed at `t`'s teardown. */
export interface RsyslogOptions {
  tls?: TlsListener;
  /** imudp's socket receive buffer (e.g. "4m"); default: the kernel's (about 200 KB on Linux) */
  udpRcvbuf?: string;
}

export function startRsyslog(t: Teardown, opts: RsyslogOptions = {}): Promise<Rsyslog> {
  return retryPortClash(() => startRsyslogOnce(t, opts));
}

async function startRsyslogOnce(t: Teardown, opts: RsyslogOptions): Promise<Rsyslog> {
  const noTls = opts.tls && rsyslogTlsMissing(opts.tls.driver);
  if (noTls) throw new Error(noTls); // at once, not after the 15 s readiness wait
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-rsyslog-'));
  for (const d of ['work', 'out']) mkdirSync(join(dir, d));
  const [udpPort, tcpPort, tlsPort] = [await freeUdpPort(), await freeTcpPort(), await freeTcpPort()];
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(conf, config(dir, udpPort, tcpPort, tlsPort, opts.tls, opts.udpRcvbuf));
  const out = join(dir, 'out', 'messages.jsonl');
  // a config typo is only logged and the daemon runs anyway: -N1 fails on it
  const modArgs = process.env.RSYSLOG_MODDIR ? ['-M', process.env.RSYSLOG_MODDIR] : [];
  const check = spawnSync(RSYSLOGD, ['-N1', ...modArgs, '-f', conf], { encoding: 'utf8', timeout: 10_000 });
  if (check.status !== 0) throw new Error(`rsyslogd -N1 rejected the config: ${check.stderr || check.stdout}`);
  let child: ChildProcess | undefined;
  let probes = 0;

  const read = (): Received[] => {
    if (!existsSync(out)) return [];
    const text = readFileSync(out, 'utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    return complete.split('\n').filter(Boolean).map((l) => {
      const raw = JSON.parse(l) as Omit<Received, 'sd'> & { sd?: unknown };
      // jsonf writes the parsed structured data as a JSON string (or "" when there was none)
      const sd = typeof raw.sd === 'string' && raw.sd.startsWith('{') ? JSON.parse(raw.sd) as Received['sd'] : undefined;
      return { ...raw, sd };
    });
  };
  const received = (): Received[] => read().filter((r) => r['app-name'] !== PROBE_APP);

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await stopGently(c);
  };

  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await killHard(c);
    rmSync(join(dir, 'rsyslogd.pid'), { force: true }); // left by the crash; a reused pid in it would block start()
  };

  const start = async (): Promise<void> => {
    try {
      await launch();
    } catch (e) {
      await stop(); // never leave a half-started daemon behind (it would also keep the test process alive)
      throw e;
    }
  };

  const launch = async (): Promise<void> => {
    const c = spawn(RSYSLOGD, ['-n', ...modArgs, '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const onExit = () => c.kill('SIGKILL'); // the test process exiting without teardown (process.exit)
    process.once('exit', onExit);
    c.once('exit', () => process.off('exit', onExit));
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    c.stdout!.resume();
    const deadline = Date.now() + 15_000;
    // readiness: TCP accepts, TLS completes a handshake, a UDP probe reaches the output file
    for (;;) {
      if (c.exitCode !== null) throw new Error(`rsyslogd exited with ${c.exitCode}: ${stderr}`);
      // a port taken first is only logged, and the daemon runs on without that listener
      if (/could not create (udp|tcp) listener/i.test(stderr)) throw new Error(`rsyslogd could not bind a port: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`rsyslogd not ready after 15 s: ${stderr}`);
      const tcpOk = await new Promise<boolean>((resolve) => {
        const s = netConnect({ host: '127.0.0.1', port: tcpPort }, () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      const tlsOk = !opts.tls || await new Promise<boolean>((resolve) => {
        const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false }, () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      if (tcpOk && tlsOk) {
        const tag = `probe-${++probes}`;
        const u = createSocket('udp4');
        await new Promise<void>((resolve) => u.send(`<14>1 - - ${PROBE_APP} - - - ${tag}`, udpPort, '127.0.0.1', () => resolve()));
        u.close();
        const until = Date.now() + 300;
        while (Date.now() < until) {
          if (read().some((r) => r.msg === tag)) return;
          await sleep(10);
        }
      } else {
        await sleep(20);
      }
    }
  };

  const r: Rsyslog = {
    udpPort, tcpPort, tlsPort, dir, received,
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let got = received();
      while (got.length < n && Date.now() < deadline) {
        await sleep(20);
        got = received();
      }
      return got;
    },
    stop, start, kill,
    internalLog: () => {
      const f = join(dir, 'out', 'rsyslogd-internal.log');
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
  };
  t.teardown(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return r;
}

export interface Certs {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** a second, unrelated CA (verification must fail against it) */
  otherCa: string;
}

/** EC P-256 CA, server (CN localhost, SAN 127.0.0.1) and client (CN flowbridge-client) certificates. */
export function makeCerts(dir: string): Certs {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const key = (n: string) => ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(n));
  for (const ca of ['ca', 'other-ca']) {
    key(`${ca}-key.pem`);
    ssl('req', '-x509', '-new', '-key', f(`${ca}-key.pem`), '-subj', `/CN=flowbridge test ${ca}`, '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f(`${ca}.pem`));
  }
  const leaf = (name: string, cn: string, ext: string) => {
    key(`${name}-key.pem`);
    ssl('req', '-new', '-key', f(`${name}-key.pem`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), ext);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial',
      '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
  };
  leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'flowbridge-client', 'subjectAltName=DNS:flowbridge-client\nextendedKeyUsage=clientAuth\n');
  return {
    dir, ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server-key.pem'),
    clientCert: f('client.pem'), clientKey: f('client-key.pem'), otherCa: f('other-ca.pem'),
  };
}
