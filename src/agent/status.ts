/**
 * The retained status message: the birth (online) and, as the last will and
 * on a clean stop, offline. Fleet tools read capabilities from here.
 */
import { arch, cpus, platform, release, totalmem } from 'node:os';
import type { Clock } from '../core/clock.js';
import { ReasondError } from '../core/errors.js';
import { sha256File, sha256FileIndexed } from '../core/hash.js';
import type { ModelInfo } from '../engine/index.js';
import type { MqttConnection } from '../mqtt/index.js';
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
  /** The public key that signs this device's answers (issue 16). */
  answerKey?: string;
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
    ...(c.answerKey ? { answer_key: c.answerKey } : {}),
    ts: now,
  };
}

export function offlineStatus(device: string, reason: OfflineStatus['reason'], now?: number): OfflineStatus {
  return { state: 'offline', device, agent_version: agentVersion, reason, ...(now !== undefined ? { ts: now } : {}) };
}

/**
 * The agent's retained status: built once the model is loaded, re-published when
 * the broker connection comes back or the update path switches models (issue 6).
 */
export class StatusPublisher {
  private context?: StatusContext;

  constructor(
    private readonly d: {
      device: string; pool: string; maxNewTokensLimit: number; topic: string; clock: Clock;
      connection: Pick<MqttConnection, 'connected' | 'publish' | 'protocolVersion'>;
      /** Where the model file's digest is remembered between starts (core/hash.ts); absent: hashed each time. */
      hashIndex?: string;
      answerKey?: string;
    },
  ) {}

  private digest(file: string): Promise<string> {
    return this.d.hashIndex ? sha256FileIndexed(file, this.d.hashIndex) : sha256File(file);
  }

  /** The model is loaded: from now on the status can be published. */
  async loaded(model: ModelInfo): Promise<void> {
    const d = this.d;
    this.context = {
      device: d.device, pool: d.pool, model, modelSha256: await this.digest(model.file),
      maxNewTokensLimit: d.maxNewTokensLimit, mqttVersion: d.connection.protocolVersion, startedAt: d.clock.now(), answerKey: d.answerKey,
    };
  }

  online(): OnlineStatus {
    if (!this.context) throw new ReasondError('model_unavailable', 'the agent has not started');
    return onlineStatus(this.context, this.d.clock.now());
  }

  /** The birth message, on each connect (the protocol version may differ after a fallback to 3.1.1). */
  async publishOnline(): Promise<void> {
    if (this.context) this.context.mqttVersion = this.d.connection.protocolVersion;
    await this.d.connection.publish(this.d.topic, JSON.stringify(this.online()), { qos: 1, retain: true });
  }

  publishOffline(): Promise<void> {
    return this.d.connection.publish(this.d.topic, JSON.stringify(offlineStatus(this.d.device, 'stopped', this.d.clock.now())), { qos: 1, retain: true });
  }

  /** The engine switched models between tasks: the retained status names the new one. */
  async modelSwitched(model: ModelInfo): Promise<void> {
    if (!this.context) return;
    this.context = { ...this.context, model, modelSha256: await this.digest(model.file) };
    if (this.d.connection.connected) await this.publishOnline();
  }
}
