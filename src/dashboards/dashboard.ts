// What the two dashboards share around their panels: title, uid, the link to the other one, the
// built-in and the alert annotations, the variables, and the rows with their panels in order, laid out
// and numbered as Grafana would.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import {
  AnnotationQueryBuilder, DashboardBuilder, DashboardCursorSync, DashboardLinkBuilder, DashboardLinkType, RowBuilder,
  type AnnotationQuery, type Dashboard, type DashboardLink, type Panel, type VariableModel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** A row and the panels under it. */
export interface Section {
  title: string;
  panels: Builder<Panel>[];
}

export interface Frame {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  /** the other backend's dashboard */
  link: { title: string; uid: string };
  alerts: { ds: DataSourceRef; target: Builder<Dataquery> };
  variables: Builder<VariableModel>[];
  sections: Section[];
}

/**
 * A builder's result with fields set or removed that its setters do not reach: the SDK defaults links
 * and annotations to the controls menu (`placement`), where the hand-written dashboards never put them,
 * and has no setter for a variable's skipUrlSync.
 */
export function adjusted<T extends object>(b: Builder<T>, set: Partial<T>, drop: (keyof T)[] = []): Builder<T> {
  return {
    build: () => {
      const o = { ...b.build(), ...set };
      for (const k of drop) delete o[k];
      return o;
    },
  };
}

export function buildDashboard(f: Frame): Dashboard {
  const b = new DashboardBuilder(f.title)
    .id(null)
    .uid(f.uid)
    .description(f.description)
    .tags(f.tags)
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .fiscalYearStartMonth(0)
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .version(1)
    .link(adjusted<DashboardLink>(new DashboardLinkBuilder(f.link.title).type(DashboardLinkType.Link).url(`/d/${f.link.uid}`)
      .icon('dashboard').tooltip('').tags([]).asDropdown(false).includeVars(false).keepTime(true).targetBlank(false), {}, ['placement']))
    .annotation(adjusted<AnnotationQuery>(new AnnotationQueryBuilder().builtIn(1).datasource({ type: 'grafana', uid: '-- Grafana --' })
      .enable(true).hide(true).iconColor('rgba(0, 211, 255, 1)').name('Annotations & Alerts').type('dashboard'), {}, ['placement']))
    .annotation(adjusted<AnnotationQuery>(new AnnotationQueryBuilder().datasource(f.alerts.ds).enable(true).hide(false).iconColor('red')
      .name('flowbridge alerts').target(f.alerts.target), {}, ['builtIn', 'placement']));
  for (const v of f.variables) b.withVariable(v);
  for (const s of f.sections) {
    b.withRow(new RowBuilder(s.title));
    for (const p of s.panels) b.withPanel(p);
  }
  const d = b.build();
  // ids in layout order, as Grafana numbers a new dashboard's panels
  (d.panels ?? []).forEach((p, i) => { p.id = i + 1; });
  return d;
}
