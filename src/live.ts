// The live collector: UDP listeners feed a Pipeline on arrival time, node-schedule's interval
// boundaries move its clock, and the decoder state is saved as templates change. It neither starts
// nor stops the sinks: the composition root (cli.ts) does, around it.
import type { Config } from './config/load.js';
import { IntervalClock } from './aggregate/schedule.js';
import { StateSaver } from './decode/state-saver.js';
import { parseHostPort, UdpListener } from './ingest/udp.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { wallClock, type Clock } from './lib/clock.js';
import { Metrics } from './lib/counters.js';
import { silentLogger, type Logger } from './lib/log.js';

export interface LiveOptions extends Omit<PipelineOptions, 'time' | 'shiftToNowMs' | 'shiftMs'> {
  /** the wall clock (default: the system's) */
  clock?: Clock;
}

export class LiveCollector {
  readonly pipeline: Pipeline;
  private readonly listeners: UdpListener[] = [];
  private intervalClock: IntervalClock | undefined;
  /** the decoder state's file (a replayed capture is self-contained: only the live collector has one) */
  private readonly saver: StateSaver | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: Metrics;

  constructor(private readonly cfg: Config, opts: LiveOptions = {}) {
    this.clock = opts.clock ?? wallClock;
    this.log = opts.log ?? silentLogger;
    this.metrics = opts.metrics ?? new Metrics();
    const p = this.pipeline = new Pipeline(cfg, { ...opts, metrics: this.metrics, time: 'arrival' });
    const st = cfg.state;
    this.saver = st.file
      ? new StateSaver(st.file, { templates: p.templates, sampling: p.sampling, names: p.interfaceNames },
        { saveEveryMs: st.saveEvery, minIntervalMs: st.minInterval, maxBytes: st.maxBytes }, p.arrivalClock, this.log, this.metrics)
      : undefined;
  }

  /** Restores the saved templates, listens, and emits a summary for every interval from now on. */
  async start(): Promise<void> {
    this.saver?.load();
    const { listen } = this.cfg;
    const p = this.pipeline;
    for (const hp of [...listen.netflow, ...listen.sflow, ...listen.extra]) {
      const { address, port } = parseHostPort(hp);
      const l = new UdpListener({ address, port, recvBufferSize: listen.recvBufferSize, thread: listen.thread },
        (buf, src, _port, receivedMs) => this.onDatagram(buf, src, receivedMs), this.metrics, this.clock);
      await l.start();
      this.listeners.push(l);
      const bound = l.address();
      this.log.info({ listen: hp, address: bound.address, port: bound.port }, 'listening');
    }
    p.start(this.clock());
    this.intervalClock = new IntervalClock(this.cfg.interval, (boundary) => {
      // what the kernel shed since the last interval, into the summary this tick closes
      for (const l of this.listeners) l.pollKernelDrops();
      p.tick(Math.max(this.clock(), boundary));
    });
    this.intervalClock.start();
    this.saver?.start();
  }

  /** One datagram, as a listener hands it over; the state file follows the templates it brings. */
  onDatagram(buf: Buffer, exporter: string, receivedMs: number): void {
    this.pipeline.onDatagram(buf, exporter, receivedMs);
    this.saver?.changed();
  }

  listenerAddresses(): { address: string; port: number }[] {
    return this.listeners.map((l) => l.address());
  }

  /** Closes the listeners, emits every open interval (through the current one) and saves the state. */
  async stop(): Promise<void> {
    this.intervalClock?.stop();
    this.saver?.stop();
    for (const l of this.listeners.splice(0)) await l.stop();
    await this.pipeline.finish(this.clock());
    this.saver?.save(); // the last chance: whatever the backoff says
  }
}
