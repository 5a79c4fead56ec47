/**
 * The agent's telemetry part (#5): reads the sensors on a schedule, runs the
 * thermal guard, publishes retained metrics and state-change events, keeps the
 * samples and task figures in SQLite with rollups, and feeds Prometheus.
 * Everything it touches is handed in (sensors, scheduler, clock, publish, store),
 * so a test drives it with a fixture tree and a manual clock.
 */
import type { HomeAssistantSettings } from './export/settings.js';
import { discoveryMessages } from './export/home-assistant.js';
import type { PrometheusExporter } from './export/prometheus.js';
import { EnergyMeter } from './metrics/energy.js';
import { MemoryPressure, type MemoryEvent } from './metrics/memory-pressure.js';
import { buildMetricsPayload, type HeapUsage, type MetricsPayload } from './metrics/payload.js';
import { Throughput, type TaskSample } from './metrics/throughput.js';
import { cronEvery, type Scheduler } from '../core/scheduler.js';
import { hottestZone, type Readings, type Sensors, type ThrottleFlags } from './sensors/index.js';
import type { MetricsStore } from './store/metrics-store.js';
import { ThermalGuard, type GuardLimits, type ThermalEvent, type ThermalState } from './thermal/guard.js';
import { policyFor, thermalThrottled, type PacePolicy, type PolicySettings } from './thermal/policy.js';

export type Publish = (topic: string, payload: unknown, opts: { retain: boolean }) => Promise<void>;

export interface TelemetrySettings {
  base_topic: string;
  device_id: string;
  agent_version: string;
  metrics_interval_s: number;
  thermal_interval_s: number;
  limits: GuardLimits;
  policy: PolicySettings;
  home_assistant?: HomeAssistantSettings;
}

export interface TelemetryDeps {
  sensors: Sensors;
  scheduler: Scheduler;
  now: () => number;
  publish: Publish;
  store?: MetricsStore;
  prometheus?: PrometheusExporter;
  heap?: () => HeapUsage;
  queueDepth?: () => number;
  /** Tasks running now and the most that run at once. */
  batch?: () => { running: number; max: number } | undefined;
  model?: () => { name: string; version?: string; dtype?: string } | undefined;
  log?: (message: string) => void;
}

/** What the task runner reports when a task was answered. */
/** How a model is named in the task samples. */
export const modelKey = (m: { name: string; version?: string }): string => (m.version ? `${m.name}@${m.version}` : m.name);

export interface AnsweredTask {
  status: 'ok' | string;
  started_at: number;
  queue_ms?: number;
  timing?: { first_token_ms?: number; total_ms?: number; decode_tokens_per_s?: number; prefill_tokens_per_s?: number };
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  /** name@version of the model that answered. */
  model?: string;
}

/** The firmware's own flags changed (Raspberry Pi): under-voltage counts here even though the guard ignores it. */
export interface BoardThrottlingEvent {
  type: 'board_throttling';
  at: number;
  raw: string;
  now: ThrottleFlags;
  since_boot: ThrottleFlags;
}

export type TelemetryEvent = ThermalEvent | MemoryEvent | BoardThrottlingEvent;

export class Telemetry {
  private readonly guard: ThermalGuard;
  private readonly memory = new MemoryPressure();
  private readonly energy = new EnergyMeter();
  private readonly throughput = new Throughput();
  private cancels: (() => void)[] = [];
  private readonly listeners: ((policy: PacePolicy, event: ThermalEvent) => void)[] = [];
  private startedAt = 0;
  private lastSampleEnergy: number | undefined;
  private latest: Readings | undefined;
  /** The flags "now" at the last check, as a bit string; undefined before the first. */
  private lastFlags: string | undefined;

  constructor(
    private readonly settings: TelemetrySettings,
    private readonly deps: TelemetryDeps,
  ) {
    this.guard = new ThermalGuard(settings.limits);
  }

  private topic(leaf: string): string {
    return `${this.settings.base_topic}/${this.settings.device_id}/${leaf}`;
  }

  async start(): Promise<void> {
    const { scheduler } = this.deps;
    this.startedAt = this.deps.now();
    await this.deps.sensors.start();
    await this.checkThermal();
    await this.publishDiscovery();
    const every = (s: number) => {
      const expression = cronEvery(s);
      // the config check (telemetrySettings) reports this with the key's name first
      if (!expression) throw new Error(`no cron schedule runs every ${s} s`);
      return expression;
    };
    const job = (name: string, fn: () => Promise<void>) => async () => {
      // a failing sensor or a closed store must not stop the schedule
      try {
        await fn();
      } catch (e) {
        this.deps.log?.(`telemetry ${name}: ${(e as Error).message}`);
      }
    };
    this.cancels = [
      scheduler.schedule(every(this.settings.thermal_interval_s), 'thermal', job('thermal', () => this.checkThermal())),
      scheduler.schedule(every(this.settings.metrics_interval_s), 'metrics', job('metrics', () => this.publishMetrics())),
      // second 5 of each minute and minute 1 of each hour: after the bucket they fold has closed
      scheduler.schedule('5 * * * * *', 'rollup-minutes', job('rollup', async () => this.deps.store?.rollupMinutes(this.deps.now()))),
      scheduler.schedule('10 1 * * * *', 'rollup-hours', job('rollup', async () => {
        await this.deps.store?.rollupHours(this.deps.now());
        await this.deps.store?.prune(this.deps.now());
      })),
    ];
    await this.publishMetrics();
  }

  async stop(): Promise<void> {
    for (const cancel of this.cancels) cancel();
    this.cancels = [];
  }

  get state(): ThermalState {
    return this.guard.state;
  }

  get policy(): PacePolicy {
    return policyFor(this.guard.state, this.settings.policy);
  }

  /** Called on every guard transition, for the runner to change its pace. */
  onPolicy(listener: (policy: PacePolicy, event: ThermalEvent) => void): void {
    this.listeners.push(listener);
  }

  /** The intake's check: throws `thermal_throttled` (with retry_after_ms) while the guard is hard. */
  admit(): void {
    const policy = this.policy;
    if (policy.accept) return;
    throw thermalThrottled(policy, this.guard.last?.temp_c);
  }

  async recordRejection(code: string): Promise<void> {
    const at = this.deps.now();
    this.throughput.recordRejection(at, code);
    this.deps.prometheus?.recordRejection(code);
    await this.deps.store?.addTask({ at, kind: 'rejected', status: code });
  }

  async recordTask(task: AnsweredTask): Promise<void> {
    const at = this.deps.now();
    const e0 = this.energy.energyAt(task.started_at);
    const e1 = this.energy.energyAt(at);
    const tokens =
      task.usage && (task.usage.prompt_tokens ?? 0) + (task.usage.completion_tokens ?? 0);
    const sample: TaskSample = { at, status: task.status };
    const t = task.timing ?? {};
    if (task.queue_ms !== undefined) sample.queue_ms = task.queue_ms;
    if (t.first_token_ms !== undefined) sample.first_token_ms = t.first_token_ms;
    if (t.total_ms !== undefined) sample.total_ms = t.total_ms;
    if (t.decode_tokens_per_s !== undefined) sample.decode_tokens_per_s = t.decode_tokens_per_s;
    if (t.prefill_tokens_per_s !== undefined) sample.prefill_tokens_per_s = t.prefill_tokens_per_s;
    if (tokens !== undefined) sample.tokens = tokens;
    if (task.model !== undefined) sample.model = task.model;
    if (e0 !== undefined && e1 !== undefined) sample.joules = e1 - e0;
    this.throughput.recordTask(sample);
    this.deps.prometheus?.recordTask(sample);
    await this.deps.store?.addTask({
      at,
      kind: 'answered',
      status: task.status,
      queue_ms: sample.queue_ms,
      first_token_ms: sample.first_token_ms,
      total_ms: sample.total_ms,
      decode_tps: sample.decode_tokens_per_s,
      prefill_tps: sample.prefill_tokens_per_s,
      tokens: sample.tokens,
      joules: sample.joules,
    });
  }

  /** Reads the sensors, feeds energy, the guard and memory pressure, and publishes any transition. */
  async checkThermal(): Promise<void> {
    const at = this.deps.now();
    const r = await this.deps.sensors.read();
    this.latest = r;
    if (r.board_power) this.energy.sample(at, r.board_power.watts);
    const hottest = hottestZone(r);
    const event = this.guard.update({
      at,
      ...(hottest ? { temp_c: hottest.temp_c, zone: hottest.type } : {}),
      ...(r.throttling ? { board_flags: r.throttling.now } : {}),
    });
    if (event) {
      const policy = this.policy;
      this.deps.log?.(`thermal guard ${event.from} -> ${event.to} (${event.reason}, ${event.temp_c ?? '?'} °C)`);
      for (const l of this.listeners) l(policy, event);
      await this.publishEvent(event, { policy });
    }
    if (r.throttling) {
      const t = r.throttling;
      const flags = JSON.stringify(t.now);
      // the first reading is news only when something is already wrong
      const news = this.lastFlags === undefined ? Object.values(t.now).some(Boolean) : flags !== this.lastFlags;
      this.lastFlags = flags;
      if (news) await this.publishEvent({ type: 'board_throttling', at, raw: t.raw, now: t.now, since_boot: t.since_boot });
    }
    const mem = this.memory.update(at, r.memory.available_bytes, r.memory.total_bytes);
    if (mem) await this.publishEvent(mem);
  }

  private async publishEvent(event: TelemetryEvent, extra: Record<string, unknown> = {}): Promise<void> {
    const body = { ...event, ...extra, device: this.settings.device_id, at: new Date(event.at).toISOString() };
    await this.deps.publish(this.topic('events'), body, { retain: false });
  }

  /** Builds the metrics payload from fresh readings. */
  async snapshot(): Promise<MetricsPayload> {
    const at = this.deps.now();
    const r = await this.deps.sensors.read();
    this.latest = r;
    if (r.board_power) this.energy.sample(at, r.board_power.watts);
    const heap = this.deps.heap?.() ?? process.memoryUsage();
    const model = this.deps.model?.();
    const queue = this.deps.queueDepth?.();
    const batch = this.deps.batch?.();
    return buildMetricsPayload({
      at,
      device: this.settings.device_id,
      agent_version: this.settings.agent_version,
      uptime_s: (at - this.startedAt) / 1000,
      readings: r,
      // the figures of the model serving now: tasks of the version before a switch are not its evidence
      throughput: this.throughput.report(at, model && modelKey(model)),
      heap,
      guard: this.guard.state,
      memory_state: this.memory.state,
      ...(model ? { model } : {}),
      ...(queue === undefined ? {} : { queue_depth: queue }),
      ...(batch === undefined ? {} : { batch }),
      ...(this.energy.hasSamples ? { energy_j: this.energy.energyAt(at)! } : {}),
    });
  }

  async publishMetrics(): Promise<void> {
    const p = await this.snapshot();
    const at = Date.parse(p.at);
    this.deps.prometheus?.update(p);
    await this.deps.publish(this.topic('metrics'), p, { retain: true });
    const energy = p.power?.energy_j;
    const delta = energy === undefined ? undefined : energy - (this.lastSampleEnergy ?? 0);
    this.lastSampleEnergy = energy;
    const available = p.memory.system_available_bytes;
    await this.deps.store?.addSample({
      at,
      guard: p.thermal.guard,
      ...(p.thermal.hottest_c === undefined ? {} : { hottest_c: p.thermal.hottest_c }),
      ...(p.power?.board_w === undefined ? {} : { power_w: p.power.board_w }),
      ...(delta === undefined ? {} : { energy_j: delta }),
      rss_bytes: p.memory.rss_bytes as number,
      ...(typeof available === 'number' ? { mem_available: available } : {}),
      ...(p.throughput.decode_tokens_per_s ? { decode_tps: p.throughput.decode_tokens_per_s.p50 } : {}),
    });
  }

  private async publishDiscovery(): Promise<void> {
    const ha = this.settings.home_assistant;
    if (!ha?.enabled) return;
    const r = this.latest;
    for (const m of discoveryMessages({
      prefix: ha.prefix,
      base: this.settings.base_topic,
      device: this.settings.device_id,
      agent_version: this.settings.agent_version,
      has_power: !!r?.board_power,
      ...(r?.model ? { board_model: r.model } : {}),
      ...(ha.availability_template ? { availability_template: ha.availability_template } : {}),
    }))
      await this.deps.publish(m.topic, m.payload, { retain: true });
  }
}
