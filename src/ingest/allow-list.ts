// exporters.allow: which sources may send. Checked per datagram from the address text, so memoized.
import ipaddr from 'ipaddr.js';
import { PrefixTable } from '../classify/prefixes.js';

/** The check for `prefixes` (undefined when empty: every exporter is allowed); its memo is bounded. */
export function allowList(prefixes: readonly string[], max = 10_000): ((addr: string) => boolean) | undefined {
  if (prefixes.length === 0) return undefined;
  const table = new PrefixTable<boolean>();
  for (const p of prefixes) table.insert(p, true);
  const memo = new Map<string, boolean>();
  return (addr: string) => {
    let ok = memo.get(addr);
    if (ok === undefined) {
      ok = false;
      if (ipaddr.isValid(addr)) {
        const ip = ipaddr.process(addr);
        const bytes = ip.toByteArray();
        ok = (ip.kind() === 'ipv4'
          ? table.lookup4(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0)
          : table.lookup6(Uint8Array.from(bytes))) === true;
      }
      if (memo.size >= max) memo.clear();
      memo.set(addr, ok);
    }
    return ok;
  };
}
