// Child processes of the test servers.
import { spawnSync, type ChildProcess } from 'node:child_process';

/** Whether `cmd` is on the PATH (tests that need an optional Debian package skip without it). */
export const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** SIGKILL (a crash, for outage drills) and wait until the process is gone; no-op if it already is. */
export async function killHard(c: ChildProcess | undefined): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.kill('SIGKILL');
  await exited;
}

/** SIGTERM, SIGKILL after `graceMs`, and wait until the process is gone; no-op if it already is. */
export async function stopGently(c: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
