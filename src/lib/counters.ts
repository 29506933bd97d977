// Self-metrics: counters and gauges with labels, exported as Prometheus text and as a flat snapshot.
// Series per metric name are capped so a flood of spoofed sources cannot grow the registry: past the
// cap, new label sets fold into one series whose labels all read "other".

export type Labels = Readonly<Record<string, string>>;

export class Counter {
  value = 0;
  constructor(readonly name: string, readonly labels: Labels) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class Gauge {
  value = 0;
  constructor(readonly name: string, readonly labels: Labels) {}
  set(v: number): void {
    this.value = v;
  }
}

interface Family {
  type: 'counter' | 'gauge';
  help: string;
  series: Map<string, Counter | Gauge>;
}

export interface MetricSample {
  name: string;
  type: 'counter' | 'gauge';
  labels: Labels;
  value: number;
}

export const DEFAULT_MAX_SERIES = 1000;

function labelKey(labels: Labels): string {
  // names sorted in place by insertion (a label set has a handful): Array#sort allocates a work array,
  // and a flood of spoofed exporters looks series up per datagram
  const names = Object.keys(labels);
  for (let i = 1; i < names.length; i++) {
    const n = names[i]!;
    let j = i - 1;
    for (; j >= 0 && names[j]! > n; j--) names[j + 1] = names[j]!;
    names[j + 1] = n;
  }
  let k = '';
  for (const name of names) k += `${name}=${labels[name]}\u0000`;
  return k;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export class Metrics {
  private readonly families = new Map<string, Family>();
  constructor(readonly prefix = 'flowbridge_', readonly maxSeries = DEFAULT_MAX_SERIES) {}

  counter(name: string, help: string, labels: Labels = {}): Counter {
    return this.get('counter', name, help, labels) as Counter;
  }

  gauge(name: string, help: string, labels: Labels = {}): Gauge {
    return this.get('gauge', name, help, labels) as Gauge;
  }

  private get(type: 'counter' | 'gauge', name: string, help: string, labels: Labels): Counter | Gauge {
    let fam = this.families.get(name);
    if (!fam) {
      fam = { type, help, series: new Map() };
      this.families.set(name, fam);
    } else if (fam.type !== type) {
      throw new Error(`metric ${name} is a ${fam.type}, not a ${type}`);
    }
    let key = labelKey(labels);
    let s = fam.series.get(key);
    if (s) return s;
    if (fam.series.size >= this.maxSeries) {
      const other: Record<string, string> = {};
      for (const l of Object.keys(labels)) other[l] = 'other';
      labels = other;
      key = labelKey(labels);
      s = fam.series.get(key);
      if (s) return s;
    }
    s = type === 'counter' ? new Counter(name, labels) : new Gauge(name, labels);
    fam.series.set(key, s);
    return s;
  }

  /** Sum of every series of one metric (optionally only those whose labels match `where`). */
  total(name: string, where: Labels = {}): number {
    const fam = this.families.get(name);
    if (!fam) return 0;
    let sum = 0;
    outer: for (const s of fam.series.values()) {
      for (const k of Object.keys(where)) if (s.labels[k] !== where[k]) continue outer;
      sum += s.value;
    }
    return sum;
  }

  snapshot(): MetricSample[] {
    const out: MetricSample[] = [];
    for (const [name, fam] of this.families) {
      for (const s of fam.series.values()) out.push({ name, type: fam.type, labels: s.labels, value: s.value });
    }
    return out;
  }

  /** Prometheus text exposition format 0.0.4. */
  toPrometheus(): string {
    let out = '';
    for (const [name, fam] of this.families) {
      const full = this.prefix + name;
      out += `# HELP ${full} ${fam.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${full} ${fam.type}\n`;
      for (const s of fam.series.values()) {
        const ls = Object.keys(s.labels).map((k) => `${k}="${escapeLabel(s.labels[k]!)}"`).join(',');
        out += `${full}${ls ? `{${ls}}` : ''} ${s.value}\n`;
      }
    }
    return out;
  }
}
