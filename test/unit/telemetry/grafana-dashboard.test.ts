/**
 * docs/grafana-dashboard.json (issue 20) against the exporter it charts: every `reasond_*` name in a
 * panel's query is one the PrometheusExporter registers (a histogram's through its `_bucket`,
 * `_sum` or `_count` series), every registered metric is on some panel, and every query is scoped
 * by the `$instance` (device) variable. Renaming a metric then fails here, not on a site's Grafana.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusExporter } from '../../../src/telemetry/export/prometheus.js';
import { repoRoot } from '../../helpers/models.js';

interface Target { expr: string; refId: string; datasource?: { uid?: string } }
interface Panel { id: number; type: string; title: string; targets?: Target[]; panels?: Panel[]; gridPos: { h: number; w: number; x: number; y: number } }

const dashboard = JSON.parse(readFileSync(join(repoRoot, 'docs/grafana-dashboard.json'), 'utf8')) as {
  uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const charted = panels.filter((p) => p.type !== 'row');

const exported = new PrometheusExporter().registry.getMetricsAsArray().map((m) => ({ name: m.name, type: String(m.type) }));
/** The series names Prometheus stores for each registered metric. */
const series = new Map(exported.flatMap(({ name, type }) => (type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => [name + s, name]) : [[name, name]])));
const namesIn = (expr: string) => [...expr.matchAll(/\breasond_[a-z0-9_]+/g)].map((m) => m[0]);

test('every metric a panel queries is one the exporter registers', (t) => {
  const unknown = charted.flatMap((p) => (p.targets ?? []).flatMap((q) => namesIn(q.expr).filter((n) => !series.has(n)).map((n) => `${p.title}: ${n}`)));
  t.deepEqual(unknown, []);
  const variable = dashboard.templating.list.find((v) => v.name === 'instance');
  t.truthy(variable, 'an instance (device) variable');
  t.deepEqual(namesIn(JSON.stringify(variable!.query)).filter((n) => !series.has(n)), []);
});

test('every metric the exporter registers is on a panel', (t) => {
  const used = new Set(charted.flatMap((p) => (p.targets ?? []).flatMap((q) => namesIn(q.expr).map((n) => series.get(n)))));
  t.true(exported.length >= 20, `the registry lists ${exported.length} metrics`);
  t.deepEqual(exported.map((m) => m.name).filter((n) => !used.has(n)), []);
});

test('every panel has queries scoped by $instance on the $datasource, a unique id and a place on the grid', (t) => {
  for (const p of charted) {
    t.true((p.targets ?? []).length > 0, p.title);
    for (const q of p.targets!) {
      // each selector in the query, not just the first
      const selectors = [...q.expr.matchAll(/\breasond_[a-z0-9_]+(\{[^}]*\})?/g)];
      t.true(selectors.length > 0 && selectors.every((m) => (m[1] ?? '').includes('instance=~"$instance"')), `${p.title}: ${q.expr}`);
      t.is(q.datasource?.uid, '${datasource}', p.title);
    }
    t.true(p.gridPos.x + p.gridPos.w <= 24 && p.gridPos.h > 0, p.title);
  }
  t.is(new Set(panels.map((p) => p.id)).size, panels.length);
  t.is(dashboard.uid, 'reasond-agents');
});
