// The one host:port parser. Listeners need IP literals (binding never waits on name resolution); sinks
// may name a host. Callers turn the problem into their own message, so this file holds only the rules.
import { isIP } from 'node:net';

export interface HostPortOptions {
  /** Accept host names (sinks); false = IP literals only (listeners). */
  names: boolean;
  /** Host used for ":2055"; without it an empty host is a problem. */
  emptyHost?: string;
  /**
   * Accept any text after "%" as an IPv6 zone (the config format always has); otherwise node's rule
   * (letters, digits, "-", ".", ":"), which is what a listener can bind.
   */
  anyZone?: boolean;
}

/** What is wrong, in the order checked: the address before the port. */
export type HostPortProblem =
  | 'bracket' // "[" not closed by "]:"
  | 'not-v6' // the bracketed host is not an IPv6 literal
  | 'no-port' // no colon at all
  | 'unbracketed-v6' // a colon in an unbracketed host
  | 'empty-host'
  | 'not-v4' // not an IPv4 literal (a name where names are not allowed, or digits and dots that are no address)
  | 'bad-name' // not a valid DNS name
  | 'bad-port'; // not 0..65535 in at most 5 digits

/** `host` is IPv6 without brackets, as written (zone kept, not canonical). */
export type HostPortResult =
  | { ok: true; host: string; port: number; v6: boolean }
  | { ok: false; problem: HostPortProblem; host: string; portText: string };

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function splitHostPort(text: string, opts: HostPortOptions): HostPortResult {
  const s = text.trim();
  let host: string, portText: string;
  const fail = (problem: HostPortProblem): HostPortResult => ({ ok: false, problem, host, portText });
  const v6 = s.startsWith('[');
  if (v6) {
    const close = s.indexOf(']');
    host = s.slice(1, close < 0 ? s.length : close);
    portText = close < 0 ? '' : s.slice(close + 2);
    if (close < 0 || s[close + 1] !== ':') return fail('bracket');
    // A zone (fe80::1%eth0) is allowed: a listener may need one to bind a link-local address.
    const pct = opts.anyZone ? host.indexOf('%') : -1;
    if (isIP(pct < 0 ? host : host.slice(0, pct)) !== 6) return fail('not-v6');
  } else {
    const colon = s.lastIndexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    portText = colon < 0 ? '' : s.slice(colon + 1);
    if (colon < 0) return fail('no-port');
    if (host.includes(':')) return fail('unbracketed-v6');
    if (host === '') {
      if (opts.emptyHost === undefined) return fail('empty-host');
      host = opts.emptyHost;
    } else if (!opts.names || /^[\d.]+$/.test(host)) {
      if (isIP(host) !== 4) return fail('not-v4');
    } else if (!HOSTNAME.test(host)) return fail('bad-name');
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return fail('bad-port');
  return { ok: true, host, port: Number(portText), v6 };
}
