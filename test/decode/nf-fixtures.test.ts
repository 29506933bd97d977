// Real exporter output of the synthetic capture: every record must decode, and the totals must match
// the capture's ground truth exactly (pmacctd: 1,098 flows, 16,847,880 bytes, 16,189 packets).
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { readUdpPackets } from '../../src/ingest/pcap.js';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { Netflow9Decoder } from '../../src/decode/netflow9.js';
import { Netflow5Decoder } from '../../src/decode/netflow5.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import type { DecodeError } from '../../src/lib/errors.js';
import { IpVersion, dstAddress, srcAddress, type FlowRecord } from '../../src/flow/record.js';
import type { DatagramDecoder } from '../../src/decode/types.js';
import { truth } from '../helpers/truth.js';

const T0_MS = 1793491200 * 1000;
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
/** Per unidirectional 5-tuple [bytes, packets], counted from the captured packets (ICMP ports 0). */
const truthFlows = truth.flows;

interface Totals {
  datagrams: number; records: number; bytes: number; packets: number; v6: number; icmpEcho: number;
  minStart: number; maxEnd: number; badTimes: number; errors: DecodeError[]; rates: Set<number>;
  flows: Record<string, [number, number]>;
}

function replay(file: string, make: Make, slackMs: number): Totals {
  const tot: Totals = {
    datagrams: 0, records: 0, bytes: 0, packets: 0, v6: 0, icmpEcho: 0, minStart: Infinity, maxEnd: -Infinity,
    badTimes: 0, errors: [], rates: new Set(), flows: {},
  };
  const report = (e: DecodeError) => void tot.errors.push(e);
  const dec = make({ templates: new TemplateCache({ now: () => T0_MS, report }), sampling: new SamplingTable(), report });
  const onRec = (r: FlowRecord) => {
    tot.records++;
    tot.bytes += r.bytes;
    tot.packets += r.packets;
    if (r.ipVersion === IpVersion.V6) tot.v6++;
    if (r.protocol === 1 && r.icmpType === 8 && r.icmpCode === 0) tot.icmpEcho++;
    if (!(r.startMs <= r.endMs) || r.startMs < T0_MS - slackMs || r.endMs > T0_MS + 400_000) tot.badTimes++;
    tot.minStart = Math.min(tot.minStart, r.startMs);
    tot.maxEnd = Math.max(tot.maxEnd, r.endMs);
    tot.rates.add(r.samplingRate);
    const icmp = r.protocol === 1 || r.protocol === 58;
    const key = `${srcAddress(r)}|${dstAddress(r)}|${r.protocol}|${icmp ? 0 : r.srcPort}|${icmp ? 0 : r.dstPort}`;
    const f = (tot.flows[key] ??= [0, 0]);
    f[0] += r.bytes;
    f[1] += r.packets;
  };
  for (const p of readUdpPackets(file)) {
    tot.datagrams++;
    dec.decode(p.payload, p.srcAddr, p.tsMs, onRec);
  }
  return tot;
}

type Make = (d: ConstructorParameters<typeof IpfixDecoder>[0]) => DatagramDecoder;
const ipfixDec: Make = (d) => new IpfixDecoder(d);
const v9Dec: Make = (d) => new Netflow9Decoder(d);
const v5Dec: Make = (d) => new Netflow5Decoder(d);
const v4Truth = Object.fromEntries(Object.entries(truthFlows).filter(([k]) => !k.includes(':')));

for (const [name, make] of [['pmacctd-ipfix.pcap', ipfixDec], ['pmacctd-v9.pcap', v9Dec]] as const) {
  t.test(name, (t) => {
    const tot = replay(fixture(name), make, 0);
    t.equal(tot.datagrams, 150);
    t.equal(tot.records, 1098, 'records');
    t.equal(tot.bytes, 16_847_880, 'bytes');
    t.equal(tot.packets, 16_189, 'packets');
    t.same(tot.errors.map((e) => e.message), [], 'no decode errors');
    t.equal(tot.badTimes, 0, 'every record has start <= end within the capture');
    t.ok(tot.minStart >= T0_MS && tot.minStart < T0_MS + 1000, `first start ${tot.minStart - T0_MS} ms after t0`);
    t.ok(tot.maxEnd > T0_MS + 290_000, `last end ${tot.maxEnd - T0_MS} ms after t0`);
    t.ok(tot.v6 > 0, 'IPv6 records decoded through the v6 templates');
    t.ok(tot.icmpEcho > 0, 'ICMP echo type/code taken from the destination port');
    t.same([...tot.rates], [0], 'pmacctd sent no sampling information');
    t.same(tot.flows, truthFlows, 'bytes and packets per 5-tuple equal the capture truth');
    t.end();
  });
}

// softflowd 1.1 reading the same capture (`-r traffic.pcap -t maxlife=60`): its headers carry the wall
// clock of the run, 22 days after the capture, and flow times are uptime-relative values that wrapped
// below zero, so these also exercise the 32-bit uptime arithmetic. Header times have 1 s resolution in v9.
t.test('softflowd-v5.pcap: IPv4 only, sysUptime wrap', (t) => {
  const tot = replay(fixture('softflowd-v5.pcap'), v5Dec, 1000);
  t.equal(tot.datagrams, 39);
  t.equal(tot.bytes, 16_413_880);
  t.equal(tot.packets, 15_809);
  t.equal(tot.v6, 0);
  t.same(tot.errors, []);
  t.equal(tot.badTimes, 0, 'times land in the capture despite the uptime wrap');
  t.same(tot.flows, v4Truth, 'per 5-tuple equal to the IPv4 part of the truth');
  t.end();
});

t.test('softflowd-v9.pcap: options template with the sampling interval', (t) => {
  const tot = replay(fixture('softflowd-v9.pcap'), v9Dec, 1000);
  t.equal(tot.datagrams, 37);
  t.equal(tot.bytes, 16_847_880);
  t.equal(tot.packets, 16_189);
  t.same(tot.errors, []);
  t.equal(tot.badTimes, 0);
  // The first datagram carries the options template and data (interval 1) before any data set.
  t.same([...tot.rates], [1], 'every record gets the sampling interval from the options data');
  t.same(tot.flows, truthFlows);
  t.end();
});
