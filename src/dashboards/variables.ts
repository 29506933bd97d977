// The kinds of dashboard variables both dashboards use: a visible multi-value list with "All" (what a
// panel is filtered by), the Top choice, the Graphite prefix, and hidden ranking lists.
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import {
  CustomVariableBuilder, QueryVariableBuilder, TextBoxVariableBuilder, VariableHide, VariableRefresh, VariableSort,
  type VariableModel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { adjusted } from './dashboard.js';

/** The choices of the Top variable: how many series a ranked panel draws. */
export const TOP_CHOICES = ['10', '20', '50', '100'];

export interface ListSpec {
  name: string;
  label: string;
  ds: DataSourceRef;
  /** InfluxQL or a Graphite find pattern as text; a Graphite render target as { queryType, refId, target } */
  query: string | { queryType: string; refId: string; target: string };
  /** what "All" stands for in the query (InfluxQL `.*`, Graphite `*`) */
  allValue: string;
  description?: string;
  /** values kept, as /regex/ */
  regex?: string;
}

/** A visible list of values, several at a time, "All" by default, refreshed with the time range. */
export function list(s: ListSpec): QueryVariableBuilder {
  const definition = typeof s.query === 'string' ? s.query : s.query.target;
  const v = new QueryVariableBuilder(s.name)
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    .datasource(s.ds)
    .definition(definition)
    .hide(VariableHide.DontHide)
    .includeAll(true)
    .label(s.label)
    .multi(true)
    .options([])
    .query(s.query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .regex(s.regex ?? '')
    .sort(VariableSort.AlphabeticalAsc)
    .allValue(s.allValue);
  if (s.description) v.description(s.description);
  return v;
}

/** How many series the ranked panels draw (#18: thousands otherwise). */
export function topChoice(): CustomVariableBuilder {
  return new CustomVariableBuilder('top')
    .current({ selected: true, text: TOP_CHOICES[0]!, value: TOP_CHOICES[0]! })
    .hide(VariableHide.DontHide)
    .includeAll(false)
    .label('Top')
    .multi(false)
    .options(TOP_CHOICES.map((c, i) => ({ selected: i === 0, text: c, value: c })))
    .values(TOP_CHOICES.join(','));
}

/** graphite.prefix of the collector, editable. */
export function prefixBox(prefix: string): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder('prefix')
    .current({ text: prefix, value: prefix })
    .description('graphite.prefix of the collector')
    .hide(VariableHide.DontHide)
    .label('Prefix')
    .options([{ selected: true, text: prefix, value: prefix }])
    .defaultValue(prefix);
}

/**
 * Hidden: the values an InfluxQL query ranks (top(…, $top)), all of them selected, so that a panel
 * filtering on it draws the largest series only; InfluxQL cannot rank series itself. Not in the URL.
 */
export function ranking(name: string, ds: DataSourceRef, query: string, description: string): Builder<VariableModel> {
  return adjusted<VariableModel>(new QueryVariableBuilder(name)
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    .datasource(ds)
    .definition(query)
    .description(description)
    .hide(VariableHide.HideVariable)
    .includeAll(true)
    .label('')
    .multi(true)
    .options([])
    .query(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .regex('')
    .sort(VariableSort.Disabled), { skipUrlSync: true });
}
