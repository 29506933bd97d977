import t from 'tap';
import { RecordNormalizer } from '../../src/flow/normalize.js';
import { Dispatcher, detectFormat, formatName } from '../../src/decode/dispatch.js';
import { Netflow5Decoder } from '../../src/decode/netflow5.js';
import { DecodeError } from '../../src/lib/errors.js';
import { Metrics } from '../../src/lib/counters.js';
import { Format, type FlowRecord } from '../../src/flow/record.js';

/** A NetFlow v5 datagram with `n` records of 100 bytes / 2 packets and the given sampling field. */
function v5(n: number, sampling = 0): Buffer {
  const b = Buffer.alloc(24 + 48 * n);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(n, 2);
  b.writeUInt32BE(1_000_000, 4);
  b.writeUInt32BE(1793491200, 8);
  b.writeUInt16BE(sampling, 22);
  for (let i = 0; i < n; i++) {
    const o = 24 + 48 * i;
    b.writeUInt32BE(0x0a010001, o);
    b.writeUInt32BE(0xc6336401, o + 4);
    b.writeUInt32BE(2, o + 16);
    b.writeUInt32BE(100, o + 20);
    b.writeUInt32BE(999_000, o + 24);
    b.writeUInt32BE(999_500, o + 28);
    b[o + 38] = 6;
  }
  return b;
}

function make(opts: { allow?: (e: string) => boolean; overrides?: Record<string, number>; def?: number } = {}) {
  const metrics = new Metrics();
  const d = new Dispatcher({
    decoders: { [Format.NetflowV5]: new Netflow5Decoder({ report: (e) => d.reportError(e, e.exporter, Format.NetflowV5) }) },
    metrics, allow: opts.allow,
  });
  const rates: number[] = [];
  // the rates as the pipeline's record handler resolves them (flow/normalize.ts)
  const norm = new RecordNormalizer({ defaultRate: opts.def ?? 1, overrides: opts.overrides ?? {} });
  d.setHandler((r: FlowRecord) => {
    norm.normalize(r, 0);
    rates.push(r.samplingRate);
  });
  return { d, metrics, rates };
}

t.test('format detection from the version word', (t) => {
  t.equal(detectFormat(v5(1)), Format.NetflowV5);
  t.equal(detectFormat(Buffer.from('0009000000000000', 'hex')), Format.NetflowV9);
  t.equal(detectFormat(Buffer.from('000a000000000000', 'hex')), Format.Ipfix);
  t.equal(detectFormat(Buffer.from('0000000500000001', 'hex')), Format.Sflow);
  t.equal(detectFormat(Buffer.from('0007000000000000', 'hex')), Format.Unknown);
  t.equal(detectFormat(Buffer.from('00', 'hex')), Format.Unknown);
  t.same([5, 9, 10, 5000, 0, 42].map(formatName), ['netflow5', 'netflow9', 'ipfix', 'sflow5', 'unknown', 'unknown']);
  t.end();
});

t.test('sampling: override > wire > default', (t) => {
  const a = make({ def: 8 });
  a.d.handle(v5(2), '192.0.2.1', 0);
  a.d.handle(v5(1, (1 << 14) | 100), '192.0.2.1', 0);
  t.same(a.rates, [8, 8, 100], 'default where the wire says nothing, else the header rate');
  const b = make({ overrides: { '192.0.2.1': 64 } });
  b.d.handle(v5(1, (1 << 14) | 100), '192.0.2.1', 0);
  b.d.handle(v5(1), '192.0.2.2', 0);
  t.same(b.rates, [64, 1], 'the override wins for its exporter only');
  t.equal(b.metrics.total('records_total', { exporter: '192.0.2.1', format: 'netflow5' }), 1);
  t.equal(b.metrics.total('datagram_bytes_total'), 2 * (24 + 48));
  t.end();
});

t.test('bad input is counted by kind, exporter and format, never thrown', (t) => {
  const { d, metrics } = make();
  t.equal(d.handle(Buffer.from('0007000100000000', 'hex'), '192.0.2.9', 0), 0);
  const bad = v5(3);
  bad.writeUInt16BE(30, 2); // count beyond the datagram
  t.equal(d.handle(bad, '192.0.2.9', 0), 0);
  t.equal(d.handle(Buffer.from('000a', 'hex'), '192.0.2.9', 0), 0);
  t.equal(metrics.total('decode_errors_total', { kind: 'unknown_version' }), 2);
  t.equal(metrics.total('decode_errors_total', { kind: 'bad_count', exporter: '192.0.2.9', format: 'netflow5' }), 1);
  d.reportError(new Error('a bug'), '192.0.2.9', Format.NetflowV5);
  t.equal(metrics.total('decode_errors_total', { kind: 'internal' }), 1, 'non-decode errors are counted as internal');
  d.reportError(new DecodeError('template_missing', 'x').at('192.0.2.7', 9), '192.0.2.7', Format.NetflowV9);
  t.equal(metrics.total('template_misses_total', { exporter: '192.0.2.7', format: 'netflow9' }), 1);
  t.end();
});

t.test('the exporter allow-list drops and counts others before decoding', (t) => {
  const { d, metrics, rates } = make({ allow: (e) => e === '192.0.2.1' });
  d.handle(v5(2), '192.0.2.1', 0);
  d.handle(v5(2), '203.0.113.66', 0);
  t.equal(rates.length, 2);
  t.equal(metrics.total('datagrams_denied_total'), 1);
  t.end();
});

t.test('past the registry bound, new exporters count as "other", errors and adjusted records included', (t) => {
  const metrics = new Metrics('flowbridge_', 4);
  const d: Dispatcher = new Dispatcher({
    decoders: { [Format.NetflowV5]: new Netflow5Decoder({ report: (e) => d.reportError(e, e.exporter, Format.NetflowV5) }) },
    metrics,
  });
  const bad = v5(3);
  bad.writeUInt16BE(30, 2);
  for (let i = 0; i < 10; i++) {
    d.handle(v5(2), `192.0.2.${i}`, 0);
    d.handle(bad, `192.0.2.${i}`, 0);
  }
  t.equal(metrics.total('records_total'), 20, 'every record counted');
  t.equal(metrics.total('records_total', { exporter: '192.0.2.0' }), 2, 'an exporter within the bound keeps its series');
  t.equal(metrics.total('records_total', { exporter: 'other' }), 12, 'the six past it share one');
  t.equal(metrics.total('decode_errors_total'), 10, 'every error counted');
  t.equal(metrics.total('decode_errors_total', { exporter: '192.0.2.0' }), 1, 'errors of a known exporter are its own');
  t.equal(metrics.total('decode_errors_total', { exporter: '192.0.2.9' }), 0, 'never attributed to an exporter past the bound');
  t.end();
});
