#!/usr/bin/env node
// CLI entry (npm bin `flowbridge`); the commands live in cli.ts so tests can import them.
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { main } from './cli.js';

// V8 lets the old generation grow to about four times what survives a full collection while
// collecting is cheap. Under a flood of short-lived templates and held sets that is 140 MB of heap for
// 35 MB of data; at 1.5 times, RSS stays near 200 MB for a few percent more time in GC (npm run bench
// hostile, docs/performance.md). Read at each collection, so setting it here, before any, is enough.
setFlagsFromString('--heap-growing-percent=50');

/**
 * Ends the process with `code` whatever is still open (a shutdown past its timeout). process.exit()
 * joins libuv's thread pool, so a thread blocked for good (opening a FIFO nobody reads, a hung NFS
 * mount) would keep it from returning: a watchdog process SIGKILLs this one if it still runs 0.5 s on.
 */
function hardExit(code: number): void {
  const pid = process.pid;
  try {
    // the ppid check: once this process is gone its pid may belong to another
    spawn(process.execPath, ['-e', `setTimeout(() => { if (process.ppid === ${pid}) process.kill(${pid}, 'SIGKILL'); }, 500)`],
      { stdio: 'ignore' }).unref();
  } catch {
    // no watchdog: process.exit alone still ends every case but a stuck thread
  }
  process.exit(code);
}

main(process.argv.slice(2), { exit: hardExit }).then((code) => {
  process.exitCode = code;
}, (err) => {
  process.stderr.write(`flowbridge: ${(err as Error)?.stack ?? err}\n`);
  process.exitCode = 1;
});
