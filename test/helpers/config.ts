// Loading the configuration in tests: isolated from the real process (no env, no argv unless given),
// and the one-line ConfigError a bad one must give.
import type { Test } from 'tap';
import { ConfigError } from '../../src/lib/errors.js';
import { loadConfig, type LoadOptions } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

export const load = (o: LoadOptions = {}): Config => loadConfig({ argv: [], env: {}, ...o });

/** The error a load throws; fails the test when it does not throw a one-line ConfigError. */
export function errorOf(t: Test, o: LoadOptions): ConfigError {
  try {
    load(o);
  } catch (e) {
    t.ok(e instanceof ConfigError, 'a ConfigError');
    t.notMatch((e as Error).message, /\n/, 'one line');
    return e as ConfigError;
  }
  t.fail(`did not throw: ${JSON.stringify(o)}`);
  return new ConfigError('', '');
}
