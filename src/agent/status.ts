/**
 * The retained status message: the birth (online) and, as the last will and
 * on a clean stop, offline. Fleet tools read capabilities from here.
 */
import { arch, cpus, platform, release, totalmem } from 'node:os';
import type { ModelInfo } from '../engine/index.js';
import type { OfflineStatus, OnlineStatus } from '../protocol/index.js';
import { agentVersion } from '../core/paths.js';

export interface StatusContext {
  device: string;
  pool: string;
  model: ModelInfo;
  modelSha256: string;
  maxNewTokensLimit: number;
  mqttVersion: number;
  startedAt: number;
}

export function onlineStatus(c: StatusContext, now: number): OnlineStatus {
  const cpu = cpus();
  return {
    state: 'online',
    device: c.device,
    pool: c.pool,
    agent_version: agentVersion,
    model: { name: c.model.name, version: c.model.version ?? null, dtype: c.model.dtype, file: c.model.file, sha256: c.modelSha256 },
    hardware: { arch: arch(), platform: platform(), kernel: release(), cpu_model: cpu[0]?.model ?? 'unknown', cpus: cpu.length, memory_bytes: totalmem() },
    capabilities: {
      context_length: c.model.context_length,
      max_new_tokens_limit: Math.min(c.maxNewTokensLimit, c.model.context_length),
      reasoning: c.model.supports_reasoning,
      streaming: true,
      mqtt_version: c.mqttVersion,
      execution_provider: c.model.execution_provider,
    },
    started_at: c.startedAt,
    ts: now,
  };
}

export function offlineStatus(device: string, reason: OfflineStatus['reason'], now?: number): OfflineStatus {
  return { state: 'offline', device, agent_version: agentVersion, reason, ...(now !== undefined ? { ts: now } : {}) };
}
