// The rise between two counter samples of an interface: exact 64-bit octets, one wrap of a 32-bit
// counter when the link could carry it, and a new baseline (counted) on every kind of reset.
import t from 'tap';
import { IfCounterDelta, IfCounters, SflowCounterStore, readGenericIfCounters } from '../../src/decode/counters-sflow.js';
import { Metrics } from '../../src/lib/counters.js';
import { Reader } from '../../src/lib/reader.js';
import { TruncatedError } from '../../src/lib/errors.js';

const T0 = 1_800_000_000_000;
const TWO32 = 2 ** 32;

interface Sample {
  at: number;
  inOctets?: number;
  outOctets?: number;
  inUcast?: number;
  outUcast?: number;
  inErrors?: number;
  inDiscards?: number;
  ifSpeed?: number;
  sequence?: number;
  uptimeMs?: number;
  ifIndex?: number;
}

function sample(s: Sample): IfCounters {
  const c = new IfCounters();
  c.agent = '192.0.2.1';
  c.subAgent = 0;
  c.ifIndex = s.ifIndex ?? 3;
  c.ifSpeed = s.ifSpeed ?? 1e9;
  const split = (v: number): [number, number] => [Math.floor(v / TWO32), v % TWO32];
  [c.inOctetsHi, c.inOctetsLo] = split(s.inOctets ?? 0);
  [c.outOctetsHi, c.outOctetsLo] = split(s.outOctets ?? 0);
  c.inOctets = s.inOctets ?? 0;
  c.outOctets = s.outOctets ?? 0;
  c.inUcastPkts = s.inUcast ?? 0;
  c.outUcastPkts = s.outUcast ?? 0;
  c.inErrors = s.inErrors ?? 0;
  c.inDiscards = s.inDiscards ?? 0;
  c.receivedMs = T0 + s.at * 1000;
  c.sequence = s.sequence ?? -1;
  c.uptimeMs = s.uptimeMs ?? -1;
  return c;
}

function store(metrics = new Metrics()) {
  const deltas: IfCounterDelta[] = [];
  const st = new SflowCounterStore(undefined, {
    maxLinkBps: 1e12, metrics, onDelta: (d) => deltas.push(Object.assign(new IfCounterDelta(), d)),
  });
  return { st, deltas, metrics };
}

t.test('the first sample is a baseline; the next gives the rise of each counter', (t) => {
  const { st, deltas } = store();
  st.put(sample({ at: 0, inOctets: 1000, outOctets: 5000, inUcast: 10, outUcast: 50, inErrors: 1, inDiscards: 2 }));
  t.equal(deltas.length, 0);
  st.put(sample({ at: 30, inOctets: 4000, outOctets: 9000, inUcast: 13, outUcast: 57, inErrors: 4, inDiscards: 2 }));
  t.equal(deltas.length, 1);
  t.match(deltas[0], {
    agent: '192.0.2.1', ifIndex: 3, ifSpeed: 1e9, receivedMs: T0 + 30_000, inOctets: 3000, outOctets: 4000,
    inUcastPkts: 3, outUcastPkts: 7, inErrors: 3, inDiscards: 0, outErrors: 0, outDiscards: 0,
  });
  t.equal(st.resets, 0);
  t.end();
});

t.test('a 32-bit counter that wraps gives the wrapped rise', (t) => {
  const { st, deltas } = store();
  st.put(sample({ at: 0, inOctets: 1e9, inUcast: TWO32 - 100, outUcast: TWO32 - 1 - 5 }));
  st.put(sample({ at: 30, inOctets: 2e9, inUcast: 50, outUcast: 4 }));
  t.equal(deltas.length, 1);
  t.equal(deltas[0]!.inUcastPkts, 150, '2^32 - 100 -> 50 is 150 packets');
  t.equal(deltas[0]!.outUcastPkts, 10);
  t.equal(st.resets, 0);
  t.end();
});

t.test('64-bit octets: exact rise above 2^53', (t) => {
  const { st, deltas } = store();
  const c1 = sample({ at: 0 });
  c1.inOctetsHi = 0x00ffffff; c1.inOctetsLo = 0xfffffff0; // 2^56 - 16: not exact as a double
  const c2 = sample({ at: 10 });
  c2.inOctetsHi = 0x01000000; c2.inOctetsLo = 0x00000007; // 2^56 + 7
  st.put(c1);
  st.put(c2);
  t.equal(deltas[0]!.inOctets, 23);
  t.end();
});

t.test('a restart (counters down) gives no negative delta and counts a reset; the next rise is from the new baseline', (t) => {
  const { st, deltas, metrics } = store();
  st.put(sample({ at: 0, inOctets: 5_000_000, outOctets: 7_000_000, inUcast: 90_000, outUcast: 80_000 }));
  st.put(sample({ at: 30, inOctets: 1200, outOctets: 800, inUcast: 12, outUcast: 9 }));
  t.equal(deltas.length, 0, 'no delta from a reset');
  t.equal(st.resets, 1);
  t.equal(metrics.total('sflow_counter_resets_total', { exporter: '192.0.2.1', reason: 'counter' }), 1);
  st.put(sample({ at: 60, inOctets: 2200, outOctets: 1800, inUcast: 20, outUcast: 19 }));
  t.match(deltas, [{ inOctets: 1000, outOctets: 1000, inUcastPkts: 8, outUcastPkts: 10 }]);
  t.end();
});

t.test('a 32-bit counter going down by more than a wrap explains, on a known-speed link, is a reset', (t) => {
  // 1 Gb/s carries at most ~2 million 64-byte frames/s: 2^32 - 500,000 packets in 30 s is no wrap
  const { st, deltas, metrics } = store();
  st.put(sample({ at: 0, inOctets: 1e9, inUcast: 500_000 }));
  st.put(sample({ at: 30, inOctets: 2e9, inUcast: 3 }));
  t.equal(deltas.length, 0);
  t.equal(metrics.total('sflow_counter_resets_total', { reason: 'counter' }), 1);
  // on a 400 Gb/s link (or one of unknown speed) the same drop is a plausible wrap
  const fast = store();
  fast.st.put(sample({ at: 0, inOctets: 1e9, inUcast: 500_000, ifSpeed: 400e9 }));
  fast.st.put(sample({ at: 30, inOctets: 2e9, inUcast: 3, ifSpeed: 400e9 }));
  t.equal(fast.deltas[0]!.inUcastPkts, TWO32 - 500_000 + 3);
  t.end();
});

t.test('an absurd rise (more than the fastest link carries) is a reset, not traffic', (t) => {
  const { st, deltas } = store();
  st.put(sample({ at: 0, inOctets: 100 }));
  st.put(sample({ at: 30, inOctets: 2 ** 52 }));
  t.equal(deltas.length, 0);
  t.equal(st.resets, 1);
  t.end();
});

t.test('sequence number or uptime going backwards restarts the baseline; an uptime wrap does not', (t) => {
  const { st, deltas, metrics } = store();
  st.put(sample({ at: 0, inOctets: 100, sequence: 50, uptimeMs: 1_000_000 }));
  st.put(sample({ at: 30, inOctets: 200, sequence: 2, uptimeMs: 1_030_000 }));
  st.put(sample({ at: 60, inOctets: 300, sequence: 3, uptimeMs: 10_000 }));
  t.equal(deltas.length, 0, 'counters rose, but the agent said it restarted');
  t.equal(metrics.total('sflow_counter_resets_total', { reason: 'sequence' }), 1);
  t.equal(metrics.total('sflow_counter_resets_total', { reason: 'uptime' }), 1);
  st.put(sample({ at: 90, inOctets: 450, sequence: 4, uptimeMs: 40_000 }));
  t.equal(deltas[0]!.inOctets, 150);
  // uptime is a u32 of ms: 2^32 - 5000 -> 25,000 is 30 s later, not a reboot
  st.put(sample({ at: 100, inOctets: 500, sequence: 5, uptimeMs: TWO32 - 5000 }));
  st.put(sample({ at: 130, inOctets: 600, sequence: 6, uptimeMs: 25_000 }));
  t.equal(deltas.length, 3);
  t.equal(deltas[2]!.inOctets, 100);
  t.end();
});

t.test('a gap longer than maxGapMs restarts the baseline; unknown counters (all ones) rise by 0', (t) => {
  const { st, deltas, metrics } = store();
  st.put(sample({ at: 0, inOctets: 100 }));
  st.put(sample({ at: 3600, inOctets: 200 }));
  t.equal(deltas.length, 0);
  t.equal(metrics.total('sflow_counter_resets_total', { reason: 'gap' }), 1);
  st.put(sample({ at: 3630, inOctets: 300, inErrors: TWO32 - 1 }));
  st.put(sample({ at: 3660, inOctets: 400, inErrors: TWO32 - 1 }));
  t.match(deltas, [{ inOctets: 100, inErrors: 0 }, { inOctets: 100, inErrors: 0 }]);
  t.end();
});

t.test('a store filled by made-up agents takes new interfaces again once they are stale', (t) => {
  const full = new SflowCounterStore(100);
  const agent = (at: number, i: number) => Object.assign(sample({ at, ifIndex: i }), { agent: `10.9.0.${i}` });
  for (let i = 0; i < 100; i++) full.put(agent(0, i));
  t.notOk(full.put(sample({ at: 60, ifIndex: 1 })), 'full: a real agent\'s interface is refused');
  t.notOk(full.put(sample({ at: 15 * 60, ifIndex: 1 })), 'still, while a rise could be taken from the made-up ones');
  full.put(agent(15 * 60, 7)); // one made-up agent keeps sending
  t.ok(full.put(sample({ at: 15 * 60 + 2, ifIndex: 1 })), 'past the gap the stale ones go, and the real one is taken');
  t.equal(full.size, 2);
  t.equal(full.overflow, 2);
  t.end();
});

t.test('interfaces are keyed apart; without onDelta the store only keeps samples', (t) => {
  const { st, deltas } = store();
  st.put(sample({ at: 0, ifIndex: 1, inOctets: 10 }));
  st.put(sample({ at: 0, ifIndex: 2, inOctets: 1000 }));
  st.put(sample({ at: 20, ifIndex: 1, inOctets: 15 }));
  st.put(sample({ at: 20, ifIndex: 2, inOctets: 1100 }));
  t.match(deltas, [{ ifIndex: 1, inOctets: 5 }, { ifIndex: 2, inOctets: 100 }]);
  const plain = new SflowCounterStore();
  plain.put(sample({ at: 0, inOctets: 5 }));
  plain.put(sample({ at: 10, inOctets: 1 }));
  t.equal(plain.resets, 0);
  t.equal(plain.get('192.0.2.1', 0, 3)!.inOctets, 1);
  t.end();
});

t.test('the 88-byte record cut at every offset throws TruncatedError; whole, octets read as their halves', (t) => {
  const rec = Buffer.alloc(88);
  rec.writeUInt32BE(3, 0);
  rec.writeUInt32BE(0x00ffffff, 24); // ifInOctets 2^56 - 16
  rec.writeUInt32BE(0xfffffff0, 28);
  rec.writeUInt32BE(1, 56); // ifOutOctets 2^32 + 2
  rec.writeUInt32BE(2, 60);
  const r = new Reader();
  for (let n = 0; n < 88; n++) {
    t.throws(() => readGenericIfCounters(r.reset(rec.subarray(0, n)), new IfCounters()), TruncatedError, `cut at ${n}`);
  }
  const c = new IfCounters();
  readGenericIfCounters(r.reset(rec), c);
  t.match(c, { ifIndex: 3, inOctetsHi: 0x00ffffff, inOctetsLo: 0xfffffff0, outOctetsHi: 1, outOctetsLo: 2, outOctets: TWO32 + 2 });
  t.end();
});
