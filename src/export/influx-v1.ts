// What differs between InfluxDB versions, for the sink. 1.0–1.7 speak only the v1 write endpoint:
// `/write?db=&rp=&precision=` with basic auth; 1.8+, 2.x and 3.x take `/api/v2/write`. Both carry the
// same line protocol. And each version words a partial write (some lines stored, the rest rejected)
// its own way; partialWriteRejected reads all of them so the sink can count the batch line by line.
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

/** The write path for a v1 server. */
export function v1WritePath(bucket: string, precision: WritePrecisionType): string {
  const { db, rp } = splitBucket(bucket);
  return `/write?db=${encodeURIComponent(db)}${rp ? `&rp=${encodeURIComponent(rp)}` : ''}&precision=${V1_PRECISION[precision]}`;
}

/** The write path of either API (v2: the one the official client's WriteApi uses). */
export function writePath(api: 'v1' | 'v2', org: string, bucket: string, precision: WritePrecisionType): string {
  if (api === 'v1') return v1WritePath(bucket, precision);
  return `/api/v2/write?org=${encodeURIComponent(org)}&bucket=${encodeURIComponent(bucket)}&precision=${precision}`;
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

/**
 * How many of a batch's `lines` the server rejected while storing the others, read from its answer
 * (the body, JSON or text); undefined when the answer is no partial write, i.e. the whole batch was
 * refused. The forms:
 * - 1.x (400) `{"error":"partial write: <reason> dropped=N"}`, plus one "unable to parse '…'" per line
 *   that did not parse, which N leaves out (1.6 even drops that part when some points also clash);
 * - 2.x OSS (422) `failure writing points to database: partial write: <reason> dropped=N`;
 * - Cloud 2 and explicit bucket schemas (400) `partial write error (N written)` or `(N accepted)`;
 * - 3.x Core/Enterprise (400) `{"error":"partial write of line protocol occurred","data":[…]}`, one
 *   entry per rejected line.
 */
export function partialWriteRejected(body: string, lines: number): number | undefined {
  let msg = body;
  let data: unknown;
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown; data?: unknown } | null;
    if (j && typeof j === 'object') {
      msg = String(j.error ?? j.message ?? body);
      data = j.data;
    }
  } catch {
    // a text body: read it as it is
  }
  let rejected: number;
  let m: RegExpExecArray | null;
  if (msg.includes('partial write of line protocol occurred') && Array.isArray(data)) {
    rejected = data.length;
  } else if ((m = /partial write error \((\d+) (?:written|accepted)\)/.exec(msg))) {
    rejected = lines - Number(m[1]);
  } else if (msg.includes('partial write:')) {
    rejected = Number(/dropped=(\d+)/.exec(msg)?.[1] ?? 0) + (msg.match(/unable to parse '/g)?.length ?? 0);
  } else {
    return undefined;
  }
  return Math.min(lines, Math.max(0, rejected));
}

/** Logged at start: with the v2 API an empty token works only on an InfluxDB 1.8 without authentication. */
export const EMPTY_TOKEN_WARNING = 'influx.token is empty: InfluxDB 2.x and 3.x refuse every write without one (HTTP 401); ' +
  'set influx.token or influx.tokenFile (only an InfluxDB 1.8 without authentication needs none)';

/**
 * What to change when the server refuses a write with `status`, since its answer ("404 page not found",
 * "unauthorized access") names no key of ours; undefined when there is no advice.
 */
export function rejectionHint(api: 'v1' | 'v2', status: number, body: string): string | undefined {
  if (status === 401 || status === 403) {
    return api === 'v1'
      ? 'check influx.token (or influx.tokenFile): "username:password" of a user allowed to write to the database in influx.bucket'
      : 'check influx.token (or influx.tokenFile): a token with write access to influx.bucket ("username:password" for InfluxDB 1.8)';
  }
  if (status !== 404) return undefined;
  // 1.8+, 2.x and 3.x say which bucket, database or org is missing; 1.0–1.7 have no /api/v2/write at all
  if (/bucket|database|org/i.test(body)) return 'check influx.bucket and influx.org: they must exist on the server';
  return api === 'v2' ? 'this looks like InfluxDB 1.x: set influx.api: v1' : 'no /write endpoint there: check influx.url (InfluxDB 2.x and 3.x: set influx.api: v2)';
}
