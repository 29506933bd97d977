// The one bounds-checked reader every decoder uses. A decoder owns one instance and resets it per
// datagram; nothing here allocates. UDP has no framing layer, so every read checks `pos + n <= end`.
import { DecodeError, TruncatedError } from './errors.js';

const EMPTY = Buffer.alloc(0);
const TWO32 = 4294967296;

export class Reader {
  buf: Buffer = EMPTY;
  pos = 0;
  end = 0;

  reset(buf: Buffer, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** Drops the reference to the datagram so it is not retained between datagrams. */
  clear(): void {
    this.buf = EMPTY;
    this.pos = this.end = 0;
  }

  left(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new TruncatedError(this.pos, n, this.end - this.pos);
  }

  u8(): number {
    if (this.pos + 1 > this.end) throw new TruncatedError(this.pos, 1, this.end - this.pos);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    if (this.pos + 2 > this.end) throw new TruncatedError(this.pos, 2, this.end - this.pos);
    const b = this.buf, p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u32(): number {
    if (this.pos + 4 > this.end) throw new TruncatedError(this.pos, 4, this.end - this.pos);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** 64-bit unsigned as a double: exact up to 2^53, which no real counter reaches per record. */
  u64(): number {
    if (this.pos + 8 > this.end) throw new TruncatedError(this.pos, 8, this.end - this.pos);
    const b = this.buf;
    const v = b.readUInt32BE(this.pos) * TWO32 + b.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }

  /** Unsigned big-endian integer of 1..8 bytes (IPFIX/v9 reduced-size encoding). */
  uint(len: number): number {
    switch (len) {
      case 1: return this.u8();
      case 2: return this.u16();
      case 4: return this.u32();
      case 8: return this.u64();
    }
    if (len < 1 || len > 8) {
      throw new DecodeError('unsupported_field_length', `unsigned field of ${len} bytes`);
    }
    if (this.pos + len > this.end) throw new TruncatedError(this.pos, len, this.end - this.pos);
    let v = 0;
    const b = this.buf;
    for (let i = 0; i < len; i++) v = v * 256 + b[this.pos + i]!;
    this.pos += len;
    return v;
  }

  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new TruncatedError(this.pos, n, this.end - this.pos);
    this.pos += n;
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.end) throw new TruncatedError(this.pos, n, this.end - this.pos);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Copies the next n bytes into dst at offset (e.g. an IPv6 address into a preallocated array). */
  copyTo(dst: Uint8Array, n: number, offset = 0): void {
    if (n < 0 || this.pos + n > this.end) throw new TruncatedError(this.pos, n, this.end - this.pos);
    this.buf.copy(dst, offset, this.pos, this.pos + n);
    this.pos += n;
  }

  /**
   * Narrows the readable window to the next n bytes (a length from the wire, checked first) and
   * returns the previous end, to be given back to `leave()`. Replaces allocating a sub-reader.
   */
  enter(n: number): number {
    if (n < 0 || this.pos + n > this.end) throw new TruncatedError(this.pos, n, this.end - this.pos);
    const saved = this.end;
    this.end = this.pos + n;
    return saved;
  }

  /** Ends a window opened by enter(): skips what the window left unread and restores the end. */
  leave(savedEnd: number): void {
    this.pos = this.end;
    this.end = savedEnd;
  }
}
