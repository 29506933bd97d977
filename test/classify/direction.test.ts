import t from 'tap';
import { Classifier, Direction, DIRECTION_NAMES } from '../../src/classify/direction.js';
import { FlowRecord, IpVersion } from '../../src/flow/record.js';
import { defaultConfig } from '../../src/config/load.js';

const v4 = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);

function rec4(src: string, dst: string, r = new FlowRecord()): FlowRecord {
  r.clear();
  r.ipVersion = IpVersion.V4;
  r.src4 = v4(src);
  r.dst4 = v4(dst);
  return r;
}

/** Only the leading bytes need setting for these tests; the rest stay zero. */
function rec6(src: number[], dst: number[], r = new FlowRecord()): FlowRecord {
  r.clear();
  r.ipVersion = IpVersion.V6;
  r.src6.fill(0).set(src);
  r.dst6.fill(0).set(dst);
  return r;
}

t.test('enum values and names line up', (t) => {
  t.equal(Direction.In, 0);
  t.equal(Direction.Out, 1);
  t.equal(Direction.Internal, 2);
  t.equal(Direction.External, 3);
  t.same(DIRECTION_NAMES, ['in', 'out', 'internal', 'external']);
  t.end();
});

t.test('all four directions, IPv4 and IPv6, with the default home networks', (t) => {
  const c = new Classifier(defaultConfig().networks);
  t.same(c.groupNames, ['home']);
  // One record per case here (the array is built before classifying); the pipeline reuses one.
  const cases: [FlowRecord, Direction, number, number][] = [
    [rec4('192.168.1.10', '8.8.8.8'), Direction.Out, 0, -1],
    [rec4('1.1.1.1', '10.9.8.7'), Direction.In, -1, 0],
    [rec4('172.16.0.1', '172.31.255.254'), Direction.Internal, 0, 0],
    [rec4('172.32.0.1', '11.0.0.1'), Direction.External, -1, -1],
    [rec6([0xfd, 0x00, 0, 1], [0x20, 0x01, 0x0d, 0xb8]), Direction.Out, 0, -1],
    [rec6([0x2a, 0x00], [0xfc, 0x01]), Direction.In, -1, 0],
    [rec6([0xfc], [0xfd, 0xff]), Direction.Internal, 0, 0],
    [rec6([0xfe, 0x80], [0x20, 0x01]), Direction.External, -1, -1],
  ];
  for (const [rec, dir, sg, dg] of cases) {
    t.equal(c.classify(rec), dir, DIRECTION_NAMES[dir]!);
    t.equal(c.srcGroup, sg);
    t.equal(c.dstGroup, dg);
  }
  t.end();
});

t.test('ipVersion 0 is external and clears the groups of the previous record', (t) => {
  const c = new Classifier({ home: ['10.0.0.0/8'] });
  const r = rec4('10.0.0.1', '10.0.0.2');
  t.equal(c.classify(r), Direction.Internal);
  r.clear(); // ipVersion 0, addresses zeroed
  r.src4 = v4('10.0.0.1'); // stale address bytes must not count without an IP version
  t.equal(c.classify(r), Direction.External);
  t.equal(c.srcGroup, -1);
  t.equal(c.dstGroup, -1);
  t.end();
});

t.test('groups: each host belongs to the group of its longest match', (t) => {
  const c = new Classifier({
    home: ['10.0.0.0/8', 'fd00::/8'],
    servers: ['10.1.0.0/16', '10.1.2.3', 'fd00:1::/32'],
    lab: ['10.1.2.0/24'],
  });
  t.same(c.groupNames, ['home', 'servers', 'lab']);
  const r = new FlowRecord();
  t.equal(c.classify(rec4('10.1.2.3', '10.1.2.4', r)), Direction.Internal);
  t.equal(c.groupNames[c.srcGroup], 'servers', '/32 in servers beats the lab /24');
  t.equal(c.groupNames[c.dstGroup], 'lab');
  t.equal(c.classify(rec4('10.1.9.9', '10.200.0.1', r)), Direction.Internal);
  t.equal(c.groupNames[c.srcGroup], 'servers');
  t.equal(c.groupNames[c.dstGroup], 'home');
  t.equal(c.classify(rec6([0xfd, 0x00, 0x00, 0x01, 0xaa], [0x20, 0x01], r)), Direction.Out);
  t.equal(c.groupNames[c.srcGroup], 'servers');
  t.equal(c.dstGroup, -1);
  t.equal(c.group4(v4('10.1.2.200')), 2);
  t.equal(c.group4(v4('192.0.2.1')), -1);
  t.equal(c.group6(new Uint8Array([0xfd, 0x42, ...new Array<number>(14).fill(0)])), 0);
  t.end();
});

t.test('no home networks: everything is external', (t) => {
  const c = new Classifier({});
  t.same(c.groupNames, []);
  t.equal(c.classify(rec4('10.0.0.1', '192.168.0.1')), Direction.External);
  t.end();
});

t.test('a classifier built on a previous one keeps its group indices and appends new groups', (t) => {
  const first = new Classifier({ home: ['10.1.0.0/16'], dmz: ['192.0.2.0/24'] });
  const next = new Classifier({ lab: ['10.2.0.0/16'], home: ['10.1.0.0/16', '10.3.0.0/16'] }, first.groups);
  t.equal(next.groupNames, first.groupNames, 'one list, shared');
  t.same(next.groupNames, ['home', 'dmz', 'lab']);
  t.equal(next.classify(rec4('10.3.0.1', '10.2.0.1')), Direction.Internal);
  t.same([next.srcGroup, next.dstGroup], [0, 2]);
  t.equal(next.classify(rec4('192.0.2.1', '8.8.8.8')), Direction.External, 'dmz is gone from the table, its index stays reserved');
  t.end();
});
