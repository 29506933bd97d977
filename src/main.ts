#!/usr/bin/env node
// CLI entry (npm bin `flowbridge`); the commands live in cli.ts so tests can import them.
import { main } from './cli.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (err) => {
  process.stderr.write(`flowbridge: ${(err as Error)?.stack ?? err}\n`);
  process.exitCode = 1;
});
