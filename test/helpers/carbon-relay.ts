// A private carbon-c-relay (Debian `carbon-c-relay`) for tests: a consistent-hash cluster in front of
// carbon-caches on loopback, its own config file, killed with the test process. The config text is the
// one docs/scaling.md shows, with the ports filled in.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort } from './ports.js';
import { stopGently } from './process.js';

export const CARBON_C_RELAY = process.env.CARBON_C_RELAY_PATH || '/usr/bin/carbon-c-relay';

export function relayMissing(): string | null {
  return existsSync(CARBON_C_RELAY) ? null : `carbon-c-relay not found at ${CARBON_C_RELAY} (apt-get install carbon-c-relay)`;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface RelayDestination {
  /** carbon-cache line receiver port on 127.0.0.1 */
  port: number;
  /** the member's instance: carbon_ch hashes host and instance, so caches on one host need distinct ones */
  instance: string;
}

export interface Relay {
  /** line receiver (TCP) the collectors send to */
  port: number;
  config: string;
  stop(): Promise<void>;
  log(): string;
}

/** The relay configuration: every metric to exactly one cache, chosen by carbon's consistent hash. */
export function relayConfig(listenPort: number, caches: RelayDestination[], method = 'carbon_ch'): string {
  return `cluster caches
    ${method} replication 1
${caches.map((c) => `        127.0.0.1:${c.port}=${c.instance}`).join('\n')}
    ;
match *
    send to caches
    stop
    ;
listen
    type linemode
        127.0.0.1:${listenPort} proto tcp
    ;
`;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** Starts carbon-c-relay on a free loopback port; stopped and its directory removed at `t`'s teardown. */
export async function startRelay(t: Teardown, caches: RelayDestination[], method = 'carbon_ch'): Promise<Relay> {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-relay-'));
  const port = await freeTcpPort();
  const config = relayConfig(port, caches, method);
  const file = join(dir, 'relay.conf');
  writeFileSync(file, config);
  let output = '';
  // -s: no internal statistics (they would land in the caches as carbon.relays.*); -w 1: one worker is plenty
  const child: ChildProcess = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', CARBON_C_RELAY, '-f', file, '-s', '-w', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const onOut = (d: Buffer): void => { output = (output + d.toString()).slice(-20_000); };
  child.stdout!.on('data', onOut);
  child.stderr!.on('data', onOut);

  t.teardown(async () => {
    await stopGently(child);
    rmSync(dir, { recursive: true, force: true });
  });

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`carbon-c-relay exited with ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`carbon-c-relay not listening after 10 s: ${output}`);
    if (await portAnswers(port)) break;
    await sleep(20);
  }
  return { port, config, stop: () => stopGently(child), log: () => output };
}
