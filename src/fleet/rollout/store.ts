/** Rollouts in the controller's SQLite (issue 7): the rollout, one row per device, and a log of what happened. */
import type { Database } from '../../store/index.js';
import type { DeviceState, Strategy } from './gates.js';
import type { Target } from './plan.js';

export type RolloutState = 'running' | 'rolling_back' | 'completed' | 'aborted';

export interface RolloutRow {
  id: string;
  name: string;
  version: string;
  target: string;
  strategy: string;
  state: RolloutState;
  wave: number;
  waves: number;
  reason: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  /** The operator who created it (issue 16): `name (key id)`, or `unauthenticated` with operator_auth off. */
  created_by: string | null;
}

export interface Rollout extends Omit<RolloutRow, 'target' | 'strategy'> {
  target: Target;
  strategy: Strategy;
}

export interface RolloutDevice {
  rollout_id: string;
  device: string;
  wave: number;
  state: DeviceState;
  from_version: string | null;
  reason: string | null;
  sent_at: number | null;
  sent_boot: string | null;
  done_at: number | null;
}

const revive = (r: RolloutRow): Rollout => ({ ...r, target: JSON.parse(r.target), strategy: JSON.parse(r.strategy) });

export class RolloutStore {
  constructor(private readonly db: Database, private readonly now: () => number) {}

  async create(r: Omit<Rollout, 'created_at' | 'updated_at' | 'finished_at' | 'reason'>, waves: string[][]): Promise<void> {
    const now = this.now();
    await this.db.transaction(async () => {
      await this.db.run(
        'INSERT INTO rollouts (id, name, version, target, strategy, state, wave, waves, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [r.id, r.name, r.version, JSON.stringify(r.target), JSON.stringify(r.strategy), r.state, r.wave, r.waves, now, now, r.created_by],
      );
      for (const [i, wave] of waves.entries()) {
        for (const device of wave) {
          await this.db.run("INSERT INTO rollout_devices (rollout_id, device, wave, state) VALUES (?, ?, ?, 'waiting')", [r.id, device, i]);
        }
      }
    });
  }

  async get(id: string): Promise<Rollout | undefined> {
    const r = await this.db.get<RolloutRow>('SELECT * FROM rollouts WHERE id = ?', [id]);
    return r && revive(r);
  }

  async list(limit = 50): Promise<Rollout[]> {
    return (await this.db.all<RolloutRow>('SELECT * FROM rollouts ORDER BY created_at DESC, id DESC LIMIT ?', [limit])).map(revive);
  }

  /** Rollouts the engine still has work for: after a restart, these continue. */
  async unfinished(): Promise<Rollout[]> {
    return (await this.db.all<RolloutRow>("SELECT * FROM rollouts WHERE state IN ('running', 'rolling_back') ORDER BY created_at")).map(revive);
  }

  async setState(id: string, state: RolloutState, patch: { wave?: number; reason?: string } = {}): Promise<void> {
    const now = this.now();
    const done = state === 'completed' || state === 'aborted' ? now : null;
    await this.db.run(
      'UPDATE rollouts SET state = ?, wave = COALESCE(?, wave), reason = COALESCE(?, reason), updated_at = ?, finished_at = COALESCE(?, finished_at) WHERE id = ?',
      [state, patch.wave ?? null, patch.reason ?? null, now, done, id],
    );
  }

  devices(id: string): Promise<RolloutDevice[]> {
    return this.db.all<RolloutDevice>('SELECT * FROM rollout_devices WHERE rollout_id = ? ORDER BY wave, device', [id]);
  }

  async setDevice(id: string, device: string, patch: Partial<Omit<RolloutDevice, 'rollout_id' | 'device' | 'wave'>>): Promise<void> {
    const keys = Object.keys(patch) as (keyof typeof patch)[];
    if (!keys.length) return;
    await this.db.run(
      `UPDATE rollout_devices SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE rollout_id = ? AND device = ?`,
      [...keys.map((k) => patch[k] ?? null), id, device],
    );
  }

  async log(id: string, wave: number | null, message: string): Promise<void> {
    await this.db.run('INSERT INTO rollout_log (rollout_id, at, wave, message) VALUES (?, ?, ?, ?)', [id, this.now(), wave, message]);
  }

  logOf(id: string): Promise<{ at: number; wave: number | null; message: string }[]> {
    return this.db.all('SELECT at, wave, message FROM rollout_log WHERE rollout_id = ? ORDER BY seq', [id]);
  }
}
