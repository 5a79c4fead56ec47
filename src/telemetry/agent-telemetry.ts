/**
 * Telemetry as one part of the agent (#5): what the daemon starts and stops, and
 * the few calls its intake and runner make (admit, pace, finished, failed,
 * rejected). Retained messages go to the broker through RetainedPublisher; events
 * go through the agent's outbox so a thermal event during an outage is not lost.
 */
import type { GenerateRequest, GenerationResult } from '../engine/types.js';
import { describeError } from '../core/errors.js';
import { agentVersion } from '../core/paths.js';
import { MetricsHttpServer } from './export/metrics-http.js';
import { PrometheusExporter } from './export/prometheus.js';
import { RetainedPublisher, type BrokerLink } from './retained.js';
import { cronScheduler } from '../core/cron.js';
import type { Scheduler } from '../core/scheduler.js';
import { Sensors, type CommandRunner } from './sensors/index.js';
import { modelKey, Telemetry } from './service.js';
import { MetricsStore } from './store/metrics-store.js';
import type { SqlDb } from './store/sql.js';
import type { ResolvedTelemetry } from './config.js';
import { pacedRequest, policyFor, type PacePolicy } from './thermal/policy.js';

export interface EventSink {
  (m: { topic: string; payload: string; created_at: number }): Promise<void>;
}

export interface AgentTelemetryDeps {
  settings: ResolvedTelemetry;
  base_topic: string;
  device_id: string;
  link: BrokerLink;
  db: SqlDb;
  now: () => number;
  log: (line: string) => void;
  scheduler?: Scheduler;
  run?: CommandRunner;
  model?: () => { name: string; version?: string; dtype?: string } | undefined;
  queueDepth?: () => number;
  batch?: () => { running: number; max: number } | undefined;
}

export interface Pace {
  policy: PacePolicy;
  pause_ms: number;
  request(req: GenerateRequest): GenerateRequest;
  /** What the task's result says about how the guard slowed it, once request() ran. */
  note(): Record<string, unknown> | undefined;
}

/** What a result says when the guard slowed its task ("and say so", #5). */
export interface PaceNote {
  state: 'soft';
  pause_ms: number;
  step_pause_ms: number;
  reasoning_budget_tokens?: number;
}

export class AgentTelemetry {
  private telemetry: Telemetry | undefined;
  private http: MetricsHttpServer | undefined;
  private readonly prometheus = new PrometheusExporter();
  private readonly paced = new Map<string, PaceNote>();

  constructor(private readonly d: AgentTelemetryDeps) {}

  async start(events: EventSink): Promise<void> {
    const { settings: s, link, log } = this.d;
    const retained = new RetainedPublisher(link, log);
    retained.start();
    this.telemetry = new Telemetry(
      {
        base_topic: this.d.base_topic,
        device_id: this.d.device_id,
        agent_version: agentVersion,
        metrics_interval_s: s.metrics_interval_s,
        thermal_interval_s: s.thermal_interval_s,
        limits: s.limits,
        policy: s.policy,
        home_assistant: s.home_assistant,
      },
      {
        sensors: new Sensors({ root: s.sys_root, board: s.board, ...(this.d.run ? { run: this.d.run } : {}) }),
        scheduler: this.d.scheduler ?? cronScheduler(),
        now: this.d.now,
        publish: (topic, payload, { retain }) =>
          retain ? retained.publish(topic, JSON.stringify(payload)) : events({ topic, payload: JSON.stringify(payload), created_at: this.d.now() }),
        store: new MetricsStore(this.d.db),
        prometheus: this.prometheus,
        ...(this.d.model ? { model: this.d.model } : {}),
        ...(this.d.queueDepth ? { queueDepth: this.d.queueDepth } : {}),
        ...(this.d.batch ? { batch: this.d.batch } : {}),
        log,
      },
    );
    await this.telemetry.start();
    if (s.metrics_port > 0) {
      this.http = new MetricsHttpServer(this.prometheus, s.metrics_port, s.metrics_host);
      await this.http.start();
      log(`Prometheus metrics on http://${s.metrics_host}:${s.metrics_port}/metrics`);
    }
  }

  async stop(): Promise<void> {
    await this.http?.stop();
    await this.telemetry?.stop();
  }

  get telemetryPart(): Telemetry | undefined {
    return this.telemetry;
  }

  /** Throws thermal_throttled (with retry_after_ms) while the guard is hard. */
  admit(): void {
    this.telemetry?.admit();
  }

  /** Most tasks running at once under the thermal guard (soft: one); undefined = the agent's own max_batch. */
  maxConcurrency(): number | undefined {
    return this.telemetry?.policy.max_concurrency;
  }

  /** How task `id` runs: the pause before it and its (maybe smaller) reasoning budget; remembered for its result. */
  pace(id: string): Pace {
    const policy = this.telemetry?.policy ?? policyFor('normal');
    return {
      policy,
      pause_ms: policy.pause_ms,
      request: (req) => {
        const paced = pacedRequest(req, policy);
        if (policy.state === 'soft') {
          const budget = paced.reasoning?.budget_tokens;
          this.paced.set(id, { state: 'soft', pause_ms: policy.pause_ms, step_pause_ms: policy.step_pause_ms, ...(budget === undefined ? {} : { reasoning_budget_tokens: budget }) });
        }
        return paced;
      },
      note: () => {
        const note = this.paced.get(id);
        return note && { ...note };
      },
    };
  }

  /** Records an answered task (its result took its note from pace()). */
  finished(id: string, r: GenerationResult, startedAt: number, queueMs: number): void {
    this.paced.delete(id);
    this.record({
      status: 'ok',
      started_at: startedAt,
      queue_ms: queueMs,
      timing: r.timing,
      usage: { prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens },
      model: modelKey(r.model),
    });
  }

  failed(id: string, code: string, startedAt: number | undefined): void {
    this.paced.delete(id);
    // a failure is the evidence of the model serving when it ended
    const model = this.d.model?.();
    this.record({ status: code, started_at: startedAt ?? this.d.now(), ...(model ? { model: modelKey(model) } : {}) });
  }

  /** A scheduled job's run ended (issue 18): its Prometheus counter and, when numeric, its gauge. */
  jobResult(job: string, status: string, value?: number): void {
    this.prometheus.recordJob(job, status, value);
  }

  rejected(code: string): void {
    this.telemetry?.recordRejection(code).catch((e) => this.d.log(`telemetry: ${describeError(e)}`));
  }

  private record(task: Parameters<Telemetry['recordTask']>[0]): void {
    this.telemetry?.recordTask(task).catch((e) => this.d.log(`telemetry: ${describeError(e)}`));
  }
}
