// What the kernel dropped on a socket: when the collector reads slower than datagrams arrive, the
// socket's receive buffer fills and Linux discards the rest without telling the reader. Its count per
// socket is the last column of /proc/net/udp (udp6 for IPv6), keyed by the local address and port.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import ipaddr from 'ipaddr.js';

/**
 * The local_address column of a socket bound to `address`:`port`: the address's 32-bit words as the
 * kernel holds them (host byte order), each %08X, then the port in hex ("0100007F:0807" on x86).
 */
export function procLocalAddress(address: string, port: number): string {
  const bytes = ipaddr.parse(address).toByteArray();
  const le = endianness() === 'LE';
  let hex = '';
  for (let w = 0; w < bytes.length; w += 4) {
    const word = bytes.slice(w, w + 4);
    if (le) word.reverse();
    for (const b of word) hex += b.toString(16).toUpperCase().padStart(2, '0');
  }
  return `${hex}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Datagrams the kernel dropped on the socket bound to `address`:`port` since it was created, or
 * undefined where there is no such table (not Linux) or no such socket.
 */
export function kernelDrops(address: string, port: number, table = ipaddr.parse(address).kind() === 'ipv6' ? '/proc/net/udp6' : '/proc/net/udp'): number | undefined {
  let text: string;
  try {
    text = readFileSync(table, 'latin1');
  } catch {
    return undefined;
  }
  const key = ` ${procLocalAddress(address, port)} `;
  const at = text.indexOf(key);
  if (at < 0) return undefined;
  const end = text.indexOf('\n', at);
  const fields = text.slice(at, end < 0 ? undefined : end).trim().split(/\s+/);
  const n = Number(fields[fields.length - 1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
