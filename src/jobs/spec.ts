/**
 * A job as the config states it (issue 18), read and checked: every problem is
 * reported with its place (`jobs[1].schedule`) and the value, all together, the
 * way every other config key is. What cannot be checked without the agent's
 * database (SQL that writes) is checked at start by jobs/checks.ts.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { cronProblem, isTimeZone } from '../core/cron.js';
import { compileTemplate } from '../engine/index.js';
import { checker, isPublishableTopic, MAX_NEW_TOKENS_CEILING, taskSchemaWith, TOPIC_LEVEL, topicFilterProblem, type TaskRequest } from '../protocol/index.js';
import { show } from '../protocol/validate.js';
import { templateContext } from './context.js';

export type JobInput =
  | { kind: 'topics'; topics: string[]; window_s: number; field?: string; max_rows: number }
  | { kind: 'sql'; sql: string; max_rows: number }
  | { kind: 'file'; file: string; format: 'csv' | 'jsonl'; field?: string; max_rows: number };

/** An alert rule: the answer matches a pattern, or its number is above or below a limit. */
export type AlertRule = { name: string } & ({ match: string } | { above: number } | { below: number });

/** The task fields a job may set (its generation settings). */
export type Generation = Pick<TaskRequest, 'max_new_tokens' | 'reasoning' | 'temperature' | 'top_k' | 'top_p' | 'repetition_penalty' | 'seed' | 'stop' | 'deadline_ms'>;

export interface JobSpec {
  name: string;
  schedule: string;
  timezone: string;
  enabled: boolean;
  input: JobInput;
  prompt: string;
  generation: Generation;
  alerts: AlertRule[];
  /** After runs were missed while the agent was off: run once at start, or skip to the next slot. */
  catch_up: 'once' | 'skip';
  /** Besides its result on reasond/<device>/jobs/<job>/result: the answer on a site topic of the user's (a PLC, Node-RED). */
  output?: JobOutput;
}

export interface JobOutput {
  topic: string;
  /** answer: the answer text; value: its number (runs whose answer is not a number publish nothing); result: the whole result message. */
  payload: 'answer' | 'value' | 'result';
  retain: boolean;
}

export const GENERATION_FIELDS = ['max_new_tokens', 'reasoning', 'temperature', 'top_k', 'top_p', 'repetition_penalty', 'seed', 'stop', 'deadline_ms'] as const;
const JOB_FIELDS = ['name', 'schedule', 'timezone', 'enabled', 'input', 'prompt', 'generation', 'alerts', 'catch_up', 'output'];
const INPUT_FIELDS = { topics: ['topics', 'window', 'field', 'max_rows'], sql: ['sql', 'max_rows'], file: ['file', 'format', 'field', 'max_rows'] } as const;
/** The shipped model is trained on series of 3 to 8 readings (docs/jobs.md); a larger model takes more. */
export const DEFAULT_MAX_ROWS = 8;
export const MAX_ROWS_LIMIT = 100_000;
/** A job's runs at most wait this long for the model by default (its deadline_ms). */
export const DEFAULT_JOB_DEADLINE_MS = 600_000;

/** "90s", "15m", "1h", "2d" or a number of seconds, as seconds; undefined when it is none of these. */
export function parseWindow(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(v.trim());
  if (!m || Number(m[1]) === 0) return undefined;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** What a prompt template is tried on at start: one reading of one topic, as a run would give it (context.ts). */
const SAMPLE_CONTEXT = templateContext(
  { job: 'sample', now: Date.UTC(2026, 0, 1), clock: () => '0:00', window_s: 3600 },
  { kind: 'topics', rows: [{ topic: 'site/line1/temp', sensor: 'line1', value: 21.5, text: '21.5', time: '2026-01-01T00:00:00.000Z', clock: '0:00', at: Date.UTC(2026, 0, 1) }], hash: '' },
  { used: [{ topic: 'site/line1/temp', sensor: 'line1', value: 21.5, text: '21.5', time: '2026-01-01T00:00:00.000Z', clock: '0:00', at: Date.UTC(2026, 0, 1) }], text: 'none' },
);

/** A dotted path into a JSON object ("temp", "data.temp", "sensors.0.value"). */
const FIELD_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every job of a `jobs` value, or the problems; `where` names the key (`config.json: jobs`). */
export function parseJobs(value: unknown, where: string, problems: string[], limits = { max_new_tokens_limit: MAX_NEW_TOKENS_CEILING }): JobSpec[] {
  if (!Array.isArray(value)) {
    problems.push(`${where}: must be a list of jobs; got ${show(value)}`);
    return [];
  }
  const out: JobSpec[] = [];
  const names = new Set<string>();
  const check = checker<TaskRequest>(taskSchemaWith(limits), 'the generation settings');
  value.forEach((raw, i) => {
    const at = `${where}[${i}]`;
    const before = problems.length;
    const bad = (field: string, what: string, v: unknown) => problems.push(`${at}.${field}: ${what}; got ${show(v)}`);
    if (!isObject(raw)) return void problems.push(`${at}: must be an object; got ${show(raw)}`);
    for (const k of Object.keys(raw)) if (!JOB_FIELDS.includes(k)) problems.push(`${at}.${k}: unknown field (value ${show(raw[k])}); a job has ${JOB_FIELDS.join(', ')}`);

    const name = raw.name;
    if (typeof name !== 'string' || !TOPIC_LEVEL.regex.test(name)) bad('name', `must be ${TOPIC_LEVEL.rule}`, name);
    else if (names.has(name)) bad('name', 'is used by another job', name);
    else names.add(name);

    const schedule = raw.schedule;
    if (typeof schedule !== 'string') bad('schedule', 'must be a cron expression (5 fields, or 6 with seconds first)', schedule);
    else {
      const why = cronProblem(schedule);
      if (why) bad('schedule', `is not a valid cron expression: ${why}`, schedule);
    }
    const timezone = raw.timezone ?? 'UTC';
    if (typeof timezone !== 'string' || !isTimeZone(timezone)) bad('timezone', 'must be an IANA time zone such as UTC or Europe/Berlin', timezone);
    const enabled = raw.enabled ?? true;
    if (typeof enabled !== 'boolean') bad('enabled', 'must be true or false', enabled);
    const catchUp = raw.catch_up ?? 'once';
    if (catchUp !== 'once' && catchUp !== 'skip') bad('catch_up', 'must be once (run one missed slot at start) or skip', catchUp);

    const input = parseInput(raw.input, `${at}.input`, problems);

    const prompt = raw.prompt;
    if (typeof prompt !== 'string' || prompt.trim() === '') bad('prompt', 'must be a non-empty Jinja template', prompt);
    else {
      try {
        const t = compileTemplate(prompt);
        try {
          t.render(SAMPLE_CONTEXT);
        } catch (e) {
          bad('prompt', `fails on sample input (${(e as Error).message}); the template sees ${Object.keys(SAMPLE_CONTEXT).join(', ')}`, prompt);
        }
      } catch (e) {
        // the parser's own errors for an unclosed tag are TypeErrors about its tokens
        const why = e instanceof TypeError ? 'a tag or block is not closed' : (e as Error).message;
        bad('prompt', `does not parse as a Jinja template (${why})`, prompt);
      }
    }

    const generation = raw.generation ?? {};
    if (!isObject(generation)) bad('generation', 'must be an object of task settings', generation);
    else {
      for (const k of Object.keys(generation)) {
        if (!(GENERATION_FIELDS as readonly string[]).includes(k)) problems.push(`${at}.generation.${k}: not a generation setting (value ${show(generation[k])}); use ${GENERATION_FIELDS.join(', ')}`);
      }
      if (!check({ id: 'job', prompt: 'x', ...generation })) for (const p of check.problems()) if (!p.includes('unknown field')) problems.push(`${at}.generation.${p}`);
    }

    const alerts = raw.alerts ?? [];
    const rules: AlertRule[] = [];
    if (!Array.isArray(alerts)) bad('alerts', 'must be a list of rules ({"above": 30}, {"below": 5} or {"match": "regex"}, each with an optional name)', alerts);
    else {
      alerts.forEach((a, j) => {
        const r = parseAlert(a, `${at}.alerts[${j}]`, problems);
        if (r) rules.push(r);
      });
    }
    const output = raw.output === undefined ? undefined : parseOutput(raw.output, `${at}.output`, problems);
    if (problems.length === before && input) {
      out.push({
        name: name as string, schedule: schedule as string, timezone: timezone as string, enabled: enabled as boolean, input,
        prompt: prompt as string, generation: generation as Generation, alerts: rules, catch_up: catchUp as 'once' | 'skip',
        ...(output ? { output } : {}),
      });
    }
  });
  return out;
}

function parseInput(v: unknown, at: string, problems: string[]): JobInput | undefined {
  if (!isObject(v)) return void problems.push(`${at}: must be an object with one of topics, sql or file; got ${show(v)}`);
  const kinds = (['topics', 'sql', 'file'] as const).filter((k) => v[k] !== undefined);
  if (kinds.length !== 1) return void problems.push(`${at}: must have exactly one of topics, sql or file; got ${show(v)}`);
  const kind = kinds[0];
  const before = problems.length;
  for (const k of Object.keys(v)) if (!(INPUT_FIELDS[kind] as readonly string[]).includes(k)) problems.push(`${at}.${k}: not a field of a ${kind} input (value ${show(v[k])}); it has ${INPUT_FIELDS[kind].join(', ')}`);
  const maxRows = v.max_rows ?? DEFAULT_MAX_ROWS;
  if (typeof maxRows !== 'number' || !Number.isInteger(maxRows) || maxRows < 1 || maxRows > MAX_ROWS_LIMIT) problems.push(`${at}.max_rows: must be an integer from 1 to ${MAX_ROWS_LIMIT}; got ${show(maxRows)}`);
  const field = v.field;
  if (field !== undefined && (typeof field !== 'string' || !FIELD_PATH.test(field))) problems.push(`${at}.field: must be a dotted path into a JSON payload, such as temp or data.temp; got ${show(field)}`);
  if (kind === 'topics') {
    const topics = v.topics;
    if (!Array.isArray(topics) || topics.length === 0) problems.push(`${at}.topics: must be a non-empty list of MQTT topic filters; got ${show(topics)}`);
    else {
      topics.forEach((t, j) => {
        const why = typeof t === 'string' ? topicFilterProblem(t) : 'is not a string';
        if (why) problems.push(`${at}.topics[${j}]: not a valid MQTT topic filter: it ${why}; got ${show(t)}`);
      });
    }
    const window = parseWindow(v.window ?? '1h');
    if (window === undefined) problems.push(`${at}.window: must be a duration such as 90s, 15m, 1h or 2d (or seconds); got ${show(v.window)}`);
    if (problems.length > before) return undefined;
    return { kind, topics: topics as string[], window_s: window!, field: field as string | undefined, max_rows: maxRows as number };
  }
  if (kind === 'sql') {
    const sql = v.sql;
    if (typeof sql !== 'string' || !/^\s*(select|with)\b/i.test(sql)) problems.push(`${at}.sql: must be one read-only query (SELECT or WITH ... SELECT); got ${show(sql)}`);
    else if (/;\s*\S/.test(sql.replace(/'(?:[^']|'')*'/g, "''"))) problems.push(`${at}.sql: must be one statement (nothing after a ";"); got ${show(sql)}`);
    if (problems.length > before) return undefined;
    return { kind, sql: sql as string, max_rows: maxRows as number };
  }
  const file = v.file;
  if (typeof file !== 'string' || !isAbsolute(file)) problems.push(`${at}.file: must be an absolute path to a CSV or JSONL file; got ${show(file)}`);
  else if (!existsSync(file)) problems.push(`${at}.file: does not exist: ${file}`);
  else if (!statSync(file).isFile()) problems.push(`${at}.file: is not a file: ${file}`);
  const format = v.format ?? (typeof file === 'string' && /\.jsonl$/i.test(file) ? 'jsonl' : 'csv');
  if (format !== 'csv' && format !== 'jsonl') problems.push(`${at}.format: must be csv or jsonl; got ${show(format)}`);
  if (problems.length > before) return undefined;
  return { kind, file: file as string, format: format as 'csv' | 'jsonl', field: field as string | undefined, max_rows: maxRows as number };
}

function parseOutput(v: unknown, at: string, problems: string[]): JobOutput | undefined {
  if (!isObject(v)) return void problems.push(`${at}: must be {"topic": "<topic>", "payload": "answer" | "value" | "result", "retain": true | false}; got ${show(v)}`);
  const before = problems.length;
  for (const k of Object.keys(v)) if (!['topic', 'payload', 'retain'].includes(k)) problems.push(`${at}.${k}: unknown field (value ${show(v[k])}); an output has topic, payload, retain`);
  if (typeof v.topic !== 'string' || !isPublishableTopic(v.topic)) problems.push(`${at}.topic: must be a topic to publish on (no + or #, not starting with $); got ${show(v.topic)}`);
  const payload = v.payload ?? 'answer';
  if (payload !== 'answer' && payload !== 'value' && payload !== 'result') problems.push(`${at}.payload: must be answer, value or result; got ${show(payload)}`);
  const retain = v.retain ?? true;
  if (typeof retain !== 'boolean') problems.push(`${at}.retain: must be true or false; got ${show(retain)}`);
  if (problems.length > before) return undefined;
  return { topic: v.topic as string, payload: payload as JobOutput['payload'], retain: retain as boolean };
}

function parseAlert(a: unknown, at: string, problems: string[]): AlertRule | undefined {
  const how = 'must be {"above": <number>}, {"below": <number>} or {"match": "<regex>"}, with an optional "name"';
  if (!isObject(a)) return void problems.push(`${at}: ${how}; got ${show(a)}`);
  const kinds = (['above', 'below', 'match'] as const).filter((k) => a[k] !== undefined);
  const extra = Object.keys(a).filter((k) => k !== 'name' && !kinds.includes(k as 'above'));
  if (kinds.length !== 1 || extra.length) return void problems.push(`${at}: ${how}; got ${show(a)}`);
  const name = a.name ?? undefined;
  if (name !== undefined && (typeof name !== 'string' || name === '')) return void problems.push(`${at}.name: must be a non-empty string; got ${show(name)}`);
  const k = kinds[0];
  const v = a[k];
  if (k === 'match') {
    if (typeof v !== 'string') return void problems.push(`${at}.match: must be a regular expression; got ${show(v)}`);
    try {
      new RegExp(v);
    } catch (e) {
      return void problems.push(`${at}.match: is not a valid regular expression (${(e as Error).message}); got ${show(v)}`);
    }
    return { name: (name as string | undefined) ?? `answer matches /${v}/`, match: v };
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return void problems.push(`${at}.${k}: must be a number; got ${show(v)}`);
  return k === 'above' ? { name: (name as string | undefined) ?? `value > ${v}`, above: v } : { name: (name as string | undefined) ?? `value < ${v}`, below: v };
}
