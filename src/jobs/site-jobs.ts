/**
 * Scheduled reasoning jobs over site data (issue 18). Each enabled job runs on its
 * cron schedule in its time zone: its input is read (a readings window, SQL, a file),
 * cut to fit by the stated rule (context.ts), rendered through its Jinja prompt, and
 * run through the agent's own task queue below every live task (the thermal guard
 * and the model's context apply as to any task). Every run is stored in job_runs and
 * its result goes out retained on `<base>/<device>/jobs/<job>/result` through the
 * outbox in the same transaction, with an alert event per rule its answer raised; so
 * nothing is lost while the broker is away. A run that fails records its error and
 * the next one goes on. Runs never overlap: a slot that comes while the job's last
 * run still waits or runs is skipped (logged). Runs missed while the agent was off
 * follow the job's catch_up rule: one run at start (once), or none (skip).
 */
import { describeError, isReasondError, ReasondError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { lastFireBetween } from '../core/cron.js';
import type { Scheduler } from '../core/scheduler.js';
import { compileTemplate, type GenerationResult, type TextTemplate } from '../engine/index.js';
import { jobResultTopic, type JobAlertEvent, type JobResultMessage, type JobTrigger, type TaskRequest, WIRE_ERROR_CODES, type WireErrorCode } from '../protocol/index.js';
import type { Database, Outbox } from '../store/index.js';
import { capRows, halve, templateContext, type Reduction } from './context.js';
import { readInput, type InputData, type InputRow } from './inputs.js';
import type { ReadingsStore } from './readings.js';
import { DEFAULT_JOB_DEADLINE_MS, type AlertRule, type JobOutput, type JobSpec } from './spec.js';

/** How a job's task ends: the pipeline calls one of these (task/job.ts LocalSink). */
export interface RunSink {
  finished(result: GenerationResult, startedAt: number): Promise<void>;
  failed(error: ReasondError): Promise<void>;
}

export interface SiteJobsDeps {
  jobs: JobSpec[];
  device: string;
  base: string;
  db: Database;
  /** The read-only connection sql inputs query through (store/database.ts readOnly). */
  readonly: Database;
  outbox: Outbox;
  /** Sends what was just added to the outbox. */
  kick: () => void;
  readings: ReadingsStore;
  /** Queues a task of the agent's own below live tasks (task/pipeline.ts submitLocal); throws what refuses it. */
  submit: (request: TaskRequest, sink: RunSink) => Promise<void>;
  /** Rejects (context_overflow) a prompt the model cannot take with these settings. */
  fits: (request: TaskRequest) => Promise<void>;
  eventsTopic: string;
  scheduler: Scheduler;
  clock: Clock;
  log: (line: string) => void;
  /** Every stored run's result (Prometheus, Home Assistant state is the retained message itself). */
  onResult?: (r: JobResultMessage) => void;
  /** Home Assistant discovery prefix when ha_discovery is on. */
  haPrefix?: string;
}

export interface DryRun {
  job: string;
  prompt: string;
  rows: Record<string, unknown>[];
  input: JobResultMessage['input'];
}

export interface JobRunRow {
  id: number;
  job: string;
  trigger: JobTrigger;
  scheduled_at: number | null;
  started_at: number;
  finished_at: number | null;
  state: 'running' | 'ok' | 'error';
  input_kind: string | null;
  input_rows: number | null;
  used_rows: number | null;
  input_hash: string | null;
  reduction: string | null;
  input_from: number | null;
  input_to: number | null;
  prompt: string | null;
  answer: string | null;
  reasoning: string | null;
  value: number | null;
  finish_reason: string | null;
  error_code: string | null;
  error_message: string | null;
  usage: string | null;
  timing: string | null;
  model: string | null;
  alerts: string | null;
}

/** The answer read as a number: a number alone, perhaps with a unit or a full stop after it ("3", "61.2", "61.2 °C"); "T2" or "8:20" are not. */
export function numericAnswer(answer: string): number | undefined {
  const m = /^([+-]?\d+(?:\.\d+)?)\s*(?:°\s*[CF]|%|[A-Za-z/]{1,5})?\.?$/.exec(answer.trim());
  return m ? Number(m[1]) : undefined;
}

/** What a job's `output` publishes for a run: nothing for a failed run, or for `value` when the answer is not a number. */
export function outputPayload(o: JobOutput, r: JobResultMessage): string | undefined {
  if (o.payload === 'result') return JSON.stringify(r);
  if (r.status !== 'ok') return undefined;
  if (o.payload === 'value') return r.value === undefined ? undefined : String(r.value);
  return r.answer;
}

/** The alert rules an answer raises. */
export function raisedAlerts(rules: AlertRule[], answer: string, value: number | undefined): AlertRule[] {
  return rules.filter((r) => ('match' in r ? new RegExp(r.match).test(answer) : value === undefined ? false : 'above' in r ? value > r.above : value < r.below));
}

/** Formats epoch ms as "H:MM" in a time zone (what the model's site questions use). */
export function clockIn(zone: string): (at: number) => string {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: 'numeric', minute: '2-digit', hourCycle: 'h23' });
  return (at) => {
    const p = Object.fromEntries(f.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
    return `${Number(p.hour)}:${p.minute}`;
  };
}

interface Prepared {
  data: InputData;
  reduction: Reduction;
  prompt: string;
  request: TaskRequest;
}

export class SiteJobs {
  private readonly templates = new Map<string, TextTemplate>();
  private readonly active = new Map<string, Promise<JobResultMessage>>();
  private cancels: (() => void)[] = [];
  /** Resolves when the run before has been queued (or has failed before it was). */
  private admitting: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly d: SiteJobsDeps) {
    for (const j of d.jobs) this.templates.set(j.name, compileTemplate(j.prompt));
  }

  get specs(): JobSpec[] {
    return this.d.jobs;
  }

  /** Runs left running by a stop or a crash are recorded failed; missed slots are caught up; schedules start. */
  async start(): Promise<void> {
    const now = this.d.clock.now();
    const stuck = await this.d.db.run("UPDATE job_runs SET state = 'error', finished_at = ?, error_code = 'internal', error_message = 'the agent stopped during the run' WHERE state = 'running'", [now]);
    if (stuck.changes) this.d.log(`jobs: ${stuck.changes} run(s) the agent stopped during are recorded failed`);
    if (this.d.haPrefix) await this.publishDiscovery(this.d.haPrefix, now);
    for (const j of this.d.jobs) {
      if (!j.enabled) continue;
      await this.catchUp(j, now);
      this.cancels.push(this.d.scheduler.schedule(j.schedule, `job ${j.name}`, () => {
        const slot = Math.floor(this.d.clock.now() / 1000) * 1000;
        void this.fire(j, 'schedule', slot);
      }, j.timezone));
    }
    const on = this.d.jobs.filter((j) => j.enabled);
    if (on.length) this.d.log(`jobs: ${on.map((j) => `${j.name} (${j.schedule} ${j.timezone})`).join(', ')} scheduled`);
  }

  /** Opens the read-only connection sql inputs use (before start, so their SQL is checked early). */
  async openReadonly(): Promise<void> {
    if (this.d.jobs.some((j) => j.input.kind === 'sql')) await this.d.readonly.start();
  }

  get readonlyDb(): Database {
    return this.d.readonly;
  }

  /** No new runs from now on (shutdown). */
  stopSchedules(): void {
    this.stopped = true;
    for (const c of this.cancels) c();
    this.cancels = [];
  }

  /** Waits for the runs that were queued to be recorded (the task path's stop ends them), then closes the read-only connection. */
  async stop(): Promise<void> {
    this.stopSchedules();
    await Promise.allSettled([...this.active.values()]);
    await this.d.readonly.stop();
  }

  /** Resolves when no run is waiting or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.active.size) await Promise.allSettled([...this.active.values()]);
  }

  private async catchUp(j: JobSpec, now: number): Promise<void> {
    const last = await this.d.db.get<{ at: number | null }>("SELECT MAX(scheduled_at) AS at FROM job_runs WHERE job = ? AND trigger IN ('schedule', 'catch_up')", [j.name]);
    if (last?.at == null) return; // a job that never ran has nothing to catch up
    const missed = lastFireBetween(j.schedule, j.timezone, last.at, now);
    if (missed === undefined) return;
    if (j.catch_up === 'skip') return this.d.log(`jobs: ${j.name} missed its run at ${new Date(missed).toISOString()} while the agent was off; skipped (catch_up: skip)`);
    this.d.log(`jobs: ${j.name} missed its run at ${new Date(missed).toISOString()} while the agent was off; running it once now (catch_up: once)`);
    void this.fire(j, 'catch_up', missed);
  }

  /** A scheduled or caught-up run; a slot that comes while the job's last run still waits or runs is skipped. */
  private fire(j: JobSpec, trigger: JobTrigger, slot: number): Promise<JobResultMessage> | undefined {
    if (this.stopped) return undefined;
    if (this.active.has(j.name)) {
      this.d.log(`jobs: ${j.name}: the ${new Date(slot).toISOString()} slot is skipped; its last run has not ended`);
      return undefined;
    }
    return this.track(j, this.execute(j, trigger, slot));
  }

  private track(j: JobSpec, p: Promise<JobResultMessage>): Promise<JobResultMessage> {
    const done = p.finally(() => this.active.delete(j.name));
    this.active.set(j.name, done);
    done.catch((e) => this.d.log(`jobs: ${j.name}: ${describeError(e)}`));
    return done;
  }

  /** `reasond jobs run <name>`: a run now, resolved with its stored result. */
  runNow(name: string): Promise<JobResultMessage> {
    const j = this.spec(name);
    if (this.active.has(name)) throw new ReasondError('busy', `job ${name} has a run waiting or running; try again when it ends`, { retryAfterMs: 5000 });
    return this.track(j, this.execute(j, 'manual', undefined));
  }

  /** `reasond jobs run <name> --dry-run`: the rendered prompt and the rows it used; nothing asked or stored. */
  async dryRun(name: string): Promise<DryRun> {
    const j = this.spec(name);
    const p = await this.prepare(j, 0);
    return { job: name, prompt: p.prompt, rows: p.reduction.used.map(({ at: _at, ...r }) => r), input: this.inputSummary(p.data, p.reduction) };
  }

  private spec(name: string): JobSpec {
    const j = this.d.jobs.find((x) => x.name === name);
    if (!j) throw new ReasondError('invalid_request', `no job is named ${JSON.stringify(name)}; the config has ${this.d.jobs.map((x) => x.name).join(', ') || 'no jobs'}`);
    return j;
  }

  private inputSummary(data: InputData, r: Reduction): JobResultMessage['input'] {
    return {
      kind: data.kind, rows: data.rows.length, used_rows: r.used.length, hash: data.hash, reduction: r.text,
      ...(data.from !== undefined ? { from: data.from } : {}), ...(data.to !== undefined ? { to: data.to } : {}),
    };
  }

  /** Input → reduction → prompt that fits the model. */
  private async prepare(j: JobSpec, runId: number): Promise<Prepared> {
    const clock = clockIn(j.timezone);
    const now = this.d.clock.now();
    const data = await readInput(j.input, { readings: this.d.readings, readonly: this.d.readonly, now: () => now, clock });
    const template = this.templates.get(j.name)!;
    let reduction = capRows(data.rows, j.input.max_rows);
    for (;;) {
      const ctx = templateContext({ job: j.name, now, clock, window_s: j.input.kind === 'topics' ? j.input.window_s : undefined }, data, reduction);
      let prompt: string;
      try {
        prompt = template.render(ctx).trim();
      } catch (e) {
        throw new ReasondError('invalid_request', `the prompt template failed on this input: ${(e as Error).message}`);
      }
      if (prompt === '') throw new ReasondError('invalid_request', 'the prompt template rendered an empty prompt for this input');
      const request = { id: `job:${j.name}:${runId}`, prompt, ...j.generation, deadline_ms: j.generation.deadline_ms ?? DEFAULT_JOB_DEADLINE_MS } as TaskRequest;
      try {
        await this.d.fits(request);
        return { data, reduction, prompt, request };
      } catch (e) {
        if (!isReasondError(e) || e.code !== 'context_overflow' || reduction.used.length === 0) throw e;
        reduction = halve(data.rows, reduction);
      }
    }
  }

  private async execute(j: JobSpec, trigger: JobTrigger, slot: number | undefined): Promise<JobResultMessage> {
    // Runs are recorded, prepared and queued one at a time, in the order they fired: runs due together
    // reach the queue in that order (and read their inputs one after another, not all at once).
    let admitted!: () => void;
    const turn = this.admitting;
    this.admitting = new Promise<void>((resolve) => (admitted = resolve));
    await turn;
    const startedAt = this.d.clock.now();
    let runId: number;
    try {
      runId = (await this.d.db.run('INSERT INTO job_runs (job, trigger, scheduled_at, started_at, state) VALUES (?, ?, ?, ?, ?)', [j.name, trigger, slot ?? null, startedAt, 'running'])).lastID;
    } catch (e) {
      admitted();
      throw e;
    }
    let p: Prepared | undefined;
    try {
      p = await this.prepare(j, runId);
      const submittedAt = this.d.clock.now();
      const result = new Promise<{ r: GenerationResult; startedAt: number }>((resolve, reject) => {
        this.d.submit(p!.request, { finished: async (r, at) => resolve({ r, startedAt: at }), failed: async (e) => reject(e) }).catch(reject).finally(admitted);
      });
      const ended = await result;
      return await this.finish(j, runId, trigger, slot, startedAt, p, { result: ended.r, queueMs: Math.max(0, ended.startedAt - submittedAt) });
    } catch (e) {
      admitted();
      const error = isReasondError(e) && isWireCode(e.code) ? e : new ReasondError('internal', describeError(e));
      this.d.log(`jobs: ${j.name} run ${runId} failed: ${error.code}: ${error.message}`);
      return this.finish(j, runId, trigger, slot, startedAt, p, { error });
    }
  }

  private async finish(
    j: JobSpec, runId: number, trigger: JobTrigger, slot: number | undefined, startedAt: number, p: Prepared | undefined,
    end: { result: GenerationResult; queueMs: number } | { error: ReasondError },
  ): Promise<JobResultMessage> {
    const now = this.d.clock.now();
    const input = p ? this.inputSummary(p.data, p.reduction) : { kind: j.input.kind, rows: 0, used_rows: 0, hash: '', reduction: 'none' };
    let msg: JobResultMessage;
    let raised: AlertRule[] = [];
    if ('result' in end) {
      const r = end.result;
      const value = numericAnswer(r.answer);
      raised = raisedAlerts(j.alerts, r.answer, value);
      msg = {
        type: 'job_result', job: j.name, device: this.d.device, run_id: runId, status: 'ok', trigger, ...(slot !== undefined ? { scheduled_at: slot } : {}),
        started_at: startedAt, finished_at: now, answer: r.answer, ...(value !== undefined ? { value } : {}), reasoning: r.reasoning, finish_reason: r.finish_reason,
        input, alerts: raised.map((a) => a.name), usage: { ...r.usage }, timing: { queue_ms: end.queueMs, ...r.timing }, model: { ...r.model }, created_at: now,
      };
    } else {
      msg = {
        type: 'job_result', job: j.name, device: this.d.device, run_id: runId, status: 'error', trigger, ...(slot !== undefined ? { scheduled_at: slot } : {}),
        started_at: startedAt, finished_at: now, error: { code: end.error.code as WireErrorCode, message: end.error.message }, input, alerts: [], created_at: now,
      };
    }
    await this.d.db.transaction(async () => {
      await this.d.db.run(
        `UPDATE job_runs SET state = ?, finished_at = ?, input_kind = ?, input_rows = ?, used_rows = ?, input_hash = ?, reduction = ?, input_from = ?, input_to = ?,
           prompt = ?, answer = ?, reasoning = ?, value = ?, finish_reason = ?, error_code = ?, error_message = ?, usage = ?, timing = ?, model = ?, alerts = ? WHERE id = ?`,
        [
          msg.status, now, input.kind, input.rows, input.used_rows, input.hash || null, input.reduction, input.from ?? null, input.to ?? null,
          p?.prompt ?? null, msg.answer ?? null, msg.reasoning ?? null, msg.value ?? null, msg.finish_reason ?? null, msg.error?.code ?? null, msg.error?.message ?? null,
          msg.usage ? JSON.stringify(msg.usage) : null, msg.timing ? JSON.stringify(msg.timing) : null, msg.model ? JSON.stringify(msg.model) : null, JSON.stringify(msg.alerts), runId,
        ],
      );
      await this.d.outbox.add({ topic: jobResultTopic(this.d.base, this.d.device, j.name), payload: JSON.stringify(msg), properties: { retain: true }, created_at: now });
      const extra = j.output && outputPayload(j.output, msg);
      if (extra !== undefined) await this.d.outbox.add({ topic: j.output!.topic, payload: extra, properties: j.output!.retain ? { retain: true } : undefined, created_at: now });
      for (const a of raised) {
        const event: JobAlertEvent = { type: 'job_alert', job: j.name, run_id: runId, rule: a.name, answer: msg.answer!, ...(msg.value !== undefined ? { value: msg.value } : {}), device: this.d.device, created_at: now };
        await this.d.outbox.add({ topic: this.d.eventsTopic, payload: JSON.stringify(event), created_at: now });
      }
    });
    this.d.kick();
    if (raised.length) this.d.log(`jobs: ${j.name} run ${runId} raised ${raised.map((a) => a.name).join(', ')} (answer ${JSON.stringify(msg.answer)})`);
    this.d.onResult?.(msg);
    return msg;
  }

  /** A Home Assistant sensor per job: its state is the retained result's value (or answer), its attributes the rest. */
  private async publishDiscovery(prefix: string, now: number): Promise<void> {
    const node = `reasond_${this.d.device.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
    for (const j of this.d.jobs) {
      const object = `job_${j.name.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
      const numeric = j.alerts.some((a) => !('match' in a));
      const payload = {
        name: `Job ${j.name}`,
        unique_id: `${node}_${object}`,
        object_id: `${node}_${object}`,
        state_topic: jobResultTopic(this.d.base, this.d.device, j.name),
        value_template: '{{ value_json.value if value_json.value is defined else (value_json.answer if value_json.answer is defined else None) }}',
        json_attributes_topic: jobResultTopic(this.d.base, this.d.device, j.name),
        json_attributes_template: '{{ {"run_id": value_json.run_id, "status": value_json.status, "answer": value_json.answer, "alerts": value_json.alerts, "finished_at": value_json.finished_at} | tojson }}',
        ...(numeric ? { state_class: 'measurement' } : {}),
        icon: 'mdi:chart-timeline-variant',
        availability_topic: `${this.d.base}/${this.d.device}/status`,
        availability_template: '{{ value_json.state }}',
        payload_available: 'online',
        payload_not_available: 'offline',
        device: { identifiers: [node] },
      };
      await this.d.outbox.add({ topic: `${prefix}/sensor/${node}/${object}/config`, payload: JSON.stringify(payload), properties: { retain: true }, created_at: now });
    }
    this.d.kick();
  }
}

const isWireCode = (c: string) => (WIRE_ERROR_CODES as readonly string[]).includes(c);

export type { InputRow };
