/**
 * The update path on a board (issue 6): deploy, activate, rollback, the
 * start-up crash-loop guard and the error-rate watch. Every state change
 * runs on one ExclusiveRunner; a deploy is planned (plan.ts) and each step
 * run from the executor table below. The desired deploy is written to disk
 * before the first step, so a restart finishes (or resumes) it.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, ReasondError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { FreeSpaceReader } from './disk.js';
import { bytesPresent, downloadFiles, fetchManifest, type Fetch } from './download.js';
import { isPackageError, PackageError, type RejectReason } from '../package/errors.js';
import { ErrorWatch } from './error-watch.js';
import type { UpdateEvent, UpdateState } from './events.js';
import { ExclusiveRunner } from '../core/exclusive-runner.js';
import { identity, MANIFEST_FILE, type Manifest } from '../package/manifest.js';
import { planDeploy, type StepName } from './plan.js';
import type { Prober } from './probe.js';
import type { TrustedKey } from '../package/signing.js';
import type { DeployRequest, VersionRef, VersionStore } from './store.js';
import type { BootModel } from '../engine/index.js';
import { checkFiles, checkInstalled, checkManifest } from '../package/verify.js';

export interface UpdaterOptions {
  store: VersionStore;
  trusted: TrustedKey[];
  agentVersion: string;
  /** The configured model folder: served when no version is active. */
  baseModel: { dir: string; name?: string; version?: string };
  keepVersions: number;
  diskReserveBytes: number;
  probeTimeoutMs: number;
  threads: number;
  crashLoopBoots: number;
  /** This boot of the machine (core/boot.ts): start-ups across a reboot or power cut are not a crash loop. */
  bootId?: string;
  stableAfterMs: number;
  rollbackWindowMs: number;
  rollbackMinTasks: number;
  rollbackErrorPercent: number;
  fetch: Fetch;
  freeSpace: FreeSpaceReader;
  probe: Prober;
  clock: Clock;
  emit: (e: UpdateEvent) => void;
  /** Loads a model beside the serving one; the returned function moves tasks onto it. */
  load: (dir: string) => Promise<() => void>;
  log: (line: string) => void;
}

interface Deploy {
  req: DeployRequest;
  manifest: Manifest;
  text: string;
}

export class Updater {
  readonly runner = new ExclusiveRunner();
  private readonly watch: ErrorWatch;
  private stableTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Settles when a deploy resumed by start() is active or rejected. */
  resumed: Promise<void> = Promise.resolve();

  constructor(private readonly o: UpdaterOptions) {
    this.watch = new ErrorWatch({
      clock: o.clock, windowMs: o.rollbackWindowMs, minTasks: o.rollbackMinTasks, maxErrorPercent: o.rollbackErrorPercent,
      onTrip: (reason) => void this.rollback(reason, true).catch((e) => o.log(`automatic rollback failed: ${describeError(e)}`)),
    });
  }

  /** The model EngineSlot loads at start: counts the boot and rolls back a crash-looping version. */
  async bootModel(): Promise<BootModel> {
    const s = this.o.store;
    await s.start();
    let active = await s.active();
    if (active && !s.isInstalled(active)) active = undefined; // a dangling link: serve the configured model
    if (active) {
      try {
        await checkInstalled(active.dir, this.o.trusted);
      } catch (e) {
        await this.fallBack(active, `its files no longer check out: ${describeError(e)}`);
        return this.bootModel();
      }
      // only a version that has not yet proved itself here is rolled back for crashing (Mender, RAUC)
      const boots = s.isCommitted(active) ? 0 : await s.countBoot(active, this.o.bootId);
      if (boots > this.o.crashLoopBoots) {
        await this.fallBack(active, `crash loop: the agent started ${boots - 1} times on ${identity(active)} without running ${this.o.stableAfterMs} ms`);
        return this.bootModel();
      }
      const failed = async (e: unknown) => {
        await this.fallBack(active!, `the engine could not load it at start-up: ${describeError(e)}`);
        return this.bootModel();
      };
      return { dir: active.dir, failed };
    }
    return { dir: this.o.baseModel.dir };
  }

  /** After the agent is up: resumes an unfinished deploy and starts the stability timer. */
  async start(): Promise<void> {
    this.armStable();
    const d = this.o.store.snapshot.desired;
    if (d) {
      this.o.log(`resuming the deploy of ${identity(d)}`);
      this.resumed = this.deploy(d).then((r) => r.done).catch((e) => this.o.log(`resumed deploy of ${identity(d)}: ${describeError(e)}`));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.stableTimer);
    this.watch.stop();
  }

  /** One task ended (code = its error code, if it failed): feeds the error-rate watch. */
  taskEnded(code?: string): void {
    this.watch.record(code);
  }

  /**
   * Fetches and checks the manifest (so a refusal is answered at once), then
   * queues the rest. `done` settles when the deploy is active or rejected.
   */
  async deploy(req: DeployRequest): Promise<{ name: string; version: string; steps: StepName[]; done: Promise<void> }> {
    const { manifest, text } = await fetchManifest(req.url, this.o.fetch).catch((e) => this.reject(req, e));
    const d: Deploy = { req, manifest, text };
    try {
      if (manifest.name !== req.name || manifest.version !== req.version) {
        throw new PackageError('manifest_invalid', `${req.url} holds ${identity(manifest)}, not the requested ${identity(req)}`);
      }
      await this.check(d);
    } catch (e) {
      return this.reject(req, e);
    }
    const steps = await this.plan(manifest);
    await this.o.store.setDesired(req);
    const done = this.runner.run(`deploy ${identity(manifest)}`, () => this.execute(d));
    return { name: manifest.name, version: manifest.version, steps, done };
  }

  activate(v: VersionRef): Promise<void> {
    return this.runner.run(`activate ${identity(v)}`, async () => {
      const s = this.o.store;
      if (!s.isInstalled(v)) throw new PackageError('not_installed', `${identity(v)} is not installed; installed: ${(await s.installed()).map(identity).join(', ') || 'none'}`);
      if (s.isBad(v)) throw new PackageError('marked_bad', `${identity(v)} was rolled back on this device and is marked bad`);
      await this.switchTo(v);
    });
  }

  /** Back to the previous version (or the configured model); `auto` marks the current one bad. */
  rollback(reason: string, auto = false): Promise<{ from: string | null; to: string | null }> {
    return this.runner.run('rollback', async () => {
      const active = await this.o.store.active();
      if (!active) throw new ReasondError('invalid_request', 'no installed version is active; the configured model is serving and there is nothing to roll back to');
      if (auto) await this.o.store.markBad(active);
      const prev = await this.o.store.previous();
      const commit = await this.o.load(prev ? this.o.store.versionDir(prev) : this.o.baseModel.dir);
      if (prev) await this.o.store.activate(prev);
      else await this.o.store.deactivate();
      commit();
      this.watch.stop();
      const to = prev ? identity(prev) : null;
      this.event('rolled_back', active, { reason, to });
      return { from: identity(active), to };
    });
  }

  async list(): Promise<Record<string, unknown>> {
    const s = this.o.store;
    const active = await s.active();
    return {
      active: active ? identity(active) : null,
      configured: { dir: this.o.baseModel.dir, name: this.o.baseModel.name ?? null, version: this.o.baseModel.version ?? null },
      installed: (await s.installed()).map(identity),
      bad: s.snapshot.bad,
      committed: s.snapshot.committed ?? [],
      desired: s.snapshot.desired ? identity(s.snapshot.desired) : null,
      running: this.runner.running ?? null,
    };
  }

  private async check(d: Deploy): Promise<void> {
    const s = this.o.store;
    const active = await s.active();
    // what the board serves, whatever its name: re-packing an old model under a new name is still a step back
    const serving = active ?? this.o.baseModel;
    checkManifest(d.manifest, { trusted: this.o.trusted, agentVersion: this.o.agentVersion, serving, allowDowngrade: d.req.allow_downgrade, bad: s.badSet });
    if (s.isInstalled(d.manifest)) return;
    const staging = s.stagingDir(d.manifest);
    const need = d.manifest.files.reduce((n, f) => n + f.size, 0) - (await bytesPresent(staging, d.manifest).catch(() => 0)) + this.o.diskReserveBytes;
    const free = await this.o.freeSpace(s.root);
    if (free < need) throw new PackageError('disk_full', `${identity(d.manifest)} needs ${need} bytes (with a ${this.o.diskReserveBytes}-byte reserve) in ${s.root}; ${free} are free`);
  }

  private async plan(m: Manifest): Promise<StepName[]> {
    const active = await this.o.store.active();
    return planDeploy({ installed: this.o.store.isInstalled(m), active: !!active && identity(active) === identity(m) });
  }

  private readonly steps: Record<StepName, (d: Deploy) => Promise<void>> = {
    download: async (d) => {
      const dir = this.o.store.stagingDir(d.manifest);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, MANIFEST_FILE), d.text);
      this.event('downloading', d.manifest, { percent: 0 });
      await downloadFiles({
        base: d.req.url, manifest: d.manifest, dir, fetch: this.o.fetch,
        onProgress: (p) => this.event('downloading', d.manifest, { percent: p.percent }),
      });
    },
    verify: async (d) => {
      this.event('verifying', d.manifest);
      const dir = this.o.store.stagingDir(d.manifest);
      try {
        await checkFiles(dir, d.manifest);
      } catch (e) {
        await rm(dir, { recursive: true, force: true }); // a bad file must be fetched again, not resumed
        throw e;
      }
    },
    probe: async (d) => {
      this.event('probing', d.manifest);
      const dir = this.o.store.stagingDir(d.manifest);
      try {
        await this.o.probe(dir, { threads: this.o.threads, timeoutMs: this.o.probeTimeoutMs });
      } catch (e) {
        await rm(dir, { recursive: true, force: true });
        throw e;
      }
    },
    install: (d) => this.o.store.install(d.manifest),
    switch: (d) => this.switchTo(d.manifest),
    prune: async () => {
      const removed = await this.o.store.prune(this.o.keepVersions);
      if (removed.length) this.o.log(`removed old model versions: ${removed.join(', ')}`);
    },
  };

  private async execute(d: Deploy): Promise<void> {
    try {
      await this.check(d); // again: another change may have run while this one waited
      for (const step of await this.plan(d.manifest)) await this.steps[step](d);
      await this.o.store.setDesired(undefined);
    } catch (e) {
      await this.o.store.setDesired(undefined).catch(() => {});
      this.reject(d.req, e, 'switch_failed');
    }
  }

  private async switchTo(v: VersionRef): Promise<void> {
    this.event('switching', v);
    const commit = await this.o.load(this.o.store.versionDir(v));
    await this.o.store.activate(v);
    commit();
    this.watch.watch(identity(v));
    this.armStable();
    this.event('active', v);
  }

  /** At start-up, off a version that cannot serve: mark it bad and activate the previous one (or none). */
  private async fallBack(v: VersionRef, reason: string): Promise<void> {
    const s = this.o.store;
    await s.markBad(v);
    await s.resetBoots(v);
    const prev = await s.previous();
    if (prev) await s.activate(prev);
    else await s.deactivate();
    if (s.snapshot.desired && identity(s.snapshot.desired) === identity(v)) await s.setDesired(undefined);
    this.o.log(`rolled back ${identity(v)}: ${reason}`);
    this.event('rolled_back', v, { reason, to: prev ? identity(prev) : null });
  }

  /** Once the agent has served stableAfterMs on a version, the version is committed on this board. */
  private armStable(): void {
    clearTimeout(this.stableTimer);
    this.stableTimer = setTimeout(() => {
      if (this.stopped) return;
      void this.o.store.active().then(async (a) => {
        if (!a || this.o.store.isCommitted(a)) return;
        await this.o.store.commit(a);
        this.o.log(`committed ${identity(a)}: it served ${this.o.stableAfterMs} ms; a crash loop no longer rolls it back`);
      }).catch((e) => this.o.log(`could not commit the active version: ${describeError(e)}`));
    }, this.o.stableAfterMs);
    this.stableTimer.unref();
  }

  private reject(v: VersionRef, e: unknown, otherwise: RejectReason = 'download_failed'): never {
    const err = isPackageError(e) ? e : new PackageError(otherwise, describeError(e));
    this.event('rejected', v, { reason: err.reason, message: err.message });
    throw err;
  }

  private event(state: UpdateState, v: VersionRef, extra: Partial<UpdateEvent> = {}): void {
    this.o.emit({ type: 'model_update', state, name: v.name, version: v.version, ...extra, ts: this.o.clock.now() });
  }
}
