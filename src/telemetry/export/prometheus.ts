/**
 * The Prometheus exposition: the one file that imports prom-client. Names follow
 * Prometheus conventions (base units, `_total` counters, `_info` with labels), so a
 * site's Grafana can use them as they are. Its own registry: nothing global.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsPayload } from '../metrics/payload.js';
import type { TaskSample } from '../metrics/throughput.js';

const STATES = ['normal', 'soft', 'hard'] as const;

export class PrometheusExporter {
  readonly registry = new Registry();
  private readonly tasks = new Counter({ name: 'reasond_tasks_total', help: 'Tasks answered, by status (ok or the error code).', labelNames: ['status'], registers: [this.registry] });
  private readonly rejections = new Counter({ name: 'reasond_rejections_total', help: 'Tasks turned away before they ran, by error code.', labelNames: ['code'], registers: [this.registry] });
  private readonly duration = new Histogram({
    name: 'reasond_task_duration_seconds',
    help: 'End-to-end time of answered tasks.',
    // reasoning answers on a Pi take seconds to minutes
    buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly ttft = new Histogram({ name: 'reasond_time_to_first_token_seconds', help: 'Time to the first generated token.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: [this.registry] });
  private readonly generated = new Counter({ name: 'reasond_tokens_total', help: 'Prompt and completion tokens of answered tasks.', registers: [this.registry] });
  private readonly decodeRate = new Gauge({ name: 'reasond_decode_tokens_per_second', help: 'Median decode speed over the sliding window.', registers: [this.registry] });
  private readonly tasksPerMinute = new Gauge({ name: 'reasond_tasks_per_minute', help: 'Tasks answered per minute over the sliding window.', registers: [this.registry] });
  private readonly queueDepth = new Gauge({ name: 'reasond_queue_depth', help: 'Tasks waiting to run.', registers: [this.registry] });
  private readonly running = new Gauge({ name: 'reasond_running_tasks', help: 'Tasks running now, sharing forward passes.', registers: [this.registry] });
  private readonly occupancy = new Gauge({ name: 'reasond_batch_occupancy', help: 'Running tasks as a fraction of max_batch (1 = every row of the batch taken).', registers: [this.registry] });
  private readonly temperature = new Gauge({ name: 'reasond_temperature_celsius', help: 'Thermal zone temperature.', labelNames: ['zone'], registers: [this.registry] });
  private readonly guard = new Gauge({ name: 'reasond_thermal_guard_state', help: '1 for the thermal guard state the agent is in.', labelNames: ['state'], registers: [this.registry] });
  private readonly power = new Gauge({ name: 'reasond_power_watts', help: 'Power rail reading.', labelNames: ['rail'], registers: [this.registry] });
  private readonly boardPower = new Gauge({ name: 'reasond_board_power_watts', help: 'The power energy is counted from: the input rail (Jetson) or the PMIC rails summed (Pi 5).', labelNames: ['source'], registers: [this.registry] });
  private readonly energy = new Gauge({ name: 'reasond_energy_joules', help: 'Energy on the input rail since the agent started.', registers: [this.registry] });
  private readonly memory = new Gauge({ name: 'reasond_memory_bytes', help: 'Memory by kind: rss, heap_used, native, system_available, swap_used.', labelNames: ['kind'], registers: [this.registry] });
  private readonly uptime = new Gauge({ name: 'reasond_uptime_seconds', help: 'Seconds since the agent started.', registers: [this.registry] });
  private readonly jobValue = new Gauge({ name: 'reasond_job_value', help: "A scheduled job's last numeric answer (issue 18).", labelNames: ['job'], registers: [this.registry] });
  private readonly jobRuns = new Counter({ name: 'reasond_job_runs_total', help: 'Scheduled job runs, by job and status (ok or error).', labelNames: ['job', 'status'], registers: [this.registry] });
  private readonly info = new Gauge({ name: 'reasond_info', help: 'Agent, model and board, as labels.', labelNames: ['agent_version', 'model', 'board'], registers: [this.registry] });

  get contentType(): string {
    return this.registry.contentType;
  }

  recordTask(s: TaskSample): void {
    this.tasks.inc({ status: s.status });
    if (s.status !== 'ok') return;
    if (s.total_ms !== undefined) this.duration.observe(s.total_ms / 1000);
    if (s.first_token_ms !== undefined) this.ttft.observe(s.first_token_ms / 1000);
    if (s.tokens !== undefined) this.generated.inc(s.tokens);
  }

  /** A job run ended: counted; its numeric answer becomes the job's gauge (a text answer leaves the gauge as it was). */
  recordJob(job: string, status: string, value?: number): void {
    this.jobRuns.inc({ job, status });
    if (value !== undefined) this.jobValue.set({ job }, value);
  }

  recordRejection(code: string): void {
    this.rejections.inc({ code });
  }

  /** Sets the gauges from the latest metrics payload; absent readings are left out, not zeroed. */
  update(p: MetricsPayload): void {
    this.tasksPerMinute.set(p.throughput.tasks_per_min);
    if (p.throughput.decode_tokens_per_s) this.decodeRate.set(p.throughput.decode_tokens_per_s.p50);
    else this.decodeRate.reset();
    if (p.throughput.queue_depth !== undefined) this.queueDepth.set(p.throughput.queue_depth);
    if (p.throughput.running_tasks !== undefined) this.running.set(p.throughput.running_tasks);
    if (p.throughput.running_tasks !== undefined && p.throughput.max_batch) this.occupancy.set(p.throughput.running_tasks / p.throughput.max_batch);
    this.temperature.reset();
    for (const [zone, c] of Object.entries(p.thermal.zones)) this.temperature.set({ zone }, c);
    for (const s of STATES) this.guard.set({ state: s }, p.thermal.guard === s ? 1 : 0);
    this.power.reset();
    for (const [rail, v] of Object.entries(p.power?.rails ?? {})) this.power.set({ rail }, v.power_w);
    this.boardPower.reset();
    if (p.power?.board_w !== undefined) this.boardPower.set({ source: p.power.source ?? '' }, p.power.board_w);
    if (p.power?.energy_j !== undefined) this.energy.set(p.power.energy_j);
    this.memory.reset();
    for (const kind of ['rss', 'heap_used', 'native', 'system_available', 'swap_used'] as const) {
      const v = p.memory[`${kind}_bytes`];
      if (typeof v === 'number') this.memory.set({ kind }, v);
    }
    this.uptime.set(p.uptime_s);
    this.info.reset();
    this.info.set({ agent_version: p.agent_version, model: p.model?.name ?? '', board: p.board.kind }, 1);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
