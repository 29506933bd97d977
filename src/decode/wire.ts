// Unchecked big-endian reads for positions a Reader has already bounds-checked (need(), enter(), a
// count checked against the datagram length): one check per structure instead of one per field, and
// byte arithmetic instead of Buffer#readUInt32BE's argument validation.

/** Unsigned 32-bit word at o. */
export function u32at(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Unsigned 16-bit word at o. */
export function u16at(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Whether a 16-byte address has any bit set (all zeros: the exporter had none to give). */
export function nonZero16(a: Uint8Array): boolean {
  let v = 0;
  for (let i = 0; i < 16; i++) v |= a[i]!;
  return v !== 0;
}
