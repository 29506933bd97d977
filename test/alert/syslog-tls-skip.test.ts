// Without rsyslog-gnutls (an optional Debian package) the syslog TLS tests skip and say why instead
// of crashing the file (#18). The package is "removed" by pointing rsyslogd (-M) at a copy of its
// module directory without the gtls driver. And the README names every package the tests use.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { rsyslogMissing, rsyslogModuleDir, rsyslogTlsMissing, startRsyslog } from '../helpers/rsyslog.js';

t.test('the README lists every Debian package .ci/run installs', (t) => {
  const root = new URL('../../', import.meta.url);
  const packages = /APT_PACKAGES="([^"]+)"/.exec(readFileSync(new URL('.ci/run', root), 'utf8'))![1]!.split(/\s+/);
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  t.ok(packages.length > 5, `${packages.length} packages`);
  t.same(packages.filter((p) => !readme.includes(`\`${p}\``)), [], 'each named in the README');
  t.end();
});

const missing = rsyslogMissing() ?? (rsyslogModuleDir() ? null : "rsyslog's module directory not found");
if (missing) {
  t.plan(0, missing);
} else {
  const real = rsyslogModuleDir()!;
  const dir = t.testdir();
  for (const f of readdirSync(real)) if (f !== 'lmnsd_gtls.so') symlinkSync(join(real, f), join(dir, f));

  t.test('the helper names the missing package, and refuses a TLS listener at once', async (t) => {
    process.env.RSYSLOG_MODDIR = dir;
    t.teardown(() => { delete process.env.RSYSLOG_MODDIR; });
    t.match(rsyslogTlsMissing('gtls'), /lmnsd_gtls\.so.*apt-get install rsyslog-gnutls/);
    const started = Date.now();
    await t.rejects(startRsyslog(t, { tls: { driver: 'gtls', ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' } }), /rsyslog-gnutls/);
    t.ok(Date.now() - started < 2000, 'without the 15 s readiness wait');
    const plain = await startRsyslog(t, {});
    t.ok(plain.tcpPort > 0, 'rsyslog without TLS still starts from that module directory');
    await plain.stop();
  });

  t.test('syslog-rsyslog.test.ts without the gtls driver: passes, the TLS tests skipped with the reason', (t) => {
    // the same node and TypeScript loader as this process; the child reports TAP on its stdout
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TAP') && !k.startsWith('_TAPJS')));
    // its own working directory: run from ours, its fixture directory (certificates) would be the one of
    // the syslog-rsyslog.test.ts tap runs beside this file, and its exit would delete that one's files
    const cwd = t.testdir();
    const r = spawnSync(process.execPath, [...process.execArgv, new URL('syslog-rsyslog.test.ts', import.meta.url).pathname],
      { cwd, env: { ...env, RSYSLOG_MODDIR: dir }, encoding: 'utf8', timeout: 120_000 });
    t.equal(r.status, 0, `exit ${r.status}${r.status ? `: ${r.stderr.slice(-2000)}` : ''}`);
    const skipped = r.stdout.split('\n').filter((l) => /^\s*ok \d+ - .*TLS.* # SKIP/.test(l));
    t.equal(skipped.length, 2, `the two TLS tests skipped:\n${skipped.join('\n')}`);
    t.match(r.stdout, /skipping the TLS tests: .*apt-get install rsyslog-gnutls/, 'with the reason');
    t.notMatch(r.stdout, /^\s*not ok/m, 'nothing failed');
    t.end();
  });
}
