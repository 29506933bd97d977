// Flow times relative to an exporter's uptime (NetFlow v5/v9), shared by the forward and reverse halves.
const TWO32 = 4294967296;
const TWO31 = 2147483648;

/** Epoch ms of a v9/v5 sysUptime-relative time, tolerating 32-bit uptime wrap between the two. */
export function uptimeToMs(exportMs: number, sysUptimeMs: number, t: number): number {
  let back = (sysUptimeMs - t) >>> 0;
  if (back >= TWO31) back -= TWO32; // the flow time is slightly after the header's uptime
  return exportMs - back;
}
