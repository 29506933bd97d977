// Interface names in the decoders: which options layouts name an interface (v9 scope "Interface", an
// ingress or egress ifIndex as scope or option field), which do not (a name in a data template, an
// enterprise element 82, no ifIndex), options sets held for their template, and sampling options beside.
import t from 'tap';
import { Netflow9Decoder } from '../../src/decode/netflow9.js';
import { IpfixDecoder } from '../../src/decode/ipfix.js';
import { TemplateCache } from '../../src/decode/templates.js';
import { SamplingTable } from '../../src/decode/sampling.js';
import { InterfaceNames } from '../../src/decode/interface-names.js';
import { Sink, cat, ip4, ipfix, ipfixOptTpl, set, tpl, u16, u32, u8, v9, v9OptTpl } from './nf-build.js';

const EX = '192.0.2.9';
const text = (s: string, len: number) => { const b = Buffer.alloc(len); Buffer.from(s).copy(b); return b; };

function setup(withNames = true) {
  const sink = new Sink();
  const templates = new TemplateCache({ now: () => 1_000_000, report: sink.report });
  const sampling = new SamplingTable();
  const names = new InterfaceNames();
  const deps = { templates, sampling, report: sink.report, names: withNames ? names : undefined };
  return { sink, sampling, names, v9: new Netflow9Decoder(deps), ipfix: new IpfixDecoder(deps) };
}
const hdr = { sysUptime: 50_000, unixSecs: 1793491300, sourceId: 3 };

t.test('v9: scope System with INPUT_SNMP and IF_NAME as option fields (the usual router interface table)', async (t) => {
  const { sink, names, v9: dec } = setup();
  const d = v9(hdr, set(1, v9OptTpl(260, [[1, 4]], [[10, 4], [82, 16], [83, 32]]), 2),
    set(260, cat(ip4(EX), u32(17), text('Gi0/1', 16), text('to branch', 32), ip4(EX), u32(18), text('', 16), text('  spare  ', 32))));
  t.equal(dec.decode(d, EX, 0, sink.emit), 0, 'options records emit nothing');
  t.same(sink.errors, []);
  t.equal(names.name(EX, 17), 'Gi0/1');
  t.equal(names.name(EX, 18), 'spare', 'the description, trimmed, when the name is empty');
  t.equal(names.learnedSize, 2);
});

t.test('v9: scope Interface of 2 bytes; a scope of another type is no ifIndex', async (t) => {
  const { sink, names, v9: dec } = setup();
  dec.decode(v9(hdr, set(1, cat(v9OptTpl(261, [[2, 2]], [[82, 8]]), v9OptTpl(262, [[3, 4]], [[82, 8]]))),
    set(261, cat(u16(5), text('eth5', 8))), set(262, cat(u32(6), text('card6', 8)))), EX, 0, sink.emit);
  t.same(sink.errors, []);
  t.equal(names.name(EX, 5), 'eth5');
  t.equal(names.name(EX, 6), undefined, 'line card 6 is not ifIndex 6');
  t.equal(names.learnedSize, 1);
});

t.test('IPFIX: egressInterface as scope, fixed-length name, with a sampling rate in the same record', async (t) => {
  const { sink, names, sampling, ipfix: dec } = setup();
  dec.decode(ipfix({ exportTime: 1793491300, domain: 9 }, set(3, ipfixOptTpl(300, [[14, 4]], [[82, 12], [34, 4]]), 2),
    set(300, cat(u32(21), text('ae0.100', 12), u32(512)))), EX, 0, sink.emit);
  t.same(sink.errors, []);
  t.equal(names.name(EX, 21), 'ae0.100');
  t.equal(sampling.lookup(EX, 10, 9), 512, 'the sampling rate still learned');
});

t.test('IPFIX: both ingress and egress in one record name the ingress one', async (t) => {
  const { sink, names, ipfix: dec } = setup();
  dec.decode(ipfix({ exportTime: 1793491300 }, set(3, ipfixOptTpl(301, [[10, 4]], [[14, 4], [83, 0xffff]])),
    set(301, cat(u32(1), u32(2), u8(3), Buffer.from('lo0')))), EX, 0, sink.emit);
  t.same(sink.errors, []);
  t.equal(names.name(EX, 1), 'lo0');
  t.equal(names.name(EX, 2), undefined);
});

t.test('not names: element 82 in a data template, an enterprise 82, options without an ifIndex, ifIndex 0', async (t) => {
  const { sink, names, ipfix: dec } = setup();
  const n = dec.decode(ipfix({ exportTime: 1793491300 },
    set(2, tpl(256, [[8, 4], [12, 4], [1, 4], [10, 4], [82, 0xffff]])),
    set(256, cat(ip4('10.0.0.1'), ip4('10.0.0.2'), u32(100), u32(4), u8(4), Buffer.from('data'))),
    set(3, cat(ipfixOptTpl(302, [[10, 4]], [[82, 8, 9]]), ipfixOptTpl(303, [[149, 4]], [[82, 8]]), ipfixOptTpl(304, [[10, 4]], [[82, 8]]))),
    set(302, cat(u32(7), text('ent', 8))), set(303, cat(u32(8), text('obsdom', 8))), set(304, cat(u32(0), text('zero', 8)))), EX, 0, sink.emit);
  t.equal(n, 1, 'the data record is still a flow');
  t.equal(sink.records[0]!.inIf, 4);
  t.same(sink.errors, []);
  t.equal(names.learnedSize, 0, 'nothing learned');
});

t.test('an options set before its template is held and learned when the template comes; no store, no names', async (t) => {
  const { sink, names, ipfix: dec } = setup();
  const data = set(305, cat(u32(40), u8(6), Buffer.from('xe-0/4')));
  dec.decode(ipfix({ exportTime: 1793491300 }, data), EX, 0, sink.emit);
  t.equal(names.learnedSize, 0);
  dec.decode(ipfix({ exportTime: 1793491300 }, set(3, ipfixOptTpl(305, [[10, 4]], [[82, 0xffff]]))), EX, 0, sink.emit);
  t.equal(names.name(EX, 40), 'xe-0/4', 'decoded from the held set');
  const bare = setup(false);
  bare.ipfix.decode(ipfix({ exportTime: 1793491300 }, set(3, ipfixOptTpl(305, [[10, 4]], [[82, 0xffff]])), data), EX, 0, bare.sink.emit);
  t.same(bare.sink.errors, [], 'a decoder without a store reads the same options data');
  t.equal(bare.names.learnedSize, 0);
});
