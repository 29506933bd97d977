import t from 'tap';
import { Reader } from '../../src/lib/reader.js';
import { TruncatedError, DecodeError } from '../../src/lib/errors.js';

t.test('reads big-endian integers of every width', (t) => {
  const r = new Reader().reset(Buffer.from('01020304050607080910111213141516171819', 'hex'));
  t.equal(r.u8(), 1);
  t.equal(r.u16(), 0x0203);
  t.equal(r.u32(), 0x04050607);
  t.equal(r.uint(3), 0x080910);
  t.equal(r.u64(), 0x1112131415161718);
  t.equal(r.left(), 1);
  t.end();
});

t.test('every read past the end throws TruncatedError with offset, need and left', (t) => {
  const r = new Reader();
  const buf = Buffer.from([1, 2, 3]);
  for (const read of [() => r.u32(), () => r.u64(), () => r.uint(5), () => r.skip(4), () => r.bytes(4),
    () => r.enter(4), () => r.copyTo(new Uint8Array(4), 4), () => r.need(4)]) {
    r.reset(buf);
    const err = t.throws(read) as unknown as TruncatedError;
    t.ok(err instanceof TruncatedError);
    t.equal(err.kind, 'truncated');
    t.equal(err.left, 3);
  }
  r.reset(buf, 0, 2);
  t.equal(r.u16(), 0x0102);
  t.throws(() => r.u8(), TruncatedError, 'the window end, not the buffer end, bounds reads');
  t.throws(() => r.uint(9), DecodeError);
  t.throws(() => r.skip(-1), TruncatedError);
  t.end();
});

t.test('enter/leave narrows to a sub-window and skips its unread rest', (t) => {
  const r = new Reader().reset(Buffer.from([0, 4, 9, 9, 7, 5]));
  const n = r.u16();
  const saved = r.enter(n);
  t.equal(r.u8(), 9);
  t.throws(() => r.u32(), TruncatedError, 'reads are confined to the window');
  r.leave(saved);
  t.equal(r.pos, 6);
  t.equal(r.left(), 0);
  r.clear();
  t.equal(r.buf.length, 0);
  t.end();
});

t.test('bytes() is a view and copyTo() copies', (t) => {
  const buf = Buffer.from([1, 2, 3, 4]);
  const r = new Reader().reset(buf);
  const v = r.bytes(2);
  buf[0] = 9;
  t.equal(v[0], 9);
  const dst = new Uint8Array(4);
  r.copyTo(dst, 2, 1);
  t.same([...dst], [0, 3, 4, 0]);
  t.end();
});
