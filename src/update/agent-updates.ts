/**
 * Builds the update path for one agent from its config (issue 6): the
 * version store, trusted keys, the engine slot the agent runs tasks
 * on, and the Updater. The agent sees only AgentUpdates.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestHandler } from '../mqtt/index.js';
import { EngineSlot, parseDtype, readModelFolder, type ModelInfo, type TaskEngine } from '../engine/index.js';
import { agentVersion } from '../core/paths.js';
import type { Clock } from '../core/clock.js';
import { modelActions } from './admin-actions.js';
import { freeSpace, type FreeSpaceReader } from './disk.js';
import type { Fetch } from './download.js';
import type { UpdateEvent } from './events.js';
import { MANIFEST_FILE } from '../package/manifest.js';
import { probePackage, type Prober } from './probe.js';
import { readTrustedKeys } from '../package/trusted-keys.js';
import type { UpdateConfig } from './config-keys.js';
import { VersionStore } from './store.js';
import { Updater } from './updater.js';

export interface AgentUpdates {
  readonly engine: TaskEngine;
  readonly updater: Updater;
  handlers(): Record<string, RequestHandler>;
  start(): Promise<void>;
  stop(): Promise<void>;
  taskEnded(code?: string): void;
}

export interface UpdateDeps {
  /** Update's own keys, and the agent's model, weights, threads and data folder. */
  config: UpdateConfig & { model: string; dtype: string; threads: number; data_dir: string };
  /** Makes the engine for a model folder (the real Engine, or a test's). */
  makeEngine: (dir: string, dtype?: string) => TaskEngine;
  clock: Clock;
  log: (line: string) => void;
  emit: (e: UpdateEvent) => void;
  /** The serving model changed (the agent re-publishes its status). */
  switched: (info: ModelInfo) => void;
  fetch?: Fetch;
  freeSpace?: FreeSpaceReader;
  probe?: Prober;
  bootId?: string;
}

/** A package's own dtype, so the agent loads the weights file the probe checked. */
function packageDtype(dir: string): string | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  const dtype = JSON.parse(readFileSync(path, 'utf8')).dtype;
  return typeof dtype === 'string' && dtype !== 'genai' ? parseDtype(dtype) : undefined;
}

function baseIdentity(dir: string): { name?: string; version?: string } {
  try {
    const spec = readModelFolder(dir);
    return { name: spec.name, version: spec.version };
  } catch {
    return {}; // the engine reports an unreadable folder when it loads it
  }
}

export function buildUpdates(d: UpdateDeps): AgentUpdates {
  const c = d.config;
  const store = new VersionStore(c.models_dir || join(c.data_dir, 'models'));
  const trusted = readTrustedKeys(c.trusted_keys);
  let updater: Updater | undefined;
  const engine = new EngineSlot(
    (dir) => d.makeEngine(dir, dir === c.model ? c.dtype || undefined : packageDtype(dir)),
    () => updater!.bootModel(),
  );
  updater = new Updater({
    store, trusted, agentVersion,
    baseModel: { dir: c.model, ...baseIdentity(c.model) },
    keepVersions: c.keep_versions,
    diskReserveBytes: c.disk_reserve_mb * 1024 * 1024,
    probeTimeoutMs: c.probe_timeout_ms,
    threads: c.threads,
    crashLoopBoots: c.crash_loop_boots,
    bootId: d.bootId,
    stableAfterMs: c.stable_after_ms,
    rollbackWindowMs: c.rollback_window_ms,
    rollbackMinTasks: c.rollback_min_tasks,
    rollbackErrorPercent: c.rollback_error_percent,
    fetch: d.fetch ?? fetch,
    freeSpace: d.freeSpace ?? freeSpace,
    probe: d.probe ?? probePackage,
    clock: d.clock,
    emit: d.emit,
    load: async (dir) => {
      const next = await engine.load(dir);
      return () => {
        engine.switch(next);
        d.switched(next.info);
      };
    },
    log: d.log,
  });
  const u = updater;
  return {
    engine,
    updater: u,
    handlers: () => modelActions(u),
    start: () => u.start(),
    stop: () => u.stop(),
    taskEnded: (code) => u.taskEnded(code),
  };
}
