// The two Grafana dashboards from a loaded configuration: its views become rows of panels on both
// backends. grafana/dashboards/*.json are these for the default configuration (`npm run dashboards`).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Config } from '../config/load.js';
import { buildDashboard } from './dashboard.js';
import { alertValues, bothLayouts, graphiteSections, graphiteVariables } from './graphite-base.js';
import { graphiteViewSections } from './graphite-views.js';
import { influxSections, INSTANCE } from './influx-base.js';
import { influxVariables } from './influx-variables.js';
import { influxViewSections } from './influx-views.js';
import { GRAPHITE_DS, GraphiteTarget, INFLUX_DS, InfluxAnnotation } from './query.js';
import { viewShapes } from './view-shapes.js';

/** What the dashboards depend on: the views, and the Graphite prefix the Prefix variable starts at. */
export type DashboardConfig = Pick<Config, 'views'> & { graphite: Pick<Config['graphite'], 'prefix'> };

export const DASHBOARD_FILES = { influxdb: 'flowbridge-influxdb.json', graphite: 'flowbridge-graphite.json' } as const;
export type Backend = keyof typeof DASHBOARD_FILES;

export function influxDashboard(cfg: DashboardConfig): Dashboard {
  const { head, tail } = influxSections();
  const views = influxViewSections(viewShapes(cfg.views));
  return buildDashboard({
    uid: 'flowbridge-influxdb', title: 'flowbridge traffic (InfluxDB)', tags: ['flowbridge', 'netflow', 'influxdb'],
    description: 'flowbridge interval counters in InfluxDB (docs/metrics.md), queried with InfluxQL: InfluxDB 1.x, 2.x through a DBRP mapping, ' +
      '3.x. With several collectors (docs/scaling.md) every panel sums over the instances chosen in Instance.',
    link: { title: 'flowbridge traffic (Graphite)', uid: 'flowbridge-graphite' },
    alerts: {
      ds: INFLUX_DS, target: new InfluxAnnotation(`SELECT text, alert, kind FROM alerts WHERE ${INSTANCE} AND $timeFilter`, 'text', ['alert', 'kind']),
    },
    variables: [...influxVariables(), ...views.vars],
    sections: [...head, ...views.sections, ...tail],
  });
}

export function graphiteDashboard(cfg: DashboardConfig): Dashboard {
  const views = viewShapes(cfg.views);
  const both = bothLayouts(new Set(views.map((v) => v.graphite.split('.')[1]!)));
  const { head, tail } = graphiteSections(both);
  return buildDashboard({
    uid: 'flowbridge-graphite', title: 'flowbridge traffic (Graphite)', tags: ['flowbridge', 'netflow', 'graphite'],
    description: 'flowbridge interval counters in Graphite (docs/metrics.md, plain paths under graphite.prefix). With several collectors ' +
      '(docs/scaling.md) every panel sums over the instances chosen in Instance; series written without an instance are always included.',
    link: { title: 'flowbridge traffic (InfluxDB)', uid: 'flowbridge-influxdb' },
    alerts: { ds: GRAPHITE_DS, target: new GraphiteTarget(alertValues(both), 'Anno').annotation() },
    variables: graphiteVariables(cfg.graphite.prefix, both),
    sections: [...head, ...graphiteViewSections(views, both), ...tail],
  });
}

/** Both dashboards as the JSON files Grafana provisions, by backend. */
export function dashboardFiles(cfg: DashboardConfig): Record<Backend, string> {
  const text = (d: Dashboard) => `${JSON.stringify(d, null, 2)}\n`;
  return { influxdb: text(influxDashboard(cfg)), graphite: text(graphiteDashboard(cfg)) };
}
