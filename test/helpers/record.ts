// A flow record as the decode stage leaves it (flow/normalize.ts renormalizes by the sampling rate), for
// tests that feed the aggregator directly: IPv4 from exporter 192.0.2.1, unsampled unless `o` says so.
import { FlowRecord, IpVersion } from '../../src/flow/record.js';

export function testRecord(o: Partial<FlowRecord>): FlowRecord {
  const r = new FlowRecord();
  r.clear();
  r.exporter = '192.0.2.1';
  r.ipVersion = IpVersion.V4;
  r.samplingRate = 1;
  Object.assign(r, o);
  r.scaledBytes = r.bytes * r.samplingRate;
  r.scaledPackets = r.packets * r.samplingRate;
  r.scaledFlows = r.samplingRate;
  return r;
}
