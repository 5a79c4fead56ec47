/**
 * Scheduled reasoning jobs over site data (issue 18): the retained result a job run
 * publishes on `<base>/<device>/jobs/<job>/result`, and the alert event a run raises on
 * the device's events topic. The agent builds these; the controller and the tests read them.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { WIRE_ERROR_CODES } from './replies.js';

export const JOB_TRIGGERS = ['schedule', 'catch_up', 'manual'] as const;
export const JOB_INPUT_KINDS = ['topics', 'sql', 'file'] as const;

export const jobResultSchema = {
  title: 'Job result',
  type: 'object', additionalProperties: false,
  required: ['type', 'job', 'device', 'run_id', 'status', 'trigger', 'started_at', 'finished_at', 'input', 'alerts', 'created_at'],
  properties: {
    type: { const: 'job_result' },
    job: { type: 'string', description: "the job's name" },
    device: { type: 'string' },
    run_id: { type: 'integer', description: 'the run, as `reasond jobs history` lists it' },
    status: { enum: ['ok', 'error'] },
    trigger: { enum: JOB_TRIGGERS, description: 'what started the run: its schedule, the catch-up rule after the agent was off, or `reasond jobs run`' },
    scheduled_at: { type: 'integer', description: 'epoch ms of the schedule slot the run is for (schedule and catch_up)' },
    started_at: { type: 'integer', description: 'epoch ms' },
    finished_at: { type: 'integer', description: 'epoch ms' },
    answer: { type: 'string', description: "the model's answer (status ok)" },
    value: { type: 'number', description: 'the answer read as a number, when it is one (also the Home Assistant state and the Prometheus gauge)' },
    reasoning: { type: 'string', description: "the model's reasoning (status ok)" },
    finish_reason: { type: 'string', description: 'as in a task result' },
    error: {
      type: 'object', additionalProperties: false, required: ['code', 'message'],
      description: 'why the run failed (status error): `invalid_request` for bad input data, or a task error code',
      properties: { code: { enum: WIRE_ERROR_CODES }, message: { type: 'string' } },
    },
    input: {
      type: 'object', additionalProperties: false, required: ['kind', 'rows', 'used_rows', 'hash', 'reduction'],
      description: '`kind` (topics, sql, file), `rows` read, `used_rows` given to the prompt, `hash` (sha256 of the rows read), `reduction` (how rows were cut to fit, or `none`), `from`/`to` (the window, epoch ms, for topics)',
      properties: {
        kind: { enum: JOB_INPUT_KINDS }, rows: { type: 'integer' }, used_rows: { type: 'integer' }, hash: { type: 'string' }, reduction: { type: 'string' },
        from: { type: 'integer' }, to: { type: 'integer' },
      },
    },
    alerts: { type: 'array', items: { type: 'string' }, description: 'the alert rules this answer raised (each also a `job_alert` event)' },
    usage: { type: 'object', description: 'tokens, as in a task result' },
    timing: { type: 'object', description: '`queue_ms`, `total_ms` and the engine timings, as in a task result' },
    model: { type: 'object', description: '`name`, `version`, `dtype`, `file`: the model that answered, as in a task result' },
    created_at: { type: 'integer', description: 'epoch ms' },
  },
} as const;

export const jobAlertEventSchema = {
  title: 'job_alert',
  type: 'object', additionalProperties: false, required: ['type', 'job', 'run_id', 'rule', 'answer', 'device', 'created_at'],
  description: "a scheduled job's answer matched one of its alert rules (issue 18)",
  properties: {
    type: { const: 'job_alert' },
    job: { type: 'string' },
    run_id: { type: 'integer' },
    rule: { type: 'string', description: 'the rule, as written: its name, or e.g. `value > 3`' },
    answer: { type: 'string' },
    value: { type: 'number' },
    device: { type: 'string' },
    created_at: { type: 'integer', description: 'epoch ms' },
  },
} as const;

export type JobResultMessage = FromSchema<typeof jobResultSchema>;
export type JobAlertEvent = FromSchema<typeof jobAlertEventSchema>;
export type JobTrigger = (typeof JOB_TRIGGERS)[number];
export type JobInputKind = (typeof JOB_INPUT_KINDS)[number];
