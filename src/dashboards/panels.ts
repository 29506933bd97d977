// The panel kinds both dashboards use, with one look each (legend as a table on the right, sorted by
// the figure that matters, min 0), so that a panel is its title, description, unit and queries.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import {
  AxisPlacement, BigValueColorMode, FieldTextAlignment, BigValueGraphMode, BigValueJustifyMode, BigValueTextMode, GraphDrawStyle, GraphGradientMode,
  GraphThresholdsStyleConfigBuilder, GraphThresholdsStyleMode, LegendDisplayMode, LegendPlacement, LineInterpolation,
  ReduceDataOptionsBuilder, SortOrder, StackingConfigBuilder, StackingMode, TableCellDisplayMode, TableCellHeight,
  TableFooterOptionsBuilder, TableSortByFieldStateBuilder, TooltipDisplayMode, VisibilityMode, VizLegendOptionsBuilder,
  VizOrientation, VizTooltipOptionsBuilder, type DataSourceRef,
} from '@grafana/grafana-foundation-sdk/common';
import {
  FieldColorBuilder, FieldColorModeId, ThresholdsConfigBuilder, ThresholdsMode, type DataTransformerConfig, type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as piechart from '@grafana/grafana-foundation-sdk/piechart';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** What every panel has. Position: width and height only; the dashboard lays panels out left to right. */
export interface PanelSpec {
  title: string;
  description: string;
  w: number;
  h: number;
  ds: DataSourceRef;
  targets: Builder<Dataquery>[];
}

/**
 * Legend figures: `rate` (mean, max; sorted by mean), `count` (total, max: amounts per bucket), `peak`
 * (max, mean: levels such as queue depth).
 */
export type LegendKind = 'rate' | 'count' | 'peak';
const LEGENDS: Record<LegendKind, { calcs: string[]; sortBy: string }> = {
  rate: { calcs: ['mean', 'max'], sortBy: 'Mean' },
  count: { calcs: ['sum', 'max'], sortBy: 'Total' },
  peak: { calcs: ['max', 'mean'], sortBy: 'Max' },
};

export interface TimeSeriesSpec extends PanelSpec {
  unit: string;
  /** bars for amounts per bucket, points for events; lines otherwise */
  draw?: GraphDrawStyle;
  /** stacked: the series are parts of one whole (a view's tuples) */
  stacked?: boolean;
  legend?: LegendKind;
}

export function timeSeries(s: TimeSeriesSpec): timeseries.PanelBuilder {
  const draw = s.draw ?? GraphDrawStyle.Line;
  const legend = LEGENDS[s.legend ?? (draw === GraphDrawStyle.Bars ? 'count' : 'rate')];
  return base(new timeseries.PanelBuilder(), s)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.PaletteClassic))
    .axisBorderShow(false)
    .axisPlacement(AxisPlacement.Auto)
    .drawStyle(draw)
    .fillOpacity(draw === GraphDrawStyle.Bars ? 80 : s.stacked ? 60 : 10)
    .gradientMode(GraphGradientMode.None)
    .lineInterpolation(LineInterpolation.Linear)
    .lineWidth(1)
    .pointSize(draw === GraphDrawStyle.Points ? 8 : 4)
    .showPoints(draw === GraphDrawStyle.Points ? VisibilityMode.Always : VisibilityMode.Never)
    .spanNulls(false)
    .stacking(new StackingConfigBuilder().group('A').mode(s.stacked ? StackingMode.Normal : StackingMode.None))
    .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Off))
    .min(0)
    .unit(s.unit)
    .legend(new VizLegendOptionsBuilder().calcs(legend.calcs).displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Right)
      .showLegend(true).sortBy(legend.sortBy).sortDesc(true))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
}

export interface StatSpec extends PanelSpec {
  unit: string;
  /** colour steps from the base colour up: [base, [threshold, colour], …] */
  steps: [string, ...[number, string][]];
}

/** The collector's problems summed over the range (decode errors, template misses, late parts, sink lines lost). */
export function problemsPanel(ds: DataSourceRef, targets: Builder<Dataquery>[]): stat.PanelBuilder {
  return statPanel({ title: 'Problems over the range', unit: 'short', w: 24, h: 4, ds, steps: ['green', [1, 'red']],
    description: 'Decode errors, data sets without a template, late record parts (counted in a later interval, never dropped), and sink ' +
      'lines lost (dropped or failed). Anything but 0 deserves a look.',
    targets });
}

/** The sum of each series over the range, as big numbers. */
export function statPanel(s: StatSpec): stat.PanelBuilder {
  const [first, ...rest] = s.steps;
  const steps: Threshold[] = [{ color: first, value: null }, ...rest.map(([value, color]) => ({ color, value }))];
  return base(new stat.PanelBuilder(), s)
    .unit(s.unit)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds))
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps))
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.None)
    .justifyMode(BigValueJustifyMode.Auto)
    .orientation(VizOrientation.Auto)
    .textMode(BigValueTextMode.ValueAndName)
    .wideLayout(true)
    .reduceOptions(sumOverRange())
    .showPercentChange(false);
}

export interface TableSpec extends PanelSpec {
  /** column → unit */
  units?: Record<string, string>;
  /** the column sorted on, largest first */
  sortBy?: string;
  transformations?: DataTransformerConfig[];
}

export function tablePanel(s: TableSpec): table.PanelBuilder {
  const p = base(new table.PanelBuilder(), s)
    .align(FieldTextAlignment.Auto)
    .cellOptions({ type: TableCellDisplayMode.Auto })
    .inspect(false)
    .cellHeight(TableCellHeight.Sm)
    .footer(new TableFooterOptionsBuilder().show(false).reducer(['sum']).countRows(false))
    .showHeader(true)
    .sortBy(s.sortBy ? [new TableSortByFieldStateBuilder().desc(true).displayName(s.sortBy)] : [])
    .transformations(s.transformations ?? []);
  for (const [column, unit] of Object.entries(s.units ?? {})) p.overrideByName(column, [{ id: 'unit', value: unit }]);
  return p;
}

export interface PieSpec extends PanelSpec {
  unit: string;
}

/** Shares of a whole over the range: one slice per series, the legend giving value and percent. */
export function pieChart(s: PieSpec): piechart.PanelBuilder {
  return base(new piechart.PanelBuilder(), s)
    .unit(s.unit)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.PaletteClassic))
    .pieType(piechart.PieChartType.Donut)
    .displayLabels([piechart.PieChartLabels.Name])
    .legend(new piechart.PieChartLegendOptionsBuilder().displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Right)
      .showLegend(true).values([piechart.PieChartLegendValues.Value, piechart.PieChartLegendValues.Percent]))
    .reduceOptions(sumOverRange())
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Single).sort(SortOrder.None));
}

function sumOverRange(): ReduceDataOptionsBuilder {
  return new ReduceDataOptionsBuilder().calcs(['sum']).fields('').values(false);
}

/** The part every panel builder shares (the SDK's builders have no common base type). */
interface AnyPanel<P> {
  title(t: string): P;
  description(d: string): P;
  datasource(d: DataSourceRef): P;
  gridPos(g: { h: number; w: number; x: number; y: number }): P;
  withTarget(t: Builder<Dataquery>): P;
}

function base<P extends AnyPanel<P>>(p: P, s: PanelSpec): P {
  // x = y = 0: DashboardBuilder places the panel after the previous one
  p.title(s.title).description(s.description).datasource(s.ds).gridPos({ h: s.h, w: s.w, x: 0, y: 0 });
  for (const t of s.targets) p.withTarget(t);
  return p;
}

/** Grafana's transformation hiding the time column of a table query. */
export const HIDE_TIME: DataTransformerConfig = { id: 'organize', options: { excludeByName: { Time: true }, indexByName: {}, renameByName: {} } };

/**
 * Graphite tables: each series summed over the range (one row per series), the series name and the
 * total renamed to `name` and `total`.
 */
export function seriesToRows(name: string, total: string): DataTransformerConfig[] {
  return [
    { id: 'reduce', options: { includeTimeField: false, mode: 'seriesToRows', reducers: ['sum'] } },
    { id: 'organize', options: { excludeByName: {}, indexByName: {}, renameByName: { Field: name, Total: total } } },
  ];
}
