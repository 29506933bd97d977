// When the live collector writes its decoder state (state.ts): a change at once, so a crash right after
// a new template (kill -9 between a template and its data) loses nothing; later ones at most once per
// minIntervalMs, so a template flood cannot turn into a disk-write flood; a failed write retried after
// a backoff, however many datagrams arrive meanwhile. Timed on the arrival clock it is given.
import type { Metrics } from '../lib/counters.js';
import type { Logger } from '../lib/log.js';
import { LOAD_SLACK, loadState, saveState, type StateConfig, type StateParts } from './state.js';
import type { Clock } from '../lib/clock.js';

/** The longest wait between two attempts to write a state file that cannot be written. */
const SAVE_BACKOFF_MAX_MS = 5 * 60_000;

export class StateSaver {
  /** template/sampling changes already persisted */
  private savedVersion = 0;
  private lastSaveMs = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;
  /** saves failed in a row, and the wait before the next attempt (doubling up to SAVE_BACKOFF_MAX_MS) */
  private failures = 0;
  private backoffMs = 0;

  constructor(
    readonly file: string,
    private readonly parts: StateParts,
    private readonly cfg: StateConfig,
    private readonly now: Clock,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Restores what the file holds (a bad file is logged and ignored). */
  load(): void {
    const r = loadState(this.file, this.parts, this.cfg.maxBytes * LOAD_SLACK);
    if (r.error) this.log.warn({ file: this.file, err: r.error }, 'state file ignored');
    else if (r.templates || r.interfaceNames) this.log.info({ file: this.file, templates: r.templates, interfaceNames: r.interfaceNames }, 'templates restored');
  }

  /** Starts the saveEvery timer, which writes even without a change (template ages). */
  start(): void {
    this.periodic = setInterval(() => this.soon(true), this.cfg.saveEveryMs);
    this.periodic.unref();
  }

  /** Called after each datagram: writes (now or later) when templates or sampling rates changed. */
  changed(): void {
    if (this.version() !== this.savedVersion) this.soon();
  }

  /** Changes worth persisting: templates learned or withdrawn, sampling rates set, interface names learned. */
  private version(): number {
    const ts = this.parts.templates.stats, ss = this.parts.sampling.stats;
    return ts.learned + ts.withdrawn + ss.updates + (this.parts.names?.learnedTotal.value ?? 0);
  }

  /** `periodic`: the saveEvery timer's call. The timer only writes the last change of a burst. */
  private soon(periodic = false): void {
    const now = this.now();
    const due = this.lastSaveMs + (this.failures > 0 ? this.backoffMs : this.cfg.minIntervalMs);
    if (now >= due) {
      this.save(now);
      return;
    }
    if (this.timer || periodic) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.version() !== this.savedVersion) this.save(Math.max(this.now(), due));
    }, due - now);
    this.timer.unref();
  }

  /** Writes the file now, whatever the backoff says (also the last write at shutdown). */
  save(nowMs = this.now()): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const version = this.version();
    this.lastSaveMs = nowMs;
    const m = this.metrics;
    try {
      const r = saveState(this.file, this.parts, this.cfg.maxBytes);
      this.savedVersion = version;
      m.gauge('state_file_bytes', 'Size of the state file last written').set(r.bytes);
      m.gauge('state_templates_unsaved', 'Templates left out of the state file last written (state.maxBytes)').set(r.skipped);
      if (this.failures > 0) this.log.info({ file: this.file, failures: this.failures }, 'state file written again');
      this.failures = 0;
    } catch (err) {
      // one line per attempt: the backoff spaces them out (SAVE_BACKOFF_MAX_MS apart at most)
      this.failures++;
      this.backoffMs = Math.min(SAVE_BACKOFF_MAX_MS, Math.max(this.cfg.minIntervalMs, 1000) * 2 ** (this.failures - 1));
      m.counter('state_save_errors_total', 'Failed writes of the state file').inc();
      this.log.warn({ file: this.file, err: (err as Error).message, failures: this.failures, retryInS: this.backoffMs / 1000 },
        'state file not written');
    }
  }

  /** Stops the timers (the caller writes the last state with save()). */
  stop(): void {
    clearInterval(this.periodic);
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
