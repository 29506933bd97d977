// labelInterfaces: which rows of a built summary get ifName, and which never do.
import t from 'tap';
import { labelInterfaces } from '../../src/aggregate/interface-labels.js';
import type { IntervalSummary } from '../../src/aggregate/summary.js';
import { emptySummary } from '../helpers/summary.js';
import { InterfaceNames } from '../../src/decode/interface-names.js';

const z = { bytes: 1, packets: 1, flows: 1 };
const zi = { octets: 0, ucastPkts: 0, errors: 0, discards: 0, bps: 0, pps: 0 };

function summary(): IntervalSummary {
  return {
    ...emptySummary(0),
    views: {
      ifs: [{ key: { exporter: '192.0.2.1', interface: 3 }, direction: 'in', ...z }, { key: { exporter: '192.0.2.1', interface: 5 }, direction: 'out', ...z }],
      byinput: [{ key: { exporter: '192.0.2.1', inputifindex: 3 }, direction: 'in', ...z }],
      empty: [],
    },
    interfaces: [{ exporter: '192.0.2.1', ifIndex: 3, ifSpeed: 0, in: zi, out: zi }, { exporter: '192.0.2.9', ifIndex: 3, ifSpeed: 0, in: zi, out: zi }],
  };
}

t.test('views keyed by interface and interface rows, by exporter and ifIndex', async (t) => {
  const names = new InterfaceNames();
  const s = summary();
  t.equal(labelInterfaces(s, names), 0, 'no names: nothing to do');
  t.notOk(JSON.stringify(s).includes('ifName'));
  names.learn('192.0.2.1', 3, 'xe-0/0/3', false);
  names.configure({ '192.0.2.9': { 3: 'other-box' } });
  t.equal(labelInterfaces(s, names), 3);
  t.same(s.views!.ifs!.map((r) => r.ifName), ['xe-0/0/3', undefined], 'ifIndex 5 has no name');
  t.notOk('ifName' in s.views!.ifs![1]!, 'absent, not undefined, in the JSON');
  t.notOk('ifName' in s.views!.byinput![0]!, 'inputifindex is not the interface key');
  t.same(s.interfaces!.map((r) => r.ifName), ['xe-0/0/3', 'other-box'], 'the same ifIndex on two exporters');
  t.match(JSON.stringify(s.interfaces![0]), /"ifName":"xe-0\/0\/3"}$/);
});
