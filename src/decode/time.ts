// Flow times relative to an exporter's uptime (NetFlow v5/v9), shared by the forward and reverse halves,
// and IPFIX's NTP timestamps.
const TWO32 = 4294967296;
const TWO31 = 2147483648;

/** Epoch ms of a v9/v5 sysUptime-relative time, tolerating 32-bit uptime wrap between the two. */
export function uptimeToMs(exportMs: number, sysUptimeMs: number, t: number): number {
  let back = (sysUptimeMs - t) >>> 0;
  if (back >= TWO31) back -= TWO32; // the flow time is slightly after the header's uptime
  return exportMs - back;
}

/** Seconds from the NTP epoch (1900) to the Unix epoch. */
export const NTP_UNIX_OFFSET_S = 2208988800;

/** NTP 64-bit timestamp (RFC 7011 dateTimeMicroseconds/Nanoseconds) to epoch ms. */
export function ntpToMs(secs: number, frac: number): number {
  return (secs - NTP_UNIX_OFFSET_S) * 1000 + Math.floor((frac * 1000) / TWO32);
}
