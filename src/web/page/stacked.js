// A stacked area chart on uPlot, which has no stacking of its own: each series is drawn at the
// running sum of the ones below it and filled down to the one below (a uPlot band), while its legend
// shows its own value, not the sum.
import { legendAtNewest, si, tick } from './util.js';

const HEIGHT = 260;

/** Running sums, bottom series first; an interval that is missing (null) stays a gap. */
function stack(raw) {
  const acc = raw.length ? raw[0].map(() => 0) : [];
  return raw.map((vals) => vals.map((v, i) => (v == null || acc[i] == null ? (acc[i] = null) : (acc[i] += v))));
}

export class StackedChart {
  constructor(box) {
    this.box = box;
    this.u = null;
    this.signature = '';
    this.raw = [];
    this.unit = 'bps';
  }

  /**
   * xs: interval starts (epoch s); series: [{label, color, values}] bottom first, values per x (null =
   * no summary for that interval). A new set of series builds a new chart; new values only redraw.
   */
  set(xs, series, unit) {
    this.unit = unit;
    this.raw = series.map((s) => s.values);
    const data = [xs, ...stack(this.raw)];
    const signature = JSON.stringify(series.map((s) => [s.label, s.color]));
    if (!this.u || signature !== this.signature) {
      this.destroy();
      this.signature = signature;
      this.u = new uPlot(this.options(series), data, this.box);
    } else {
      this.u.setData(data);
    }
    legendAtNewest(this.u);
  }

  options(series) {
    return {
      width: this.width(), height: HEIGHT,
      series: [{ label: 'time' }, ...series.map((s) => ({
        label: s.label, stroke: s.color, fill: `${s.color}aa`, width: 1, spanGaps: false, points: { show: false },
        // the legend shows the series' own value, not the running sum it is drawn at
        value: (_u, _v, seriesIdx, idx) => {
          const v = idx == null ? null : this.raw[seriesIdx - 1]?.[idx];
          return v == null ? '–' : `${si(v)}${this.unit}`;
        },
      }))],
      bands: series.slice(1).map((_s, i) => ({ series: [i + 2, i + 1] })),
      axes: [{}, { values: (_u, ticks) => ticks.map(tick), size: 60 }],
      scales: { x: { time: true } },
      cursor: { drag: { x: false, y: false } },
      hooks: { setCursor: [legendAtNewest] },
    };
  }

  width() {
    return Math.max(300, this.box.clientWidth);
  }

  resize() {
    if (this.u) this.u.setSize({ width: this.width(), height: HEIGHT });
  }

  destroy() {
    if (this.u) this.u.destroy();
    this.u = null;
    this.signature = '';
  }
}
