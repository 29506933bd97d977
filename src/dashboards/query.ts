// The queries of the two dashboards as Grafana's typed builders take them. The SDK has no InfluxDB or
// Graphite query types, so these are its "custom query" builders (cog.Builder<Dataquery>): raw InfluxQL
// and Graphite targets, each naming the provisioned datasource (grafana/provisioning/datasources).
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

export const INFLUX_DS: DataSourceRef = { type: 'influxdb', uid: 'flowbridge-influxdb' };
export const GRAPHITE_DS: DataSourceRef = { type: 'graphite', uid: 'flowbridge-graphite' };

/** Grafana's InfluxDB query in raw InfluxQL mode. */
export interface InfluxQLQuery extends Dataquery {
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  refId: string;
  resultFormat: 'time_series' | 'table';
  /** series name: $tag_<tag>, $col */
  alias?: string;
}

/** A panel target; `alias` names each series (time series results only). */
export class InfluxQL implements Builder<Dataquery> {
  private readonly q: InfluxQLQuery;

  constructor(query: string, refId = 'A') {
    this.q = { datasource: INFLUX_DS, query, rawQuery: true, refId, resultFormat: 'time_series', _implementsDataqueryVariant() {} };
  }

  alias(alias: string): this {
    this.q.alias = alias;
    return this;
  }

  /** Rows with the tags as columns, for table panels. */
  table(): this {
    this.q.resultFormat = 'table';
    return this;
  }

  build(): InfluxQLQuery {
    return this.q;
  }
}

/** The alert annotation's InfluxQL query: text and tags from the columns it names. */
export interface InfluxAnnotationQuery extends Dataquery {
  query: string;
  queryType: 'tags';
  fromAnnotations: true;
  refId: string;
  textColumn: string;
  tagsColumn: string;
  titleColumn: string;
  timeEndColumn: string;
  limit: number;
  matchAny: boolean;
  tags: string[];
  type: 'dashboard';
}

export class InfluxAnnotation implements Builder<Dataquery> {
  constructor(private readonly query: string, private readonly text: string, private readonly tags: string[]) {}

  build(): InfluxAnnotationQuery {
    return {
      query: this.query, queryType: 'tags', fromAnnotations: true, refId: 'Anno', textColumn: this.text, tagsColumn: this.tags.join(','),
      titleColumn: '', timeEndColumn: '', limit: 100, matchAny: false, tags: [], type: 'dashboard', _implementsDataqueryVariant() {},
    };
  }
}

/** Grafana's Graphite query as text (the query editor's raw mode). */
export interface GraphiteQuery extends Dataquery {
  datasource?: DataSourceRef;
  refId: string;
  target: string;
  textEditor: true;
  fromAnnotations?: true;
}

export class GraphiteTarget implements Builder<Dataquery> {
  private readonly q: GraphiteQuery;

  constructor(target: string, refId = 'A') {
    this.q = { datasource: GRAPHITE_DS, refId, target, textEditor: true, _implementsDataqueryVariant() {} };
  }

  /** As an annotation's target: the annotation names the datasource. */
  annotation(): this {
    delete this.q.datasource;
    this.q.fromAnnotations = true;
    return this;
  }

  build(): GraphiteQuery {
    return this.q;
  }
}
