/**
 * Wire messages for tests that play an agent, typed by src/protocol (#19): a fixture
 * with the wrong shape does not compile, as `thermal.guard: {state}` once did not
 * fail and hid the controller's throttled bug.
 */
import type { MetricsMessage, ModelUpdateEvent, OfflineStatus, OnlineStatus, ThermalState } from '../../src/protocol/index.js';

export interface MetricsFixture {
  device?: string;
  /** decode tokens/s (p50 = p95 = p99) */
  tps?: number;
  temp?: number;
  tasks?: number;
  errors?: Record<string, number>;
  latency_ms?: number;
  queue_depth?: number;
  rss_bytes?: number;
  version?: string;
  guard?: ThermalState;
}

const pct = (v: number) => ({ p50: v, p95: v, p99: v });

export function metricsMessage(f: MetricsFixture = {}): MetricsMessage {
  const temp = f.temp ?? 50;
  return {
    device: f.device ?? 'pi-01', at: new Date(0).toISOString(), agent_version: '0.1.0', uptime_s: 10,
    model: { name: 'tiny', version: f.version ?? '1.0.0', dtype: 'q8' },
    board: { kind: 'raspberry-pi' },
    throughput: {
      window_s: 300, tasks: f.tasks ?? 4, tasks_per_min: 1, errors_by_code: f.errors ?? {}, rejections_by_code: {}, rejections_total: {},
      ...(f.tps === undefined ? {} : { decode_tokens_per_s: pct(f.tps) }), latency_ms: pct(f.latency_ms ?? 800), queue_depth: f.queue_depth ?? 1,
    },
    memory: { rss_bytes: f.rss_bytes ?? 1000, heap_used_bytes: 1, heap_total_bytes: 1, native_bytes: 1, external_bytes: 1, state: 'normal' },
    thermal: { zones: { cpu: temp }, guard: f.guard ?? 'normal', hottest_c: temp, hottest_zone: 'cpu' },
    cpu: {},
  };
}

export interface StatusFixture {
  device: string;
  pool?: string;
  /** the model's package version */
  version?: string;
  started_at?: number;
  agent_version?: string;
}

/** A birth message as the agent publishes it (src/agent/status.ts). */
export function onlineStatus(f: StatusFixture): OnlineStatus {
  return {
    state: 'online', device: f.device, pool: f.pool ?? 'p', agent_version: f.agent_version ?? '0.1.0',
    model: { name: 'tiny', version: f.version ?? '1.0.0', dtype: 'q8', file: 'onnx/model_quantized.onnx', sha256: 'ab'.repeat(32) },
    hardware: { arch: 'arm64', platform: 'linux', kernel: '6.6.31', cpu_model: 'Cortex-A76', cpus: 4, memory_bytes: 8 * 2 ** 30 },
    capabilities: { context_length: 512, max_new_tokens_limit: 512, reasoning: true, streaming: true, mqtt_version: 5, execution_provider: 'cpu' },
    started_at: f.started_at ?? 1, ts: f.started_at ?? 1,
  };
}

/** The last will (`connection lost`) or a clean stop's status. */
export const offlineStatus = (device: string, reason: OfflineStatus['reason'] = 'connection lost'): OfflineStatus => ({ state: 'offline', device, agent_version: '0.1.0', reason });

/** A model_update event (src/update). */
export function modelUpdate(f: Omit<ModelUpdateEvent, 'type' | 'ts' | 'name'> & { name?: string; ts?: number }): ModelUpdateEvent {
  return { type: 'model_update', name: 'tiny', ts: 1, ...f };
}
