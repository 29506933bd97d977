// Filter expressions: parsing (valid and invalid, with positions) and matching real record fields.
import t from 'tap';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { compileFilter, FilterError, parseFilter, type Matcher } from '../../src/flow/filter.js';
import { FlowRecord, IpVersion } from '../../src/flow/record.js';

const GROUPS = ['home', 'dmz'];
const v4 = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
const v6 = (s: string): Buffer => {
  // test helper: full-form or "::"-compressed IPv6 text to 16 bytes
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const words = [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl].map((w) => parseInt(w, 16));
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
};

function rec(o: Partial<{ src: string; dst: string; proto: number; sport: number; dport: number; exporter: string;
  icmpType: number; icmpCode: number; unreachPort: number; vlan: number; flags: number }>): FlowRecord {
  const r = new FlowRecord();
  r.clear();
  const src = o.src ?? '192.0.2.1', dst = o.dst ?? '10.1.0.5';
  if (src.includes(':')) {
    r.ipVersion = IpVersion.V6;
    v6(src).copy(r.src6);
    v6(dst).copy(r.dst6);
  } else {
    r.ipVersion = IpVersion.V4;
    r.src4 = v4(src);
    r.dst4 = v4(dst);
  }
  r.protocol = o.proto ?? 6;
  r.srcPort = o.sport ?? 40000;
  r.dstPort = o.dport ?? 443;
  r.exporter = o.exporter ?? '127.0.0.1';
  r.icmpType = o.icmpType ?? -1;
  r.icmpCode = o.icmpCode ?? -1;
  r.unreachPort = o.unreachPort ?? -1;
  r.vlan = o.vlan ?? 0;
  r.tcpFlags = o.flags ?? 0;
  return r;
}

/** direction 0=in 1=out 2=internal 3=external; groups as indices */
const matches = (f: string, r: FlowRecord, dir = 0, sg = -1, dg = 0): boolean => compileFilter(parseFilter(f), GROUPS).match(r, dir, sg, dg);

t.test('comparisons, lists, ranges, and/or/not with precedence and parentheses', (t) => {
  const r = rec({ src: '203.0.113.66', dst: '10.1.1.3', proto: 17, sport: 5353, dport: 1200 });
  const yes = [
    'ipsource=203.0.113.0/24', 'ipdestination=10.0.0.0/8', 'ipdestination=10.1.1.3', 'ipsource!=10.0.0.0/8',
    'direction=in', 'direction=IN', 'direction=out,in', 'protocol=udp', 'protocol=17', 'protocol=6-17',
    'destinationport=1000-1399', 'destinationport=80, 1200', 'sourceport!=53', 'group=home', 'destinationgroup=home',
    'exporter=127.0.0.0/8', 'vlan=0',
    'direction=in & protocol=udp', 'direction=in and protocol=udp', 'direction=in && protocol=udp',
    'direction=out | protocol=udp', 'direction=out or protocol=udp', 'direction=out || protocol=udp',
    'direction=out & protocol=tcp | ipsource=203.0.113.66', // & binds tighter than |
    '!(direction=out)', 'not direction=out', 'NOT (direction=out | protocol=tcp)', '!!direction=in',
    '((direction=in))', '  direction = in  &  ( protocol = udp | protocol = tcp )  ',
  ];
  for (const f of yes) t.ok(matches(f, r), f);
  const no = [
    'ipsource=10.0.0.0/8', 'ipsource=2001:db8::/32', 'direction=out', 'protocol=tcp', 'destinationport=1000-1199',
    'direction=out & protocol=udp', 'direction=out & (protocol=tcp | ipsource=203.0.113.66)', 'group=dmz',
    'sourcegroup=home', 'exporter=192.0.2.0/24', 'ipsource=203.0.113.66 & !direction=in',
  ];
  for (const f of no) t.notOk(matches(f, r), f);
  t.end();
});

t.test('a key the record lacks is false for = and != alike', (t) => {
  const tcp = rec({ proto: 6, flags: 0x12 });
  t.notOk(matches('icmptype=3', tcp));
  t.notOk(matches('icmptype!=3', tcp));
  t.notOk(matches('icmpunreachableport=1000-1399', tcp));
  t.ok(matches('tcpflags=syn+ack', tcp));
  t.ok(matches('tcpflags=18', tcp));
  t.notOk(matches('tcpflags=syn', tcp));
  const icmp = rec({ proto: 1, icmpType: 3, icmpCode: 3, unreachPort: 1234 });
  t.ok(matches('icmptype=3 & icmpcode=3 & icmpunreachableport=1000-1399', icmp));
  t.notOk(matches('destinationport=443', icmp), 'ICMP has no ports');
  t.notOk(matches('destinationport!=443', icmp));
  t.notOk(matches('tcpflags=0', icmp), 'tcpflags only on TCP');
  t.notOk(matches('group=home', rec({}), 3, -1, -1), 'external traffic has no local group');
  t.ok(matches('group=dmz', rec({}), 1, 1, -1), 'out: the source group');
  t.end();
});

t.test('prefix match, IPv4 and IPv6, longest match does not matter for membership', (t) => {
  const r6 = rec({ src: '2001:db8:1:0:0:0:0:10', dst: '2001:db8:ffff::1' });
  t.ok(matches('ipsource=2001:db8:1::/48', r6));
  t.ok(matches('ipsource=2001:db8::/32 & ipdestination=2001:db8:ffff::/48', r6));
  t.ok(matches('ipsource=2001:db8:1::10', r6), 'a bare address is a /128');
  t.notOk(matches('ipsource=2001:db8:2::/48', r6));
  t.notOk(matches('ipsource=10.0.0.0/8', r6), 'IPv4 prefixes never match IPv6');
  t.ok(matches('ipsource=0.0.0.0/0, ::/0', r6));
  t.ok(matches('ipsource=0.0.0.0/0', rec({})));
  t.ok(matches('ipsource=10.0.0.0/8,192.0.2.0/31', rec({ src: '192.0.2.1' })));
  t.notOk(matches('ipsource=192.0.2.0/32', rec({ src: '192.0.2.1' })));
  const none = new FlowRecord();
  none.clear();
  t.notOk(matches('ipsource=0.0.0.0/0', none), 'a record without addresses has no ipsource');
  t.notOk(matches('ipsource!=10.0.0.0/8', none));
  t.ok(matches('exporter=2001:db8::/32', rec({ exporter: '2001:db8::7' })));
  t.end();
});

t.test('invalid expressions: one clear reason naming the position', (t) => {
  const cases: [string, number, RegExp][] = [
    ['', 1, /empty/],
    ['   ', 4, /empty/],
    ['direction', 10, /expected "=" or "!=" after direction/],
    ['direction=', 11, /expected a value for direction/],
    ['direction=sideways', 11, /bad value "sideways" for direction: expected in, out, internal, external/],
    ['portsource=80', 1, /unknown key "portsource" \(keys: ipsource, /],
    ['ipsource=10.0.0.1/8', 10, /bad value "10.0.0.1\/8" for ipsource: expected a prefix with no host bits set such as 10.0.0.0\/8/],
    ['ipsource=10.0.0/8', 10, /an IPv4\/IPv6 address or prefix/],
    ['ipdestination=2001:db8::/129', 15, /an IPv4\/IPv6 address or prefix/],
    ['destinationport=70000', 17, /a port 0-65535/],
    ['destinationport=1399-1000', 17, /a port 0-65535 or a range/],
    ['protocol=tcpp', 10, /a protocol number/],
    ['tcpflags=syn+fin+bogus', 10, /flag names/],
    ['vlan=4096', 6, /VLAN id/],
    ['direction=in &', 15, /expected a comparison .* found the end/],
    ['direction=in & | protocol=tcp', 16, /expected a key such as ipsource, found "\| protocol"/],
    ['(direction=in', 14, /"\(" at 1 is not closed/],
    ['direction=in)', 13, /unexpected "\)"/],
    ['direction=in protocol=tcp', 14, /expected "&", "\|" or the end, found "protocol=t"/],
    ['direction=in,', 14, /expected a value for direction/],
    ['ipsource=10.0.0.0/8; rm -rf /', 10, /bad value "10.0.0.0\/8;" for ipsource/],
    ['process.exit(1)', 1, /unknown key "process"/],
  ];
  for (const [f, pos, re] of cases) {
    try {
      parseFilter(f);
      t.fail(`${JSON.stringify(f)} parsed`);
    } catch (e) {
      t.ok(e instanceof FilterError, `${JSON.stringify(f)}: a FilterError`);
      t.equal((e as FilterError).pos, pos, `${JSON.stringify(f)}: position`);
      t.match((e as Error).message, re, JSON.stringify(f));
      t.match((e as Error).message, new RegExp(`^at ${pos}: `));
    }
  }
  t.end();
});

/** Minor (scavenge) GCs while `fn` runs: a per-record allocation of even 16 bytes shows up as dozens. */
async function scavenges(fn: () => void): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) n++;
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((r) => setTimeout(r, 20)); // gc entries are delivered asynchronously
  obs.disconnect();
  return n;
}

function loop(m: Matcher, r: FlowRecord, n: number): number {
  let hits = 0;
  for (let i = 0; i < n; i++) if (m.match(r, 0, -1, 0)) hits++;
  return hits;
}

t.test('matching allocates nothing per record', async (t) => {
  const m = compileFilter(parseFilter('(ipsource=203.0.113.0/24 | ipsource=2001:db8::/32) & direction=in & protocol=udp,tcp & destinationport=1000-1399 & exporter=127.0.0.0/8'), GROUPS);
  const r = rec({ src: '203.0.113.66', proto: 17, dport: 1200 });
  loop(m, r, 1_000_000); // warm up: optimizing the matchers allocates (code, feedback) once
  let hits = 0;
  const gcs = await scavenges(() => { hits = loop(m, r, 5_000_000); });
  t.equal(hits, 5_000_000);
  t.ok(gcs <= 1, `${gcs} scavenges over 5M matches`);
  // the check itself can see allocation: the same loop building a 2-field object per match
  const control = await scavenges(() => { let x: unknown; for (let i = 0; i < 5_000_000; i++) x = { i, m: m.match(r, 0, -1, 0) }; t.ok(x); });
  t.ok(control > 5, `control: ${control} scavenges when each match allocates`);
});
