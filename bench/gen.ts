// Synthetic exporter datagrams for benchmarks and drills. The buffer is reused between yields: copy
// what you keep.

/** NetFlow v5 datagrams of 30 records each: sources 10.x.y.z (distinct, inside home) to one outside host. */
export function* floodV5(sources: number, bytes: number, exportSec: number): Generator<Buffer> {
  const buf = Buffer.alloc(24 + 48 * 30);
  for (let i = 0; i < sources; i += 30) {
    const n = Math.min(30, sources - i);
    buf.fill(0);
    buf.writeUInt16BE(5, 0);
    buf.writeUInt16BE(n, 2);
    buf.writeUInt32BE(100_000, 4); // sysUptime ms
    buf.writeUInt32BE(exportSec, 8);
    for (let j = 0; j < n; j++) {
      const o = 24 + 48 * j;
      buf.writeUInt32BE((0x0a000000 + ((i + j) * 7919) % 0x1000000) >>> 0, o); // distinct sources in 10/8
      buf.writeUInt32BE(0xc6336401, o + 4); // 198.51.100.1
      buf.writeUInt32BE(1, o + 16);
      buf.writeUInt32BE(bytes, o + 20);
      buf.writeUInt32BE(99_000, o + 24);
      buf.writeUInt32BE(99_000, o + 28);
      buf.writeUInt16BE(40000, o + 32);
      buf.writeUInt16BE(80, o + 34);
      buf[o + 38] = 6;
    }
    yield n === 30 ? buf : buf.subarray(0, 24 + 48 * n);
  }
}

