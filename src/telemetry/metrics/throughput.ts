/**
 * Throughput over a sliding window: what each finished task and each rejection
 * tells, folded into the figures the metrics topic reports (#5).
 */
import { percentiles, SlidingWindow, type Percentiles } from './window.js';

/** What the runner knows about a task that was answered. */
export interface TaskSample {
  /** Epoch ms when the answer went out. */
  at: number;
  /** ok, or the error code the task was answered with. */
  status: 'ok' | string;
  queue_ms?: number;
  first_token_ms?: number;
  total_ms?: number;
  prefill_tokens_per_s?: number;
  decode_tokens_per_s?: number;
  /** Prompt + completion tokens, for joules per token. */
  tokens?: number;
  joules?: number;
  /** The model version that answered (name@version): a switch starts the figures afresh (issue 16). */
  model?: string;
}

export interface ThroughputReport {
  window_s: number;
  tasks: number;
  tasks_per_min: number;
  errors_by_code: Record<string, number>;
  rejections_by_code: Record<string, number>;
  rejections_total: Record<string, number>;
  decode_tokens_per_s?: Percentiles;
  prefill_tokens_per_s?: Percentiles;
  first_token_ms?: Percentiles;
  latency_ms?: Percentiles;
  joules_per_task?: number;
  joules_per_token?: number;
}

const pick = (samples: TaskSample[], key: keyof TaskSample) =>
  samples.map((s) => s[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

const count = (codes: string[]) => {
  const out: Record<string, number> = {};
  for (const c of codes) out[c] = (out[c] ?? 0) + 1;
  return out;
};

export class Throughput {
  private readonly tasks: SlidingWindow<TaskSample>;
  private readonly rejections: SlidingWindow<string>;
  private readonly totals: Record<string, number> = {};

  constructor(readonly windowMs = 5 * 60_000) {
    this.tasks = new SlidingWindow(windowMs);
    this.rejections = new SlidingWindow(windowMs);
  }

  recordTask(sample: TaskSample): void {
    this.tasks.push(sample.at, sample);
  }

  /** A task turned away before it ran (busy, thermal_throttled, invalid_request...). */
  recordRejection(at: number, code: string): void {
    this.rejections.push(at, code);
    this.totals[code] = (this.totals[code] ?? 0) + 1;
  }

  /** The window's figures; with `model`, only the tasks that model answered (the health gate compares versions). */
  report(now: number, model?: string): ThroughputReport {
    const all = this.tasks.values(now).filter((s) => model === undefined || s.model === undefined || s.model === model);
    const ok = all.filter((s) => s.status === 'ok');
    const report: ThroughputReport = {
      window_s: this.windowMs / 1000,
      tasks: ok.length,
      tasks_per_min: ok.length / (this.windowMs / 60_000),
      errors_by_code: count(all.filter((s) => s.status !== 'ok').map((s) => s.status)),
      rejections_by_code: count(this.rejections.values(now)),
      rejections_total: { ...this.totals },
    };
    const put = (key: keyof ThroughputReport, field: keyof TaskSample) => {
      const p = percentiles(pick(ok, field));
      if (p) (report as unknown as Record<string, unknown>)[key] = p;
    };
    put('decode_tokens_per_s', 'decode_tokens_per_s');
    put('prefill_tokens_per_s', 'prefill_tokens_per_s');
    put('first_token_ms', 'first_token_ms');
    put('latency_ms', 'total_ms');
    const metered = ok.filter((s) => s.joules !== undefined);
    if (metered.length > 0) {
      const joules = metered.reduce((a, s) => a + s.joules!, 0);
      const tokens = metered.reduce((a, s) => a + (s.tokens ?? 0), 0);
      report.joules_per_task = joules / metered.length;
      if (tokens > 0) report.joules_per_token = joules / tokens;
    }
    return report;
  }
}
