/**
 * The rollout engine (issue 7): reconciliation, not a script. Each pass
 * compares what a rollout wants (its waves up to the current one on the new
 * version) with what the registry last heard from the devices, and takes
 * the steps that close the gap: send a deploy, mark a device active or
 * failed, check the wave's gate, move to the next wave, abort, roll back.
 * Everything is in SQLite, so a restarted controller simply reconciles again
 * and carries on where it was.
 *
 * Invariants:
 *  - every pass, create and abort runs on one ExclusiveRunner: no two change
 *    a rollout at once;
 *  - at most one rollout is running or rolling back at a time;
 *  - a request is sent again only when it may have been lost: the device
 *    started again since (a new birth), or this controller process never
 *    sent it (a restart). Deploy and rollback are idempotent on the agent.
 */
import { randomUUID } from 'node:crypto';
import { describeError, ReasondError } from '../../core/errors.js';
import { ExclusiveRunner } from '../../core/exclusive-runner.js';
import type { MetricsHistory } from '../history.js';
import type { DeviceRow, Registry } from '../registry.js';
import { hasEvidence, healthProblem, waveVerdict, type DeviceState, type Strategy } from './gates.js';
import { describeTarget, planWaves, selectDevices, type Target } from './plan.js';
import type { Rollout, RolloutDevice, RolloutStore } from './store.js';

export interface DeviceCommands {
  deploy(device: string, p: { name: string; version: string; allow_downgrade?: boolean }): Promise<void>;
  rollback(device: string, reason: string): Promise<void>;
}

export interface EngineDeps {
  store: RolloutStore;
  registry: Registry;
  history: MetricsHistory;
  commands: DeviceCommands;
  /** Whether the package store holds name@version. */
  hasPackage: (name: string, version: string) => Promise<boolean>;
  now: () => number;
  log: (line: string) => void;
  /** A device that has not answered its deploy this long after it was sent is counted failed (0: wait for ever). */
  deployTimeoutMs?: number;
}

export interface CreateRequest {
  name: string;
  version: string;
  target: Target;
  strategy: Strategy;
  /** The operator who asks for it, as the history records them (issue 16). */
  by?: string;
}

const idOf = (d: DeviceRow | undefined) => (d?.model_name ? `${d.model_name}@${d.model_version ?? ''}` : null);

export class RolloutEngine {
  readonly runner = new ExclusiveRunner();
  /** This process's id: requests sent by an earlier controller process are sent again. */
  private readonly boot = randomUUID();
  private queued = false;

  constructor(private readonly d: EngineDeps) {}

  create(req: CreateRequest): Promise<Rollout> {
    return this.runner.run('create rollout', async () => {
      const busy = await this.d.store.unfinished();
      if (busy.length) throw new ReasondError('busy', `rollout ${busy[0].id} (${busy[0].name}@${busy[0].version}) is still ${busy[0].state}; abort it or wait`);
      if (!(await this.d.hasPackage(req.name, req.version))) throw new ReasondError('invalid_request', `the package store has no ${req.name}@${req.version}; upload it with reasond fleet upload`);
      const known = (await this.d.registry.list()).map((r) => ({ device: r.device, pool: r.pool, labels: JSON.parse(r.labels) }));
      const devices = selectDevices(req.target, known);
      if (!devices.length) throw new ReasondError('invalid_request', `no known device matches ${describeTarget(req.target)}`);
      const waves = planWaves(devices, req.strategy.canary, req.strategy.waves);
      const id = `r-${new Date(this.d.now()).toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${randomUUID().slice(0, 4)}`;
      await this.d.store.create({ id, name: req.name, version: req.version, target: req.target, strategy: req.strategy, state: 'running', wave: 0, waves: waves.length, created_by: req.by ?? null }, waves);
      await this.d.store.log(id, null, `created${req.by ? ` by ${req.by}` : ''}: ${req.name}@${req.version} to ${describeTarget(req.target)}, waves ${waves.map((w) => w.length).join('+')}`);
      await this.startWave((await this.d.store.get(id))!, 0);
      await this.pass(id);
      return (await this.d.store.get(id))!;
    });
  }

  abort(id: string, reason = 'aborted by an operator', rollback?: boolean): Promise<Rollout> {
    return this.runner.run(`abort ${id}`, async () => {
      const r = await this.d.store.get(id);
      if (!r) throw new ReasondError('invalid_request', `no rollout ${JSON.stringify(id)}`);
      if (r.state !== 'running') throw new ReasondError('invalid_request', `rollout ${id} is ${r.state}; only a running rollout can be aborted`);
      await this.startAbort(r, reason, rollback ?? r.strategy.rollback_on_abort);
      await this.pass(id);
      return (await this.d.store.get(id))!;
    });
  }

  /**
   * `fleet rollback` (issue 16): every device the target selects goes back to its previous version
   * (the agent's own model/rollback; one without a previous version answers so in its events).
   * Refused while a rollout runs: abort it instead, which rolls back what it updated.
   */
  rollbackDevices(target: Target, by: string): Promise<string[]> {
    return this.runner.run('fleet rollback', async () => {
      const busy = await this.d.store.unfinished();
      if (busy.length) throw new ReasondError('busy', `rollout ${busy[0].id} (${busy[0].name}@${busy[0].version}) is ${busy[0].state}; abort it (it rolls back what it updated) before a fleet rollback`);
      const known = (await this.d.registry.list()).map((r) => ({ device: r.device, pool: r.pool, labels: JSON.parse(r.labels) }));
      const devices = selectDevices(target, known);
      if (!devices.length) throw new ReasondError('invalid_request', `no known device matches ${describeTarget(target)}`);
      for (const device of devices) await this.d.commands.rollback(device, `fleet rollback by ${by}`);
      this.d.log(`fleet rollback of ${describeTarget(target)} (${devices.join(', ')}) by ${by}`);
      return devices;
    });
  }

  /** Asks for a reconcile pass; passes asked for while one waits are one pass. */
  poke(): void {
    if (this.queued) return;
    this.queued = true;
    void this.runner.run('reconcile', async () => {
      this.queued = false;
      for (const r of await this.d.store.unfinished()) await this.pass(r.id);
    }).catch((e) => this.d.log(`rollout reconcile failed: ${describeError(e)}`));
  }

  idle(): Promise<void> {
    return this.runner.idle();
  }

  private async startWave(r: Rollout, wave: number): Promise<void> {
    await this.d.store.setState(r.id, 'running', { wave });
    for (const row of (await this.d.store.devices(r.id)).filter((x) => x.wave === wave)) {
      const dev = await this.d.registry.get(row.device);
      await this.d.store.setDevice(r.id, row.device, { state: 'deploying', from_version: idOf(dev), sent_at: null, sent_boot: null });
    }
    await this.d.store.log(r.id, wave, `wave ${wave} started${wave === 0 && r.strategy.canary ? ' (canary)' : ''}`);
  }

  private async startAbort(r: Rollout, reason: string, rollback: boolean): Promise<void> {
    await this.d.store.log(r.id, r.wave, `aborting: ${reason}${rollback ? '; rolling updated devices back' : ''}`);
    for (const row of await this.d.store.devices(r.id)) if (row.state === 'waiting') await this.d.store.setDevice(r.id, row.device, { state: 'skipped' });
    if (rollback) await this.d.store.setState(r.id, 'rolling_back', { reason });
    else await this.d.store.setState(r.id, 'aborted', { reason });
  }

  /** One reconcile pass over one rollout. */
  private async pass(id: string): Promise<void> {
    let r = (await this.d.store.get(id))!;
    const now = this.d.now();
    for (const row of await this.d.store.devices(id)) {
      const dev = await this.d.registry.get(row.device);
      await this.observe(r, row, dev, now);
    }
    r = (await this.d.store.get(id))!;
    if (r.state === 'running') await this.gate(r);
    r = (await this.d.store.get(id))!;
    if (r.state === 'rolling_back') await this.rollBack(r, now);
  }

  /** Moves one device's row on from what the registry heard, and (re)sends what it may have missed. */
  private async observe(r: Rollout, row: RolloutDevice, dev: DeviceRow | undefined, now: number): Promise<void> {
    const target = `${r.name}@${r.version}`;
    const set = (patch: Partial<RolloutDevice>, note?: string) =>
      this.d.store.setDevice(r.id, row.device, patch).then(() => (note ? this.d.store.log(r.id, row.wave, `${row.device}: ${note}`) : undefined));
    if (row.state === 'deploying') {
      if (idOf(dev) === target) return set({ state: 'active', done_at: now }, `active on ${target}`);
      const bad = (await this.d.registry.updateEvents(row.device, r.name, r.version, row.sent_at ?? now)).find((e) => e.state === 'rejected' || e.state === 'rolled_back');
      if (bad) return set({ state: 'failed', reason: `${bad.state}: ${bad.reason ?? 'no reason given'}`, done_at: now }, `${bad.state} (${bad.reason ?? 'no reason'})`);
      if (r.state === 'rolling_back' && !dev?.online) return set({ state: 'skipped', reason: 'offline when the rollout aborted' }, 'skipped: offline when the rollout aborted');
      // a deploy that was sent and never answered (the board went offline mid-deploy, or hangs) does not hold the wave for ever
      const timeout = this.d.deployTimeoutMs ?? 0;
      if (timeout > 0 && row.sent_at !== null && now - row.sent_at > timeout) {
        const why = `no answer within ${Math.round(timeout / 1000)} s of its deploy (${dev?.online ? 'online' : 'offline'} now)`;
        return set({ state: 'failed', reason: why, done_at: now }, `failed: ${why}`);
      }
      // an aborted rollout sends no new deploys: one that may never have arrived is given up
      if (r.state === 'rolling_back' && this.mustSend(row, dev)) return set({ state: 'skipped', reason: 'its deploy may not have arrived before the abort' }, 'skipped: its deploy may not have arrived before the abort');
      if (this.mustSend(row, dev)) {
        await this.d.commands.deploy(row.device, { name: r.name, version: r.version, ...(r.strategy.allow_downgrade ? { allow_downgrade: true } : {}) });
        return set({ sent_at: now, sent_boot: this.boot }, row.sent_at === null ? 'deploy sent' : 'deploy sent again');
      }
    } else if (row.state === 'active' && idOf(dev) !== target && dev?.online) {
      // the agent left the version by itself (its error-rate watch or crash-loop guard rolled it back)
      return set({ state: 'failed', reason: `left ${target} for ${idOf(dev) ?? 'the configured model'}`, done_at: now }, `left ${target}`);
    }
  }

  private mustSend(row: { sent_at: number | null; sent_boot: string | null }, dev: DeviceRow | undefined): boolean {
    if (!dev?.online) return false;
    return row.sent_at === null || row.sent_boot !== this.boot || (dev.online_since ?? 0) > row.sent_at;
  }

  private async gate(r: Rollout): Promise<void> {
    const rows = (await this.d.store.devices(r.id)).filter((x) => x.wave === r.wave);
    const verdict0 = waveVerdict(rows.map((x) => x.state), r.strategy, r.wave);
    if (verdict0.kind === 'pass') {
      const active = rows.filter((x) => x.state === 'active');
      const samples = await Promise.all(active.map((row) => this.d.history.latest(row.device, r.version, row.done_at ?? 0)));
      const short = active.filter((_, i) => !hasEvidence(samples[i], r.strategy)).map((x) => x.device);
      if (short.length) return this.noteOnce(r, `wave ${r.wave}: waiting for ${r.strategy.min_tasks} tasks on the new version from ${short.join(', ')}`);
      // health: the new version's figures against the previous version's, per active device
      for (const [i, row] of active.entries()) {
        const before = await this.d.history.baseline([row.device], row.from_version?.split('@')[1] ?? null);
        const problem = healthProblem(samples[i], before, r.strategy);
        if (problem) {
          await this.d.store.setDevice(r.id, row.device, { state: 'failed', reason: `unhealthy: ${problem}` });
          await this.d.store.log(r.id, r.wave, `${row.device}: unhealthy: ${problem}`);
          row.state = 'failed';
        }
      }
    }
    const verdict = waveVerdict(rows.map((x) => x.state), r.strategy, r.wave);
    if (verdict.kind === 'abort') return this.startAbort(r, verdict.reason, r.strategy.rollback_on_abort);
    if (verdict.kind === 'wait') return;
    await this.d.store.log(r.id, r.wave, `wave ${r.wave} passed its gate`);
    if (r.wave + 1 >= r.waves) {
      await this.d.store.setState(r.id, 'completed');
      await this.d.store.log(r.id, r.wave, 'completed');
      return;
    }
    await this.startWave(r, r.wave + 1);
    await this.pass(r.id);
  }

  /** Logs a waiting note once per rollout and wave, not on every pass. */
  private async noteOnce(r: Rollout, message: string): Promise<void> {
    const log = await this.d.store.logOf(r.id);
    if (!log.some((l) => l.wave === r.wave && l.message.startsWith(`wave ${r.wave}: waiting for`))) await this.d.store.log(r.id, r.wave, message);
  }

  private async rollBack(r: Rollout, now: number): Promise<void> {
    const rows = await this.d.store.devices(r.id);
    for (const row of rows) {
      const dev = await this.d.registry.get(row.device);
      if (row.state === 'active' || (row.state === 'failed' && idOf(dev) === `${r.name}@${r.version}`)) {
        await this.d.store.setDevice(r.id, row.device, { state: 'rolling_back', sent_at: null, sent_boot: null });
        row.state = 'rolling_back';
        row.sent_at = null;
      }
      if (row.state !== 'rolling_back') continue;
      if (idOf(dev) !== `${r.name}@${r.version}` && dev?.online) {
        await this.d.store.setDevice(r.id, row.device, { state: 'rolled_back', done_at: now });
        await this.d.store.log(r.id, row.wave, `${row.device}: back on ${idOf(dev) ?? 'its configured model'}`);
      } else if (this.mustSend(row, dev)) {
        await this.d.commands.rollback(row.device, `rollout ${r.id} aborted: ${r.reason ?? ''}`);
        await this.d.store.setDevice(r.id, row.device, { sent_at: now, sent_boot: this.boot });
        await this.d.store.log(r.id, row.wave, `${row.device}: rollback sent`);
      }
    }
    const open = (await this.d.store.devices(r.id)).some((x) => x.state === 'deploying' || x.state === 'active' || x.state === 'rolling_back');
    if (!open) {
      await this.d.store.setState(r.id, 'aborted');
      await this.d.store.log(r.id, r.wave, 'aborted; rollback finished');
    }
  }

  /** Everything about one rollout, for `fleet rollout show` and the dashboard. */
  async show(id: string): Promise<{ rollout: Rollout; devices: RolloutDevice[]; log: { at: number; wave: number | null; message: string }[] }> {
    const rollout = await this.d.store.get(id);
    if (!rollout) throw new ReasondError('invalid_request', `no rollout ${JSON.stringify(id)}`);
    return { rollout, devices: await this.d.store.devices(id), log: await this.d.store.logOf(id) };
  }
}

export type { DeviceState };
