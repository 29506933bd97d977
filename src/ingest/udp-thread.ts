// Receiving in a worker thread: Node reads one datagram per system call and wraps each in a Buffer and
// an event (about 5 µs), a fifth of a core at 33,000 datagrams/s that the decoder then lacks. The
// worker owns the socket and hands the main thread batches of datagrams in one transferred
// ArrayBuffer; the main thread walks them with views, no copy. Batches in flight are bounded: past
// the bound the worker drops datagrams and counts them, as the kernel would with a full buffer. The
// main thread decodes them in slices of SLICE_MS, so when it is behind (a flood of costly datagrams)
// timers, the page and /healthz still get their turn between slices.
import { Worker } from 'node:worker_threads';

/**
 * Bytes of batch buffers in flight to the main thread before the worker drops (0.3 s at 1M records/s).
 * A batch counts its whole buffer, not the bytes it carries: datagrams trickling in one per batch
 * while the main thread is behind would otherwise hold 64 KB each (200 MB in the hostile drill).
 */
export const MAX_IN_FLIGHT = 16 * 1024 * 1024;
const BATCH_BYTES = 64 * 1024;
/**
 * Returned batch buffers the worker keeps for reuse (1 MB): the steady state needs a few; after a
 * backlog the rest are freed and allocated again at the next (a few µs each). Keeping as many as can
 * be in flight held 16 MB more under a flood, when the bound is full all the time.
 */
const MAX_FREE = 16;

export type BindResult = { ok: true; port: number; address: string; recvActual: number } | { ok: false; code: string; message: string };

/**
 * The receiving worker's young generation, in MB (V8's default grows to 48): with 1, the datagram
 * Buffers die within about 3,000 datagrams (measured at 1M records/s: RSS 154 MB flat, 0 loss).
 */
const YOUNG_MB = 1;

/**
 * Main-thread time spent on waiting batches before it yields to other events. A 64 KB batch of
 * hostile datagrams (template floods) takes up to ~15 ms, so a slice is a batch or two.
 */
const SLICE_MS = 20;

/**
 * Shedding by source. While decoding keeps up (the batches in flight under a quarter of the bound) and
 * has for QUIET_MS, every source sending is remembered; one first seen ESTABLISH_MS before is
 * established. Past a quarter of the bound, datagrams from sources that are not established are shed
 * first, so a flood from new (spoofed) sources cannot crowd out the exporters that were there before
 * it; past the whole bound, everything is. When decoding falls behind after a quiet spell, the sources
 * not yet established are forgotten, and none is learnt until it is quiet again: a flood's lulls do not
 * make its sources established. Remembered: KNOWN_MAX sources, each forgotten after FORGET_MS without
 * a datagram.
 */
const QUIET_MS = 60_000;
const ESTABLISH_MS = 1000;
const KNOWN_MAX = 4096;
const FORGET_MS = 10 * 60_000;

/** Per datagram in a batch: u32 length, f64 receivedMs, u16 port, u8 address length, address, payload. */
const HEADER = 15;

/**
 * How long the worker gathers datagrams before handing a batch over (unless it fills first). At 33,000
 * datagrams/s a batch then carries about 30 (48 KB of its 64): handing over at each turn of the worker's
 * loop sent batches a fifth full, which the in-flight bound (whole buffers) turned into 0.5 % loss at
 * 1M records/s, and cost more CPU (npm run bench udp: 0.48 % → 0.00 %, 37.1 → 34.6 s of CPU in 30 s).
 */
const FLUSH_MS = 1;
/** The same while past a quarter of the in-flight bound (behind): fuller batches. */
const PRESSED_FLUSH_MS = 10;

// Plain JavaScript, run with `eval`: no module resolution, so it works the same from src (tests) and dist.
const WORKER_SOURCE = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { createSocket } = require('node:dgram');
const inFlight = new Int32Array(w.inFlight);
const sock = createSocket({ type: w.v6 ? 'udp6' : 'udp4', ipv6Only: w.v6 });
// batch buffers come back from the main thread once walked: no allocation in the steady state
const free = [];
const fresh = () => free.pop() || new ArrayBuffer(${BATCH_BYTES});
let buf = fresh(), u8 = new Uint8Array(buf), dv = new DataView(buf), at = 0, n = 0;
let dropped = 0, unknown = 0, socketErrors = 0, scheduled = false;
// source address -> [first, last] datagram time while quiet; anyEstablished: shedding by source is on
const known = new Map();
let anyEstablished = false, swept = Date.now(), lastBehind = -Infinity;
const calmBelow = w.maxInFlight / 4;
function remember(a, t) {
  const e = known.get(a);
  if (e !== undefined) {
    e[1] = t;
    if (t - e[0] >= ${ESTABLISH_MS}) anyEstablished = true;
    return;
  }
  if (t - swept > 60000) sweep(t, (v) => t - v[1] > ${FORGET_MS});
  if (known.size < ${KNOWN_MAX}) known.set(a, [t, t]);
}
function sweep(t, drop) {
  swept = t;
  anyEstablished = false;
  for (const [k, v] of known) {
    if (drop(v)) known.delete(k);
    else if (t - v[0] >= ${ESTABLISH_MS}) anyEstablished = true;
  }
}
function established(a, t) {
  const e = known.get(a);
  return e !== undefined && t - e[0] >= ${ESTABLISH_MS};
}
/** Hands the batch (or just the counts) over in \`ms\`, unless that is already due. */
function schedule(ms) {
  if (!scheduled) { scheduled = true; setTimeout(flush, ms); }
}
function flush() {
  scheduled = false;
  if (n === 0) {
    // only counts to report: keep the buffer
    if (dropped || unknown || socketErrors) parentPort.postMessage({ type: 'batch', buf: null, used: 0, n: 0, dropped, unknown, socketErrors });
    dropped = 0; unknown = 0; socketErrors = 0;
    return;
  }
  Atomics.add(inFlight, 0, buf.byteLength);
  parentPort.postMessage({ type: 'batch', buf, used: at, n, dropped, unknown, socketErrors }, [buf]);
  buf = fresh(); u8 = new Uint8Array(buf); dv = new DataView(buf); at = 0; n = 0;
  dropped = 0; unknown = 0; socketErrors = 0;
}
sock.on('message', (msg, r) => {
  // this thread's wall clock: a Clock cannot cross threads (with listen.thread off, UdpListener's is used)
  const t = Date.now();
  const held = Atomics.load(inFlight, 0), a = r.address;
  const quiet = t - lastBehind >= ${QUIET_MS};
  if (held < calmBelow) {
    if (quiet) remember(a, t);
  } else {
    if (quiet) sweep(t, (v) => t - v[0] < ${ESTABLISH_MS});
    lastBehind = t;
    let shed = true;
    if (held + buf.byteLength > w.maxInFlight) dropped++;
    else if (!established(a, t) && anyEstablished) unknown++;
    else shed = false;
    if (shed) return schedule(${FLUSH_MS});
  }
  const need = ${HEADER} + a.length + msg.length;
  if (need > ${BATCH_BYTES}) {
    // a datagram larger than a batch (up to 64 KB) goes alone
    flush();
    buf = new ArrayBuffer(need); u8 = new Uint8Array(buf); dv = new DataView(buf);
  } else if (at + need > buf.byteLength) flush();
  dv.setUint32(at, msg.length); dv.setFloat64(at + 4, t); dv.setUint16(at + 12, r.port); u8[at + 14] = a.length;
  for (let i = 0; i < a.length; i++) u8[at + ${HEADER} + i] = a.charCodeAt(i);
  u8.set(msg, at + ${HEADER} + a.length);
  at += need; n++;
  if (at === buf.byteLength) flush();
  // behind, a batch gathers longer: each one in flight counts its whole buffer, so batches of a few
  // datagrams would fill the bound with little to decode
  else schedule(held < calmBelow ? ${FLUSH_MS} : ${PRESSED_FLUSH_MS});
});
sock.on('error', () => { socketErrors++; schedule(${FLUSH_MS}); });
parentPort.on('message', (m) => {
  if (m instanceof ArrayBuffer) { if (free.length < ${MAX_FREE}) free.push(m); return; }
  if (m === 'stop') { flush(); sock.close(() => { parentPort.postMessage({ type: 'closed' }); parentPort.close(); }); }
});
sock.once('error', (err) => parentPort.postMessage({ type: 'bound', ok: false, code: err.code || 'UNKNOWN', message: err.message }));
sock.bind({ address: w.address, port: w.port, exclusive: true }, () => {
  sock.removeAllListeners('error');
  sock.on('error', () => { socketErrors++; });
  let recvActual = 0;
  try { if (w.recvBufferSize > 0) sock.setRecvBufferSize(w.recvBufferSize); } catch {}
  try { recvActual = sock.getRecvBufferSize(); } catch {}
  const a = sock.address();
  parentPort.postMessage({ type: 'bound', ok: true, port: a.port, address: a.address, recvActual });
});
`;

export interface ThreadHandlers {
  /** one received datagram: a view into the batch, valid during the call only (the batch is reused) */
  datagram(buf: Buffer, addr: string, port: number, receivedMs: number): void;
  /** datagrams the worker dropped because the main thread was behind: past the bound; from sources not established */
  dropped(n: number): void;
  unknownSource(n: number): void;
  socketErrors(n: number): void;
}

interface BatchMessage { type: 'batch'; buf: ArrayBuffer | null; used: number; n: number; dropped: number; unknown: number; socketErrors: number }
type WorkerMessage = BatchMessage | ({ type: 'bound' } & BindResult) | { type: 'closed' };

/** A socket read in a worker thread; start() resolves once it is bound (or failed to). */
export class ThreadReceiver {
  private readonly worker: Worker;
  private readonly inFlight = new Int32Array(new SharedArrayBuffer(4));
  private readonly bound: Promise<BindResult>;
  private closed: Promise<void> | undefined;
  private stopping = false;
  /** the last source address seen and its text: exporters send many datagrams in a row */
  private lastAddr = new Uint8Array(64);
  private lastAddrLen = -1;
  private lastAddrText = '';
  /** batches received and not yet walked (bounded by the worker's in-flight bound), oldest at `head` */
  private readonly queue: (BatchMessage | undefined)[] = [];
  private head = 0;
  /** a drain is scheduled or running */
  private draining = false;

  constructor(opts: { address: string; port: number; v6: boolean; recvBufferSize: number; maxInFlight?: number }, private readonly h: ThreadHandlers) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { maxInFlight: MAX_IN_FLIGHT, ...opts, inFlight: this.inFlight.buffer },
      // the worker needs none of the parent's flags (loaders, --cpu-prof)
      execArgv: [],
      // Node's socket hands each datagram over in its own malloc'd Buffer, freed only when the worker's
      // young generation is scavenged: a small young generation scavenges often and keeps few of them
      // (and the allocator arena under them) alive
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB },
    });
    this.bound = new Promise((resolve) => {
      const onMessage = (m: WorkerMessage) => {
        if (m.type === 'bound') {
          resolve(m);
          this.worker.off('message', onMessage);
        }
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', (err) => resolve({ ok: false, code: 'WORKER', message: err.message }));
    });
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.type !== 'batch') return;
      this.queue.push(m);
      // never walked inside the message callback: Node delivers every waiting message in one callback,
      // so a per-call budget would not bound it; the check phase runs once per turn of the loop
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => this.drain());
      }
    });
    // an exception inside the worker ends it; counted (and never thrown into the collector)
    this.worker.on('error', () => h.socketErrors(1));
  }

  start(): Promise<BindResult> {
    return this.bound;
  }

  /** Walks waiting batches for at most SLICE_MS, then lets other events run before the next slice. */
  private drain(all = false): void {
    const start = performance.now();
    while (this.head < this.queue.length) {
      const m = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      this.batch(m);
      if (!all && this.head < this.queue.length && performance.now() - start >= SLICE_MS) {
        setImmediate(() => this.drain());
        return;
      }
    }
    this.queue.length = this.head = 0;
    this.draining = false;
  }

  private batch(m: BatchMessage): void {
    if (m.dropped) this.h.dropped(m.dropped);
    if (m.unknown) this.h.unknownSource(m.unknown);
    if (m.socketErrors) this.h.socketErrors(m.socketErrors);
    const ab = m.buf;
    if (ab === null) return;
    const dv = new DataView(ab), u8 = new Uint8Array(ab);
    let at = 0;
    for (let i = 0; i < m.n && at + HEADER <= m.used; i++) {
      const len = dv.getUint32(at), t = dv.getFloat64(at + 4), port = dv.getUint16(at + 12), alen = u8[at + 14]!;
      const addr = this.addressText(u8, at + HEADER, alen);
      const p = at + HEADER + alen;
      this.h.datagram(Buffer.from(ab, p, len), addr, port, t);
      at = p + len;
    }
    Atomics.sub(this.inFlight, 0, ab.byteLength);
    // the views handed out are dead now (handlers copy what they keep): the buffer goes back for reuse
    if (ab.byteLength === BATCH_BYTES && !this.stopping) this.worker.postMessage(ab, [ab]);
  }

  private addressText(u8: Uint8Array, at: number, len: number): string {
    const last = this.lastAddr;
    if (len > last.length) return Buffer.from(u8.buffer, u8.byteOffset + at, len).toString('latin1');
    if (len === this.lastAddrLen) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (last[i] !== u8[at + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastAddrText;
    }
    last.set(u8.subarray(at, at + len));
    this.lastAddrLen = len;
    this.lastAddrText = Buffer.from(u8.buffer, u8.byteOffset + at, len).toString('latin1');
    return this.lastAddrText;
  }

  /** Closes the socket; datagrams received until then are delivered first. */
  stop(): Promise<void> {
    this.stopping = true;
    this.closed ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), 2000);
      this.worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'closed') {
          clearTimeout(timer);
          this.drain(true); // what is still waiting is delivered before stop() returns
          void this.worker.terminate().then(() => resolve());
        }
      });
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage('stop');
    });
    return this.closed;
  }
}
