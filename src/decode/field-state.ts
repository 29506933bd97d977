// Per-record and per-datagram scratch state of the templated decoders (fields.ts): values that need
// combining before they reach the FlowRecord. One instance each per decoder, reset, never reallocated.

/** Per-datagram header context a data set is decoded against (saved with a held set). */
export class DataContext {
  exportMs = 0;
  /** v9 header sysUptime (ms); -1 for IPFIX, whose uptime base is systemInitTimeMilliseconds. */
  sysUptimeMs = -1;
  /** IPFIX systemInitTimeMilliseconds learned from options data; -1 unknown. */
  sysInitMs = -1;
  /** Exporter+domain sampling rate from options data; 0 unknown. */
  exporterRate = 0;
  samplers: ReadonlyMap<number, number> | undefined = undefined;
}

/** Values of one record that need combining before they reach the FlowRecord; -1 = absent. */
export class FieldState {
  bytes = -1; packets = -1; bytesTotal = -1; packetsTotal = -1; outBytes = -1; outPackets = -1;
  startMs = -1; endMs = -1; startUp = -1; endUp = -1; startDeltaUs = -1; endDeltaUs = -1; sysInitMs = -1;
  icmpTypeCode = -1; icmpType = -1; icmpCode = -1; ipVersion = -1; direction = -1; endReason = -1;
  samplingInterval = -1; samplerId = -1; randomInterval = -1; pktInterval = -1; pktSpace = -1;
  sampleSize = -1; samplePopulation = -1;
  // Reverse half (biflow templates; reset by resetReverse, not per record of other templates).
  rBytes = -1; rPackets = -1; rBytesTotal = -1; rPacketsTotal = -1; rTcpFlags = -1; rVlan = -1; rTos = -1;
  rStartMs = -1; rEndMs = -1; rStartUp = -1; rEndUp = -1; rStartDeltaUs = -1; rEndDeltaUs = -1; rDeltaMs = -1;
  // Packet section (section templates; reset by resetSection): where it is in the reader's buffer.
  secAt = -1; secLen = -1; secIp = false; frameSize = -1; secOffset = -1; secOctets = -1; ipTotalLen = -1;
  // Interface names (options records only; reset by resetOptions): the ifIndex and where each text is.
  optIf = -1; optEgressIf = -1; nameAt = -1; nameLen = -1; descAt = -1; descLen = -1;

  resetReverse(): void {
    this.rBytes = this.rPackets = this.rBytesTotal = this.rPacketsTotal = this.rTcpFlags = this.rVlan = this.rTos = -1;
    this.rStartMs = this.rEndMs = this.rStartUp = this.rEndUp = this.rStartDeltaUs = this.rEndDeltaUs = -1;
    this.rDeltaMs = -1;
  }

  resetSection(): void {
    this.secAt = this.secLen = this.frameSize = this.secOffset = this.secOctets = this.ipTotalLen = -1;
    this.secIp = false;
  }

  resetOptions(): void {
    this.optIf = this.optEgressIf = this.nameAt = this.nameLen = this.descAt = this.descLen = -1;
  }

  reset(): void {
    this.bytes = this.packets = this.bytesTotal = this.packetsTotal = this.outBytes = this.outPackets = -1;
    this.startMs = this.endMs = this.startUp = this.endUp = this.startDeltaUs = this.endDeltaUs = -1;
    this.sysInitMs = this.icmpTypeCode = this.icmpType = this.icmpCode = this.ipVersion = -1;
    this.direction = this.endReason = -1;
    this.samplingInterval = this.samplerId = this.randomInterval = this.pktInterval = this.pktSpace = -1;
    this.sampleSize = this.samplePopulation = -1;
  }

  /** A sampling rate the record (or options record) carries itself; 0 when it carries none. */
  ownRate(): number {
    if (this.samplingInterval > 0) return this.samplingInterval;
    if (this.pktInterval > 0 && this.pktSpace >= 0) return (this.pktInterval + this.pktSpace) / this.pktInterval;
    if (this.randomInterval > 0) return this.randomInterval;
    if (this.sampleSize > 0 && this.samplePopulation >= this.sampleSize) return this.samplePopulation / this.sampleSize;
    return 0;
  }
}
