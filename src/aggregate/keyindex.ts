// Integer keys (an IPv4 address as one int32, an IPv6 address as four, a port key as one) to dense ids,
// shared by all open intervals: a record spread over N intervals is hashed once, and each interval
// keeps its counters in its own Float64Array indexed by that id. An id's counters for the intervals
// sit at the same offset of small arrays, where popular keys (seen first, so low ids) stay in cache;
// per-interval hash tables cost a probe per interval and about twice the time.

/**
 * Open-addressing hash on typed arrays: no object per entry and no string keys. A one-word key sits in
 * its slot beside the id, so a probe touches one cache line. At most `max` ids exist; past that find()
 * returns -1 and the caller counts an overflow. Ids are dense, 0 .. size-1; retain() drops the ones no
 * open interval uses any more and renumbers the rest in order.
 */
export class KeyIndex {
  size = 0;
  /** size after the last compaction */
  kept = 0;
  /** per id: its key words */
  keys: Int32Array;
  /** per id: the home group (hosts), as of the key's latest lookup */
  tags: Int32Array;
  /** per slot: [key, id + 1] for one-word keys, [id + 1] for wider ones; 0 = empty */
  private slots: Int32Array;
  private bits: number;
  private cap: number;

  /** `width`: words per key; 1, 4 (find1, find4) or any other (findN, the views' key tuples) */
  constructor(readonly width: number, readonly max: number, private readonly initialBits = 10) {
    this.bits = initialBits;
    this.slots = new Int32Array((width === 1 ? 2 : 1) << initialBits);
    this.cap = Math.min(max, 1 << (initialBits - 1));
    this.keys = new Int32Array(this.cap * width);
    this.tags = new Int32Array(this.cap);
  }

  /** Id of a one-word key, created when absent and `create`; else -1. The key's tag becomes `tag`. */
  find1(k: number, tag: number, create: boolean): number {
    const slots = this.slots, mask = (1 << this.bits) - 1;
    let i = Math.imul(k, 0x9e3779b1) >>> (32 - this.bits);
    for (;;) {
      const e = slots[2 * i + 1]!;
      if (e === 0) break;
      if (slots[2 * i] === k) {
        if (this.tags[e - 1] !== tag) this.tags[e - 1] = tag;
        return e - 1;
      }
      i = (i + 1) & mask;
    }
    if (!create || this.size >= this.max) return -1;
    const e = this.add(tag);
    this.keys[e] = k;
    slots[2 * i] = k;
    slots[2 * i + 1] = e + 1;
    this.checkLoad();
    return e;
  }

  /** Id of a four-word key (IPv6 address), as find1. */
  find4(a: number, b: number, c: number, d: number, tag: number, create: boolean): number {
    const slots = this.slots, keys = this.keys, mask = slots.length - 1;
    let i = hash4(a, b, c, d) >>> (32 - this.bits);
    for (;;) {
      const e = slots[i]!;
      if (e === 0) break;
      const at = (e - 1) * 4;
      if (keys[at] === a && keys[at + 1] === b && keys[at + 2] === c && keys[at + 3] === d) {
        if (this.tags[e - 1] !== tag) this.tags[e - 1] = tag;
        return e - 1;
      }
      i = (i + 1) & mask;
    }
    if (!create || this.size >= this.max) return -1;
    const e = this.add(tag), at = e * 4;
    this.keys[at] = a; this.keys[at + 1] = b; this.keys[at + 2] = c; this.keys[at + 3] = d;
    slots[i] = e + 1;
    this.checkLoad();
    return e;
  }

  /** Id of a two-word key (a view's exporter and interface), as find1. */
  find2(a: number, b: number, create: boolean): number {
    const slots = this.slots, keys = this.keys, mask = slots.length - 1;
    let i = hash2(a, b) >>> (32 - this.bits);
    for (;;) {
      const e = slots[i]!;
      if (e === 0) break;
      const at = (e - 1) * 2;
      if (keys[at] === a && keys[at + 1] === b) return e - 1;
      i = (i + 1) & mask;
    }
    if (!create || this.size >= this.max) return -1;
    const e = this.add(0);
    this.keys[2 * e] = a; this.keys[2 * e + 1] = b;
    slots[i] = e + 1;
    this.checkLoad();
    return e;
  }

  /** Id of a key of `width` words (views' key tuples: words[0 .. width)), as find1. */
  findN(words: Int32Array, create: boolean): number {
    const slots = this.slots, keys = this.keys, mask = slots.length - 1, w = this.width;
    let i = hashAt(words, 0, w) >>> (32 - this.bits);
    for (;;) {
      const e = slots[i]!;
      if (e === 0) break;
      const at = (e - 1) * w;
      let j = 0;
      while (j < w && keys[at + j] === words[j]) j++;
      if (j === w) return e - 1;
      i = (i + 1) & mask;
    }
    if (!create || this.size >= this.max) return -1;
    const e = this.add(0);
    this.keys.set(words.subarray(0, w), e * w); // add() may have grown the keys
    slots[i] = e + 1;
    this.checkLoad();
    return e;
  }

  /**
   * Whether a compaction is worth its cost (a pass over every interval's counters): the index is half
   * full, or has grown by more than the ids it kept last time. Ids die only when an interval closes,
   * so this is asked then; the amortized cost stays proportional to the ids created.
   */
  crowded(): boolean {
    return this.size * 2 >= this.max || this.size >= 2 * this.kept + 1024;
  }

  /**
   * Keeps the ids whose `used` byte is set, renumbered in order, and rebuilds the hash (shrinking it
   * after a flood). Returns the old-to-new id map (-1 = dropped), or undefined when all stay.
   */
  retain(used: Uint8Array): Int32Array | undefined {
    const n = this.size, w = this.width;
    let live = 0;
    for (let e = 0; e < n; e++) live += used[e]!;
    if (live === n) return undefined;
    const map = new Int32Array(n);
    let bits = this.initialBits;
    while (live * 2 > 1 << bits) bits++;
    const cap = Math.min(this.max, Math.max(1 << (bits - 1), live));
    const keys = new Int32Array(cap * w), tags = new Int32Array(cap);
    let j = 0;
    for (let e = 0; e < n; e++) {
      if (!used[e]) { map[e] = -1; continue; }
      map[e] = j;
      keys.set(this.keys.subarray(e * w, e * w + w), j * w);
      tags[j++] = this.tags[e]!;
    }
    this.keys = keys; this.tags = tags; this.cap = cap; this.size = live; this.bits = bits;
    this.rehash();
    return map;
  }

  private add(tag: number): number {
    if (this.size === this.cap) this.growIds();
    this.tags[this.size] = tag;
    return this.size++;
  }

  /** Keeps the load at or below one half. */
  private checkLoad(): void {
    if (this.size * 2 > 1 << this.bits) {
      this.bits++;
      this.rehash();
    }
  }

  private growIds(): void {
    const cap = Math.min(this.max, this.cap * 2);
    const keys = new Int32Array(cap * this.width), tags = new Int32Array(cap);
    keys.set(this.keys);
    tags.set(this.tags);
    this.keys = keys; this.tags = tags; this.cap = cap;
  }

  private rehash(): void {
    const one = this.width === 1, n = 1 << this.bits, mask = n - 1, keys = this.keys;
    const slots = new Int32Array(one ? 2 * n : n);
    for (let e = 0; e < this.size; e++) {
      if (one) {
        const k = keys[e]!;
        let i = Math.imul(k, 0x9e3779b1) >>> (32 - this.bits);
        while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
        slots[2 * i] = k;
        slots[2 * i + 1] = e + 1;
      } else {
        const at = e * this.width;
        let i = hashAt(keys, at, this.width) >>> (32 - this.bits);
        while (slots[i] !== 0) i = (i + 1) & mask;
        slots[i] = e + 1;
      }
    }
    this.slots = slots;
  }
}

function hash4(a: number, b: number, c: number, d: number): number {
  return Math.imul(a ^ Math.imul(b, 0x85ebca6b) ^ Math.imul(c, 0xc2b2ae35) ^ Math.imul(d, 0x27d4eb2f), 0x9e3779b1);
}

function hash2(a: number, b: number): number {
  return Math.imul(a ^ Math.imul(b, 0x85ebca6b), 0x9e3779b1);
}

/** Hash of the `n` words at `at`, as find2, find4 and findN compute it for their widths. */
function hashAt(w: Int32Array, at: number, n: number): number {
  return n === 4 ? hash4(w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!) : n === 2 ? hash2(w[at]!, w[at + 1]!) : hashN(w, at, n);
}

/** Hash of the `n` words at `at` (n other than 1, 2 and 4). */
function hashN(w: Int32Array, at: number, n: number): number {
  let h = 0x811c9dc5 ^ n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ w[at + i]!, 0x85ebca6b) ^ (h >>> 15);
  return Math.imul(h ^ (h >>> 13), 0x9e3779b1);
}

/** A big-endian 32-bit word of an IPv6 address, as a signed int32 key word. */
export function word(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

/** Ids per page of counters: a host page is 256 ids × 6 doubles (12 KB), a port page 24 KB. */
export const PAGE_BITS = 8;
const PAGE = 1 << PAGE_BITS;
export const PAGE_MASK = PAGE - 1;

/**
 * Zeroed pages of counters handed between intervals (a closed interval's pages serve the next ones, so
 * the steady state allocates none); at most `maxFree` are kept.
 */
export class PagePool {
  private readonly free: Float64Array[] = [];
  /** `pages`: enough for every id of the index (its max / PAGE), also the most kept free */
  constructor(readonly stride: number, readonly pages: number) {}

  take(): Float64Array {
    return this.free.pop() ?? new Float64Array(PAGE * this.stride);
  }

  give(page: Float64Array): void {
    if (this.free.length >= this.pages) return;
    page.fill(0);
    this.free.push(page);
  }

  get size(): number {
    return this.free.length;
  }
}

/**
 * One interval's counters for the ids of a KeyIndex: `stride` doubles per id, in pages of PAGE ids
 * taken when an id in them is first counted. Memory follows the ids the interval touched: under a
 * flood of one-shot spoofed hosts each interval holds its own slice of the ids, not all of them (one
 * array up to the highest id cost maxHosts × 48 bytes for every open interval, 57 MB at 100,000 hosts).
 */
export class Counters {
  /** per page of ids: its counters, NO_PAGE while none of its ids was counted (one element kind, no holes) */
  pages: Float64Array[];
  readonly stride: number;

  constructor(private readonly pool: PagePool) {
    this.stride = pool.stride;
    this.pages = new Array<Float64Array>(pool.pages).fill(NO_PAGE);
  }

  /** The page holding `id`'s counters, which sit at (id & PAGE_MASK) * stride. */
  at(id: number): Float64Array {
    const pg = this.pages[id >>> PAGE_BITS]!;
    return pg !== NO_PAGE ? pg : (this.pages[id >>> PAGE_BITS] = this.pool.take());
  }

  /** Gives the pages back for the next interval. */
  reset(): void {
    const pages = this.pages;
    for (let p = 0; p < pages.length; p++) {
      if (pages[p] === NO_PAGE) continue;
      this.pool.give(pages[p]!);
      pages[p] = NO_PAGE;
    }
  }

  /** Whether id holds anything. */
  has(id: number): boolean {
    const pg = this.pages[id >>> PAGE_BITS];
    return pg !== undefined && pg !== NO_PAGE && holds(pg, (id & PAGE_MASK) * this.stride, this.stride);
  }

  /** id's counters (a view, for summaries); undefined when its page was never taken. */
  view(id: number): Float64Array | undefined {
    const pg = this.pages[id >>> PAGE_BITS];
    if (pg === undefined || pg === NO_PAGE) return undefined;
    const at = (id & PAGE_MASK) * this.stride;
    return pg.subarray(at, at + this.stride);
  }

  /** Marks in `used` the ids holding anything. */
  mark(used: Uint8Array, size: number): void {
    for (let p = 0; p < this.pages.length; p++) {
      if (this.pages[p] === NO_PAGE) continue;
      const end = Math.min(size, (p + 1) << PAGE_BITS);
      for (let id = p << PAGE_BITS; id < end; id++) if (!used[id] && this.has(id)) used[id] = 1;
    }
  }

  /** Moves the counters to the ids of a retain() map, into pages of their own. */
  renumber(map: Int32Array): void {
    const st = this.stride, old = this.pages;
    this.pages = new Array<Float64Array>(old.length).fill(NO_PAGE);
    for (let p = 0; p < old.length; p++) {
      const pg = old[p]!;
      if (pg === NO_PAGE) continue;
      const end = Math.min(map.length, (p + 1) << PAGE_BITS);
      for (let id = p << PAGE_BITS; id < end; id++) {
        const to = map[id]!;
        const from = (id & PAGE_MASK) * st;
        if (to < 0 || !holds(pg, from, st)) continue;
        this.at(to).set(pg.subarray(from, from + st), (to & PAGE_MASK) * st);
      }
    }
    for (const pg of old) if (pg !== NO_PAGE) this.pool.give(pg);
  }
}

/** The page of ids no count has touched yet. */
const NO_PAGE = new Float64Array(0);

/** Whether any of the `n` counters at `at` is non-zero. */
function holds(pg: Float64Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (pg[at + i] !== 0) return true;
  return false;
}

/** Drops the ids of `index` that no interval's counters use, renumbering those counters to match. */
export function compactIndex(index: KeyIndex, counters: readonly Counters[]): void {
  if (index.size === 0) return;
  const used = new Uint8Array(index.size);
  for (const c of counters) c.mark(used, index.size);
  const map = index.retain(used);
  if (map) for (const c of counters) c.renumber(map);
  index.kept = index.size;
}
