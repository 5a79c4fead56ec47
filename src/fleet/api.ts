/**
 * The controller's API (issue 7, docs/API.md "Fleet controller"): one
 * handler table, served over MQTT request/response at
 * <base>/controller/request/<action> by src/mqtt's RequestTable (every reply
 * echoes id and says status ok|error). The dashboard's read-only HTTP JSON
 * calls the same functions (http/server.ts).
 */
import type { RequestHandler } from '../mqtt/index.js';
import { ReasondError } from '../core/errors.js';
import type { MetricsHistory } from './history.js';
import type { JobResults } from './job-results.js';
import type { OperatorGate } from './operator-auth.js';
import type { PackageStore } from './package-store.js';
import { FLEET_EVENT_TYPES, fleetEvent } from './events.js';
import type { DeviceRow, Registry } from './registry.js';
import type { RolloutEngine } from './rollout/engine.js';
import type { Strategy } from './rollout/gates.js';
import { parsePercent, parseTarget, parseWaves } from './rollout/plan.js';
import { UNAUTHENTICATED, type FLEET_CHANGING } from './operator-auth.js';
import type { RolloutStore } from './rollout/store.js';

type FleetChanging = (typeof FLEET_CHANGING)[number];

export interface ApiDeps {
  registry: Registry;
  history: MetricsHistory;
  packages: PackageStore;
  engine: RolloutEngine;
  rollouts: RolloutStore;
  /** Each device's latest scheduled-job results (issue 18). */
  jobs: JobResults;
  now: () => number;
  /** Checks the operator's signature on fleet-changing requests (issue 16). */
  operators: Pick<OperatorGate, 'check'>;
  log: (line: string) => void;
}

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || !v) throw new ReasondError('invalid_request', `${what} must be a non-empty string; got ${JSON.stringify(v)}`);
  return v;
};

/** One row of the fleet table: the registry row with the last metrics' figures pulled out. */
export function deviceSummary(d: DeviceRow) {
  const m = d.metrics ? JSON.parse(d.metrics) : undefined;
  const t = m?.throughput;
  return {
    device: d.device,
    online: d.online === 1,
    pool: d.pool,
    labels: JSON.parse(d.labels),
    agent_version: d.agent_version,
    model: d.model_name ? `${d.model_name}@${d.model_version ?? '?'}` : null,
    tokens_per_s: t?.decode_tokens_per_s?.p50 ?? null,
    temp_c: m?.thermal?.hottest_c ?? null,
    rss_bytes: m?.memory?.rss_bytes ?? null,
    queue_depth: t?.queue_depth ?? null,
    throttled: d.throttled === 1,
    update: d.update_state ? { state: d.update_state, version: d.update_version, reason: d.update_reason, at: d.update_at } : null,
    hardware: d.hardware ? JSON.parse(d.hardware) : null,
    last_seen: d.last_seen,
  };
}

export function strategyOf(b: Record<string, unknown>): Strategy {
  const canary = b.canary === undefined ? 0 : Number(b.canary);
  if (!Number.isInteger(canary) || canary < 0) throw new ReasondError('invalid_request', `canary must be a whole number of devices; got ${JSON.stringify(b.canary)}`);
  const minTasks = b.min_tasks === undefined ? 0 : Number(b.min_tasks);
  if (!Number.isInteger(minTasks) || minTasks < 0) throw new ReasondError('invalid_request', `min_tasks must be a whole number of tasks; got ${JSON.stringify(b.min_tasks)}`);
  if (b.rollback_on_abort !== undefined && typeof b.rollback_on_abort !== 'boolean') throw new ReasondError('invalid_request', `rollback_on_abort must be true or false; got ${JSON.stringify(b.rollback_on_abort)}`);
  if (b.allow_downgrade !== undefined && typeof b.allow_downgrade !== 'boolean') throw new ReasondError('invalid_request', `allow_downgrade must be true or false; got ${JSON.stringify(b.allow_downgrade)}`);
  return {
    canary,
    waves: parseWaves((b.waves as string | number[] | undefined) ?? [100]),
    max_failures_percent: parsePercent(b.max_failures ?? 0, 'max_failures'),
    rollback_on_abort: (b.rollback_on_abort as boolean | undefined) ?? true,
    max_tps_drop_percent: parsePercent(b.max_tps_drop ?? 50, 'max_tps_drop'),
    max_error_increase_percent: parsePercent(b.max_error_increase ?? 10, 'max_error_increase'),
    min_tasks: minTasks,
    ...(b.allow_downgrade ? { allow_downgrade: true } : {}),
  };
}

export function fleetApi(d: ApiDeps) {
  return {
    status: async () => ({ devices: (await d.registry.list()).map(deviceSummary), at: d.now() }),
    device: async (device: string) => {
      const row = await d.registry.get(device);
      if (!row) throw new ReasondError('invalid_request', `unknown device ${JSON.stringify(device)}`);
      return { ...deviceSummary(row), status: row.status ? JSON.parse(row.status) : null, events: await d.registry.recentEvents(device) };
    },
    history: async (device: string, sinceMs: number, points?: number) => {
      if (!(await d.registry.get(device))) throw new ReasondError('invalid_request', `unknown device ${JSON.stringify(device)}`);
      const until = d.now();
      return { device, since: until - sinceMs, until, points: await d.history.query(device, until - sinceMs, until, points) };
    },
    rollouts: async () => ({ rollouts: await d.rollouts.list() }),
    rollout: (id: string) => d.engine.show(id),
    /** The job result messages as the agents published them; a device the controller never heard of is an error, not an empty list. */
    jobs: async (device?: string) => {
      const jobs = d.jobs.list(device);
      if (device !== undefined && !jobs.length && !(await d.registry.get(device))) throw new ReasondError('invalid_request', `unknown device ${JSON.stringify(device)}`);
      return { jobs, at: d.now() };
    },
    packages: async () => ({ packages: await d.packages.list() }),
    /** The fleet's recent events that matter (issue 20), newest first; download percents thinned (registry.fleetEvents). */
    events: async (sinceMs = EVENTS_SINCE_MS, limit = EVENTS_LIMIT) => {
      const at = d.now();
      const rows = await d.registry.fleetEvents(FLEET_EVENT_TYPES, at - sinceMs, limit);
      return { events: rows.map(fleetEvent), since: at - sinceMs, at };
    },
  };
}

/** The events list's defaults: a week back, the 50 latest (the dashboard's table). */
export const EVENTS_SINCE_MS = 7 * 86_400_000;
export const EVENTS_LIMIT = 50;

export function controllerHandlers(d: ApiDeps): Record<string, RequestHandler> {
  const api = fleetApi(d);
  // A fleet-changing action runs only for an operator whose signature the gate accepts; `by` names them.
  const signed = (action: FleetChanging, h: (b: Record<string, unknown>, by: string) => Promise<Record<string, unknown>>): [string, RequestHandler] =>
    [action, async (b) => h(b, await d.operators.check(action, b))];
  return {
    'fleet/status': () => api.status(),
    'device/show': (b) => api.device(str(b.device, 'device')),
    'device/history': (b) => {
      const since = b.since_ms === undefined ? 86_400_000 : Number(b.since_ms);
      if (!Number.isFinite(since) || since <= 0) throw new ReasondError('invalid_request', `since_ms must be a positive number of milliseconds; got ${JSON.stringify(b.since_ms)}`);
      return api.history(str(b.device, 'device'), since, b.points === undefined ? undefined : Number(b.points));
    },
    rollouts: () => api.rollouts(),
    'rollout/show': (b) => api.rollout(str(b.rollout, 'rollout')),
    packages: () => api.packages(),
    jobs: (b) => api.jobs(b.device === undefined ? undefined : str(b.device, 'device')),
    ...Object.fromEntries([
      signed('device/labels', async (b, by) => {
        const labels = b.labels;
        if (!labels || typeof labels !== 'object' || Object.values(labels).some((v) => typeof v !== 'string')) {
          throw new ReasondError('invalid_request', `labels must be an object of strings; got ${JSON.stringify(labels)}`);
        }
        if (!(await d.registry.setLabels(str(b.device, 'device'), labels as Record<string, string>))) throw new ReasondError('invalid_request', `unknown device ${JSON.stringify(b.device)}`);
        d.log(`labels of ${b.device} set to ${JSON.stringify(labels)} by ${by}`);
        return { device: b.device, labels };
      }),
      signed('rollout/create', async (b, by) => {
        const [name, version, strategy] = [str(b.name, 'name'), str(b.version, 'version'), strategyOf(b)];
        if (b.force !== undefined && typeof b.force !== 'boolean') throw new ReasondError('invalid_request', `force must be true or false; got ${JSON.stringify(b.force)}`);
        // nothing would test such a package before every device of the target runs it (issue 16)
        if (!b.force && !strategy.min_tasks && (await d.packages.smokeChecks(name, version)) === 0) {
          throw new ReasondError('invalid_request', `${name}@${version} has no smoke checks and the rollout no gate tasks, so nothing would test it before the devices run it: add smoke checks (reasond model pack --smoke), set min_tasks (--gate-tasks), or force it (--force)`);
        }
        return { rollout: await d.engine.create({ name, version, target: parseTarget(str(b.target ?? 'all', 'target')), strategy, by }) };
      }),
      signed('rollout/abort', async (b, by) => ({ rollout: await d.engine.abort(str(b.rollout, 'rollout'), `aborted by ${by === UNAUTHENTICATED ? 'an unauthenticated operator' : by}`, b.rollback as boolean | undefined) })),
      signed('fleet/rollback', async (b, by) => ({ devices: await d.engine.rollbackDevices(parseTarget(str(b.target, 'target')), by) })),
      signed('package/upload', async (b) => {
        await d.packages.write({ name: str(b.name, 'name'), version: str(b.version, 'version'), path: str(b.path, 'path'), offset: Number(b.offset), data: Buffer.from(String(b.data ?? ''), 'base64') });
        return { path: b.path, offset: b.offset };
      }),
      signed('package/commit', async (b, by) => ({ package: await d.packages.commit(str(b.name, 'name'), str(b.version, 'version'), by) })),
    ]),
  };
}
