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
