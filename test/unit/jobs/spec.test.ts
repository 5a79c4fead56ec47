/** A job's config (issue 18): every bad value refused with its place and the value, all problems together; good ones read with their defaults. */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/agent/config.js';
import { ConfigError } from '../../../src/config/index.js';
import { parseJobs, parseWindow } from '../../../src/jobs/index.js';
import { tempDir } from '../../helpers/models.js';

const good = { name: 'hot', schedule: '*/5 * * * *', input: { topics: ['site/+/temp'] }, prompt: 'Readings: {{ texts|join(", ") }}.' };

function problems(jobs: unknown): string[] {
  const out: string[] = [];
  parseJobs(jobs, 'jobs', out);
  return out;
}

test('a minimal job gets its defaults: UTC, enabled, a one-hour window of at most 8 rows, catch-up once, no alerts', (t) => {
  const out: string[] = [];
  t.deepEqual(parseJobs([good], 'jobs', out), [{
    name: 'hot', schedule: '*/5 * * * *', timezone: 'UTC', enabled: true, input: { kind: 'topics', topics: ['site/+/temp'], window_s: 3600, field: undefined, max_rows: 8 },
    prompt: 'Readings: {{ texts|join(", ") }}.', generation: {}, alerts: [], catch_up: 'once',
  }]);
  t.deepEqual(out, []);
});

test('alert rules are read with their names, given or made from the rule', (t) => {
  const out: string[] = [];
  const [j] = parseJobs([{ ...good, alerts: [{ above: 30 }, { below: -5, name: 'frost' }, { match: '^T[12]$' }] }], 'jobs', out);
  t.deepEqual(j.alerts, [{ name: 'value > 30', above: 30 }, { name: 'frost', below: -5 }, { name: 'answer matches /^T[12]$/', match: '^T[12]$' }]);
});

test('a bad cron expression, time zone, name and duplicate name are each named with the value', (t) => {
  t.deepEqual(problems([{ ...good, schedule: '61 * * * *' }]), ['jobs[0].schedule: is not a valid cron expression: 61 is a invalid expression for minute; got "61 * * * *"']);
  t.deepEqual(problems([{ ...good, schedule: '* * *' }]), ['jobs[0].schedule: is not a valid cron expression: expected 5 or 6 fields but got 3; got "* * *"']);
  t.deepEqual(problems([{ ...good, timezone: 'Mars/Olympus' }]), ['jobs[0].timezone: must be an IANA time zone such as UTC or Europe/Berlin; got "Mars/Olympus"']);
  t.deepEqual(problems([{ ...good, name: 'line 1' }]), ['jobs[0].name: must be letters, digits, ".", "_" or "-" (it is one topic level); got "line 1"']);
  t.deepEqual(problems([good, good]), ['jobs[1].name: is used by another job; got "hot"']);
});

test('a topic filter with bad wildcard syntax is refused, naming the level', (t) => {
  t.deepEqual(problems([{ ...good, input: { topics: ['site/#/temp', 'site/line+/temp', '$SYS/#', ''] } }]), [
    'jobs[0].input.topics[0]: not a valid MQTT topic filter: it has "#" where it may not be ("#" must be a whole level, and the last): level 2 is "#"; got "site/#/temp"',
    'jobs[0].input.topics[1]: not a valid MQTT topic filter: it has "+" inside a level ("+" must be a whole level): level 2 is "line+"; got "site/line+/temp"',
    'jobs[0].input.topics[2]: not a valid MQTT topic filter: it starts with "$" (the broker\'s own topics); got "$SYS/#"',
    'jobs[0].input.topics[3]: not a valid MQTT topic filter: it is empty; got ""',
  ]);
});

test('SQL that is not one read-only query is refused (writes are also caught at start, checks.ts)', (t) => {
  t.deepEqual(problems([{ ...good, input: { sql: 'DELETE FROM readings' } }]), ['jobs[0].input.sql: must be one read-only query (SELECT or WITH ... SELECT); got "DELETE FROM readings"']);
  t.deepEqual(problems([{ ...good, input: { sql: "SELECT 1; DROP TABLE tasks" } }]), ['jobs[0].input.sql: must be one statement (nothing after a ";"); got "SELECT 1; DROP TABLE tasks"']);
  // a ";" inside a string literal is not a second statement
  t.deepEqual(problems([{ ...good, input: { sql: "SELECT 'a;b' AS x;" } }]), []);
});

test('a template that does not parse, or fails on sample input, is refused', (t) => {
  t.deepEqual(problems([{ ...good, prompt: '{% for r in rows %}{{ r.value }}' }]), ['jobs[0].prompt: does not parse as a Jinja template (a tag or block is not closed); got "{% for r in rows %}{{ r.value }}"']);
  const [p] = problems([{ ...good, prompt: '{{ values|frobnicate }}' }]);
  t.regex(p, /^jobs\[0\]\.prompt: fails on sample input \(.*frobnicate.*\); the template sees job, now, clock, window, rows, count, values, texts, topics, summary, reduced, reduction; got/);
});

test('a file that does not exist, a relative path and an unknown format are refused', (t) => {
  t.deepEqual(problems([{ ...good, input: { file: '/nonexistent/plc-export.csv' } }]), ['jobs[0].input.file: does not exist: /nonexistent/plc-export.csv']);
  t.deepEqual(problems([{ ...good, input: { file: 'export.csv' } }]), ['jobs[0].input.file: must be an absolute path to a CSV or JSONL file; got "export.csv"']);
  const f = join(tempDir(), 'x.csv');
  writeFileSync(f, 'a,value\n1,2\n');
  t.deepEqual(problems([{ ...good, input: { file: f, format: 'xml' } }]), ['jobs[0].input.format: must be csv or jsonl; got "xml"']);
  t.deepEqual(parseJobs([{ ...good, input: { file: f } }], 'jobs', [])[0].input, { kind: 'file', file: f, format: 'csv', field: undefined, max_rows: 8 });
});

test('generation settings are checked by the task schema; other task fields and unknown job fields are refused', (t) => {
  t.deepEqual(problems([{ ...good, generation: { max_new_tokens: 0, temperature: 11, priority: 3 } }]), [
    'jobs[0].generation.priority: not a generation setting (value 3); use max_new_tokens, reasoning, temperature, top_k, top_p, repetition_penalty, seed, stop, deadline_ms',
    'jobs[0].generation.max_new_tokens must be >= 1; got 0',
    'jobs[0].generation.temperature must be <= 10; got 11',
  ]);
  t.deepEqual(problems([{ ...good, when: 'hourly' }]), ['jobs[0].when: unknown field (value "hourly"); a job has name, schedule, timezone, enabled, input, prompt, generation, alerts, catch_up, output']);
  t.deepEqual(problems([{ ...good, input: { topics: ['a/b'], window: '1y' } }]), ['jobs[0].input.window: must be a duration such as 90s, 15m, 1h or 2d (or seconds); got "1y"']);
  t.deepEqual(problems([{ ...good, alerts: [{ above: 'hot' }, { above: 1, below: 2 }] }]), [
    'jobs[0].alerts[0].above: must be a number; got "hot"',
    'jobs[0].alerts[1]: must be {"above": <number>}, {"below": <number>} or {"match": "<regex>"}, with an optional "name"; got {"above":1,"below":2}',
  ]);
});

test('durations: 90s, 15m, 1h, 2d or seconds', (t) => {
  t.deepEqual(['90s', '15m', '1h', '2d', 600, '0h', '1.5h', -3].map(parseWindow), [90, 900, 3600, 172800, 600, undefined, undefined, undefined]);
});

test('reasond start refuses bad jobs with every problem listed, with the file and the place, and a job max_new_tokens above the agent limit', (t) => {
  const dir = tempDir();
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ max_new_tokens_limit: 256, jobs: [{ ...good, schedule: 'every hour' }, { ...good, name: 'b', input: { topics: ['a/#/b'] } }] }));
  const e = t.throws(() => loadConfig({ cli: { config: file }, env: {} }), { instanceOf: ConfigError })!;
  t.deepEqual((e as ConfigError).problems, [
    `${file}: jobs[0].schedule: is not a valid cron expression: expected 5 or 6 fields but got 2; got "every hour"`,
    `${file}: jobs[1].input.topics[0]: not a valid MQTT topic filter: it has "#" where it may not be ("#" must be a whole level, and the last): level 2 is "#"; got "a/#/b"`,
  ]);
  // the agent's own limit is a cross-key check, made once the jobs themselves are valid
  writeFileSync(file, JSON.stringify({ max_new_tokens_limit: 256, jobs: [good, { ...good, name: 'b', generation: { max_new_tokens: 300, reasoning: { budget_tokens: 400 } } }] }));
  const e1 = t.throws(() => loadConfig({ cli: { config: file }, env: {} }), { instanceOf: ConfigError })!;
  t.deepEqual((e1 as ConfigError).problems, [
    'jobs[1].generation.max_new_tokens: must be at most max_new_tokens_limit (256); got 300',
    'jobs[1].generation.reasoning.budget_tokens: must be at most max_new_tokens_limit (256); got 400',
  ]);
  // and from a flag: JSON text
  const e2 = t.throws(() => loadConfig({ cli: { jobs: '[{"name": "x"' }, env: {} }), { instanceOf: ConfigError })!;
  t.regex((e2 as ConfigError).problems[0], /^--jobs: must be JSON; /);
});

test('an output: the answer on a site topic, retained by default; a wildcard topic or an unknown payload is refused', (t) => {
  const out: string[] = [];
  t.deepEqual(parseJobs([{ ...good, output: { topic: 'site/line1/drift' } }], 'jobs', out)[0].output, { topic: 'site/line1/drift', payload: 'answer', retain: true });
  t.deepEqual(parseJobs([{ ...good, output: { topic: 'plc/in', payload: 'value', retain: false } }], 'jobs', out)[0].output, { topic: 'plc/in', payload: 'value', retain: false });
  t.deepEqual(out, []);
  t.deepEqual(problems([{ ...good, output: { topic: 'site/+/drift', payload: 'number' } }]), [
    'jobs[0].output.topic: must be a topic to publish on (no + or #, not starting with $); got "site/+/drift"',
    'jobs[0].output.payload: must be answer, value or result; got "number"',
  ]);
});
