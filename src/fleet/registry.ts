/**
 * The device registry (issue 7): every agent's retained status (online, or
 * offline from its last will), retained metrics and its events, folded into
 * one SQLite row per device. Metrics also go to the history (history.ts).
 * Times are the controller's clock at receipt, so a board with a wrong
 * clock cannot reorder what the rollout engine compares.
 */
import {
  checker, metricsSchema, modelUpdateSchema, offlineStatusSchema, onlineStatusSchema, parseDeviceTopic,
  type MetricsMessage, type ModelUpdateEvent, type OfflineStatus, type OnlineStatus,
} from '../protocol/index.js';
import type { Database } from '../store/index.js';
import { metricsSample, MetricsHistory } from './history.js';

export interface DeviceRow {
  device: string;
  online: number;
  pool: string | null;
  agent_version: string | null;
  model_name: string | null;
  model_version: string | null;
  hardware: string | null;
  labels: string;
  status: string | null;
  metrics: string | null;
  update_state: string | null;
  update_version: string | null;
  update_reason: string | null;
  update_at: number | null;
  throttled: number;
  first_seen: number;
  last_seen: number;
  online_since: number | null;
}

export interface DeviceEvent {
  device: string;
  at: number;
  state: string | null;
  name: string | null;
  version: string | null;
  reason: string | null;
}

type Json = Record<string, any>;

/**
 * An event's reason with its message: `smoke_failed: asked "2+2?", expected "4", got "5"`, not the
 * code alone (operators read it in `rollout show`, `fleet status` and the dashboard).
 */
export function fullReason(e: { reason?: unknown; message?: unknown }): string | null {
  const reason = typeof e.reason === 'string' ? e.reason : undefined;
  const message = typeof e.message === 'string' ? e.message : undefined;
  if (reason && message) return message.startsWith(`${reason}:`) || message.startsWith(reason) ? message : `${reason}: ${message}`;
  return reason ?? message ?? null;
}

export class Registry {
  /** Called after a device's row changed (the rollout engine reconciles on it). */
  onChange: (device: string) => void = () => {};
  /**
   * The agents' messages are read through the schemas src/protocol declares and the agent writes by
   * (#19, issue 16), never re-parsed by hand: a message that does not match is logged and ignored.
   */
  private readonly isMetrics = checker<MetricsMessage>(metricsSchema, 'the metrics');
  private readonly isOnline = checker<OnlineStatus>(onlineStatusSchema, 'the status');
  private readonly isOffline = checker<OfflineStatus>(offlineStatusSchema, 'the status');
  private readonly isModelUpdate = checker<ModelUpdateEvent>(modelUpdateSchema, 'the event');

  constructor(
    private readonly db: Database,
    private readonly history: MetricsHistory,
    private readonly now: () => number,
    private readonly log: (line: string) => void = () => {},
  ) {}

  async ingest(base: string, topic: string, payload: Buffer): Promise<void> {
    const t = parseDeviceTopic(base, topic);
    if (!t || payload.length === 0) return; // an empty retained message clears a topic: nothing to record
    let body: Json;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // not ours to judge; the agent's own tests cover its payloads
    }
    if (body === null || typeof body !== 'object') return;
    const now = this.now();
    await this.db.run(
      'INSERT INTO devices (device, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT (device) DO UPDATE SET last_seen = excluded.last_seen',
      [t.device, now, now],
    );
    if (t.kind === 'status') await this.status(t.device, body, now);
    else if (t.kind === 'metrics') await this.metrics(t.device, body, now);
    else await this.event(t.device, body, now);
    this.onChange(t.device);
  }

  private async status(device: string, s: Json, now: number): Promise<void> {
    const check = s.state === 'online' ? this.isOnline : this.isOffline;
    if (!check(s)) return this.log(`status from ${device} ignored: ${check.problems().join('; ')}`);
    if (s.state === 'online') {
      // online_since moves only on a new birth (started_at), so the engine can tell a restart from a repeat
      await this.db.run(
        `UPDATE devices SET online = 1, pool = ?, agent_version = ?, model_name = ?, model_version = ?, hardware = ?, status = ?,
           online_since = CASE WHEN online = 1 AND json_extract(status, '$.started_at') = ? THEN online_since ELSE ? END
         WHERE device = ?`,
        [s.pool, s.agent_version, s.model.name, s.model.version, JSON.stringify(s.hardware), JSON.stringify(s), s.started_at, now, device],
      );
    } else {
      await this.db.run('UPDATE devices SET online = 0, status = ? WHERE device = ?', [JSON.stringify(s), device]);
    }
  }

  private async metrics(device: string, m: Json, now: number): Promise<void> {
    if (!this.isMetrics(m)) return this.log(`metrics from ${device} ignored: ${this.isMetrics.problems().join('; ')}`);
    const throttled = m.thermal.guard === 'normal' ? 0 : 1;
    await this.db.run('UPDATE devices SET metrics = ?, throttled = ? WHERE device = ?', [JSON.stringify(m), throttled, device]);
    await this.history.record(device, now, metricsSample(m));
  }

  private async event(device: string, e: Json, now: number): Promise<void> {
    const why = fullReason(e);
    await this.db.run(
      'INSERT INTO device_events (device, at, type, state, name, version, reason, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [device, now, e.type ?? null, e.state ?? null, e.name ?? null, e.version ?? null, why, JSON.stringify(e)],
    );
    if (e.type === 'model_update') {
      if (!this.isModelUpdate(e)) return this.log(`model_update from ${device} ignored: ${this.isModelUpdate.problems().join('; ')}`);
      await this.db.run('UPDATE devices SET update_state = ?, update_version = ?, update_reason = ?, update_at = ? WHERE device = ?', [
        e.state, `${e.name}@${e.version}`, why, now, device,
      ]);
    }
  }

  list(): Promise<DeviceRow[]> {
    return this.db.all<DeviceRow>('SELECT * FROM devices ORDER BY device');
  }

  get(device: string): Promise<DeviceRow | undefined> {
    return this.db.get<DeviceRow>('SELECT * FROM devices WHERE device = ?', [device]);
  }

  async setLabels(device: string, labels: Record<string, string>): Promise<boolean> {
    const r = await this.db.run('UPDATE devices SET labels = ? WHERE device = ?', [JSON.stringify(labels), device]);
    return r.changes > 0;
  }

  /** The model_update events of one version on one device since `since` (controller ms). */
  updateEvents(device: string, name: string, version: string, since: number): Promise<DeviceEvent[]> {
    return this.db.all<DeviceEvent>(
      "SELECT device, at, state, name, version, reason FROM device_events WHERE device = ? AND type = 'model_update' AND name = ? AND version = ? AND at >= ? ORDER BY seq",
      [device, name, version, since],
    );
  }

  recentEvents(device: string, limit = 20): Promise<Json[]> {
    return this.db.all('SELECT at, type, state, name, version, reason FROM device_events WHERE device = ? ORDER BY seq DESC LIMIT ?', [device, limit]);
  }

  /**
   * Every device's events of `types` since `since`, newest first (issue 20). An agent sends a
   * `downloading` event per percent of a download: of each unbroken run of them (one device, one
   * package version) only the first and the latest are kept, so a rollout to fifty boards does not
   * push every other event off the list. `IS`, not `=`: the window's edges and the events without
   * a state are NULL, which `=` would turn into dropping the row.
   */
  fleetEvents(types: readonly string[], since: number, limit: number): Promise<StoredEvent[]> {
    return this.db.all<StoredEvent>(
      `SELECT seq, device, at, type, body FROM (
         SELECT seq, device, at, type, state, body, LAG(state) OVER run AS before, LEAD(state) OVER run AS after
         FROM device_events WHERE at >= ? AND type IN (${types.map(() => '?').join(', ')})
         WINDOW run AS (PARTITION BY device, type, name, version ORDER BY seq)
       ) WHERE NOT (state IS 'downloading' AND before IS 'downloading' AND after IS 'downloading')
       ORDER BY seq DESC LIMIT ?`,
      [since, ...types, limit],
    );
  }
}

/** An event as the registry stored it: the agent's message in `body`, the controller's receipt time in `at`. */
export interface StoredEvent {
  seq: number;
  device: string;
  at: number;
  type: string;
  body: string;
}
