// InfluxDB 1.0–1.7 speak only the v1 write endpoint: `/write?db=&rp=&precision=` with basic auth. The
// official client's WriteApi stays in charge of batching, gzip, retries and the bounded buffer: only
// its request path and Authorization header change, so both modes send identical line protocol.
import type { WritePrecisionType } from '@influxdata/influxdb-client';
import { ConfigError } from '../lib/errors.js';

/** A value the config format accepted but the InfluxDB sink cannot use (a ConfigError: exit status 2). */
export class InfluxConfigError extends ConfigError {}

/** v1 spells precisions differently and silently reads an unknown unit as nanoseconds. */
const V1_PRECISION: Record<WritePrecisionType, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };

/** "db" or "db/rp" (the bucket form InfluxDB 1.8+ maps to a database and retention policy). */
export function splitBucket(bucket: string): { db: string; rp: string } {
  const slash = bucket.indexOf('/');
  const db = slash < 0 ? bucket : bucket.slice(0, slash);
  const rp = slash < 0 ? '' : bucket.slice(slash + 1);
  if (db === '') throw new InfluxConfigError('influx.bucket', `config: influx.bucket = ${JSON.stringify(bucket)}: expected "database" or "database/retention-policy"`);
  return { db, rp };
}

/** The WriteApi path for a v1 server. */
export function v1WritePath(bucket: string, precision: WritePrecisionType): string {
  const { db, rp } = splitBucket(bucket);
  return `/write?db=${encodeURIComponent(db)}${rp ? `&rp=${encodeURIComponent(rp)}` : ''}&precision=${V1_PRECISION[precision]}`;
}

/**
 * Basic auth from the token in its 1.8+ compatibility form "username:password"; no header for an
 * empty token (a server without auth).
 */
export function v1AuthHeaders(token: string): Record<string, string> {
  if (token === '') return {};
  if (!token.includes(':')) throw new InfluxConfigError('influx.token', 'config: influx.token = "[redacted]": expected "username:password" in v1 mode');
  return { authorization: `Basic ${Buffer.from(token, 'utf8').toString('base64')}` };
}
