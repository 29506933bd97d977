import t from 'tap';
import { parsePrefix, PrefixError, PrefixTable } from '../../src/classify/prefixes.js';

const v4 = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
function v6(s: string): Uint8Array {
  const [head, tail] = s.split('::') as [string, string | undefined];
  const words = (x: string | undefined): number[] => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head), tl = words(tail);
  const all = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - tl.length).fill(0), ...tl];
  const out = new Uint8Array(16);
  all.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 255; });
  return out;
}

t.test('parsePrefix: canonical text, bare addresses, host bits', (t) => {
  t.same(parsePrefix('10.0.0.0/8'), { v6: false, bytes: [10, 0, 0, 0], len: 8, text: '10.0.0.0/8' });
  t.equal(parsePrefix(' 192.0.2.9 ').text, '192.0.2.9/32');
  t.equal(parsePrefix('2001:DB8:0:0::/32').text, '2001:db8::/32');
  t.equal(parsePrefix('::').text, '::/128');
  t.equal(parsePrefix('0.0.0.0/0').len, 0);
  const e = t.throws(() => parsePrefix('10.1.2.3/16')) as unknown as PrefixError;
  t.ok(e instanceof PrefixError);
  t.equal(e.hostBits, true);
  t.equal(e.suggestion, '10.1.0.0/16');
  const e6 = t.throws(() => parsePrefix('2001:db8::1/64')) as unknown as PrefixError;
  t.equal(e6.suggestion, '2001:db8::/64');
  for (const bad of ['10.0.0.0/33', '10/8', '1.2.3', '0x0a.0.0.0/8', '::/129', 'fe80::1%eth0', '', '/8', '10.0.0.0/8 x']) {
    const b = t.throws(() => parsePrefix(bad), bad) as unknown as PrefixError;
    t.equal(b.hostBits, false, bad);
  }
  t.end();
});

t.test('IPv4: overlapping prefixes, longest wins whatever the insertion order', (t) => {
  const prefixes: [string, string][] = [
    ['10.1.2.0/24', 'c'], ['0.0.0.0/0', 'any'], ['10.0.0.0/8', 'a'], ['10.1.0.0/16', 'b'],
    ['10.1.2.128/25', 'd'], ['10.1.2.200/32', 'e'], ['192.168.0.0/16', 'f'], ['10.1.2.0/23', 'g'],
  ];
  for (const order of [prefixes, [...prefixes].reverse()]) {
    const tb = new PrefixTable<string>();
    for (const [p, v] of order) tb.insert(p, v);
    t.equal(tb.size, prefixes.length);
    t.equal(tb.lookup4(v4('10.200.0.1')), 'a');
    t.equal(tb.lookup4(v4('10.1.99.1')), 'b');
    t.equal(tb.lookup4(v4('10.1.3.1')), 'g');
    t.equal(tb.lookup4(v4('10.1.2.1')), 'c');
    t.equal(tb.lookup4(v4('10.1.2.129')), 'd');
    t.equal(tb.lookup4(v4('10.1.2.200')), 'e');
    t.equal(tb.lookup4(v4('10.1.2.201')), 'd');
    t.equal(tb.lookup4(v4('192.168.255.255')), 'f');
    t.equal(tb.lookup4(v4('8.8.8.8')), 'any', '/0 matches everything else');
    t.equal(tb.lookup4(0), 'any');
    t.equal(tb.lookup4(0xffffffff), 'any');
  }
  const empty = new PrefixTable<number>();
  t.equal(empty.lookup4(v4('10.0.0.1')), undefined);
  t.equal(empty.lookup6(v6('::1')), undefined);
  t.end();
});

t.test('IPv4 /32 and boundaries, re-insert replaces', (t) => {
  const tb = new PrefixTable<number>();
  tb.insert('255.255.255.255', 1);
  tb.insert('0.0.0.0/32', 2);
  tb.insert('172.16.0.0/12', 3);
  t.equal(tb.lookup4(0xffffffff), 1);
  t.equal(tb.lookup4(0xfffffffe), undefined);
  t.equal(tb.lookup4(0), 2);
  t.equal(tb.lookup4(1), undefined);
  t.equal(tb.lookup4(v4('172.31.255.255')), 3);
  t.equal(tb.lookup4(v4('172.32.0.0')), undefined);
  t.equal(tb.lookup4(v4('172.15.255.255')), undefined);
  tb.insert('172.16.0.0/12', 4);
  t.equal(tb.lookup4(v4('172.20.0.1')), 4, 'the later value for an equal prefix');
  tb.insert4(v4('172.20.0.0'), 16, 5);
  t.equal(tb.lookup4(v4('172.20.0.1')), 5);
  t.throws(() => tb.insert4(0, 33, 1), RangeError);
  t.throws(() => tb.insert6(new Uint8Array(16), 129, 1), RangeError);
  t.throws(() => tb.insert('10.0.0.1/8', 1), PrefixError, 'host bits are refused');
  t.end();
});

t.test('IPv6: overlapping, /0, /128; IPv4-mapped addresses are not special', (t) => {
  const tb = new PrefixTable<string>();
  tb.insert('fc00::/7', 'ula');
  tb.insert('fd12:3456::/32', 'site');
  tb.insert('fd12:3456:789a::/48', 'lan');
  tb.insert('fd12:3456:789a:1::1', 'host');
  tb.insert('2001:db8::/32', 'doc');
  tb.insert('10.0.0.0/8', 'v4');
  t.equal(tb.lookup6(v6('fc00::1')), 'ula');
  t.equal(tb.lookup6(v6('fdff::1')), 'ula');
  t.equal(tb.lookup6(v6('fe00::1')), undefined);
  t.equal(tb.lookup6(v6('fd12:3456:1::1')), 'site');
  t.equal(tb.lookup6(v6('fd12:3456:789a:1::2')), 'lan');
  t.equal(tb.lookup6(v6('fd12:3456:789a:1::1')), 'host');
  t.equal(tb.lookup6(v6('2001:db8:ffff::1')), 'doc');
  t.equal(tb.lookup6(v6('::ffff:10.0.0.1'.replace('10.0.0.1', 'a00:1'))), undefined, 'IPv4-mapped does not match 10/8');
  t.equal(tb.lookup4(v4('10.0.0.1')), 'v4');
  t.equal(tb.lookup4(v4('253.0.0.1')), undefined, 'an IPv6 prefix does not leak into IPv4');
  tb.insert('::/0', 'any');
  tb.insert('::ffff:0:0/96', 'mapped');
  t.equal(tb.lookup6(v6('2a00::1')), 'any');
  t.equal(tb.lookup6(v6('::ffff:a00:1')), 'mapped');
  t.equal(tb.lookup6(v6('fd12:3456:789a:1::1')), 'host', 'a /0 does not shadow longer prefixes');
  t.equal(tb.lookup4(v4('11.0.0.1')), undefined, 'IPv6 /0 is not IPv4 /0');
  t.end();
});

// ---- random cross-check against a naive bit-by-bit longest match ----

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function naive(entries: { bytes: number[]; len: number; value: number }[], addr: ArrayLike<number>): number | undefined {
  let best: { len: number; value: number } | undefined;
  for (const e of entries) {
    let ok = true;
    for (let bit = 0; bit < e.len && ok; bit++) {
      const m = 0x80 >> (bit & 7);
      ok = (e.bytes[bit >> 3]! & m) === (addr[bit >> 3]! & m);
    }
    // Later insert of an equal prefix replaces, like the table.
    if (ok && (!best || e.len >= best.len)) best = { len: e.len, value: e.value };
  }
  return best?.value;
}

t.test('10k random addresses agree with a naive longest match (IPv4 and IPv6)', (t) => {
  const rand = rng(20240601);
  for (const fam of [4, 6] as const) {
    const nbytes = fam === 4 ? 4 : 16;
    const tb = new PrefixTable<number>();
    const entries: { bytes: number[]; len: number; value: number }[] = [];
    // Prefixes cluster under a few roots so they overlap heavily and random addresses hit them.
    const roots = Array.from({ length: 4 }, () => Array.from({ length: nbytes }, () => Math.floor(rand() * 256)));
    for (let i = 0; i < 150; i++) {
      const len = i === 0 ? 0 : 4 + Math.floor(rand() * (nbytes * 8 - 3)); // /0 once, else /4 to full
      const root = roots[Math.floor(rand() * roots.length)]!;
      const bytes = root.map((b) => (rand() < 0.15 ? Math.floor(rand() * 256) : b));
      for (let j = 0; j < nbytes; j++) bytes[j] = bytes[j]! & ((0xff << (8 - Math.min(8, Math.max(0, len - 8 * j)))) & 0xff);
      if (fam === 4 && i === 0) continue; // leave IPv4 without a /0 so misses are tested too
      entries.push({ bytes, len, value: i });
      if (fam === 4) tb.insert4(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0, len, i);
      else tb.insert6(bytes, len, i);
    }
    let hits = 0, mismatches = 0;
    for (let k = 0; k < 10000; k++) {
      const root = roots[k % roots.length]!;
      const keep = Math.floor(rand() * (nbytes * 8 + 1)); // share a random number of leading bits with a root
      const a = new Uint8Array(nbytes);
      for (let j = 0; j < nbytes; j++) {
        const bits = Math.min(8, Math.max(0, keep - 8 * j));
        const mask = (0xff << (8 - bits)) & 0xff;
        a[j] = (root[j]! & mask) | (Math.floor(rand() * 256) & ~mask & 0xff);
      }
      const want = naive(entries, a);
      const got = fam === 4 ? tb.lookup4(((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0) : tb.lookup6(a);
      if (want !== undefined && want !== 0) hits++; // value 0 is the IPv6 /0
      if (got !== want) mismatches++;
    }
    t.equal(mismatches, 0, `IPv${fam}: no mismatches`);
    t.ok(hits > 2000 && hits < 10000, `IPv${fam}: hits and misses (or /0) both exercised (${hits} hits)`);
  }
  t.end();
});
