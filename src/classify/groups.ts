// The home-network group names, one list for the classifier, the aggregator and the alerts. A name
// keeps its index for the life of the process: a reload appends new groups and never renumbers, so
// what the open intervals counted and the compiled alert filters keep their meaning.

export class GroupRegistry {
  private readonly list: string[] = [];
  private readonly listeners: ((size: number) => void)[] = [];

  constructor(names: Iterable<string> = []) {
    this.add(names);
  }

  /** Index → name; grows in place when groups are added. */
  get names(): readonly string[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  indexOf(name: string): number {
    return this.list.indexOf(name);
  }

  /** Appends the names not known yet; those who asked (onGrow) hear of it once. */
  add(names: Iterable<string>): void {
    const before = this.list.length;
    for (const n of names) if (!this.list.includes(n)) this.list.push(n);
    if (this.list.length !== before) for (const l of this.listeners) l(this.list.length);
  }

  /** The names this registry would hold after add(names), leaving it unchanged (to check a reload). */
  with(names: Iterable<string>): readonly string[] {
    return [...new Set([...this.list, ...names])];
  }

  /** Called with the new size whenever groups are added (counters indexed by group make room). */
  onGrow(listener: (size: number) => void): void {
    this.listeners.push(listener);
  }
}
