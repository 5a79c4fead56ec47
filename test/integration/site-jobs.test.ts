/**
 * Scheduled reasoning jobs over site data (issue 18), end to end with the shipped model:
 * readings published on a real broker are recorded, a job fired by the (manual) scheduler
 * asks the model, the exact answer is stored, published retained and raises its alert;
 * the same with the broker down during the run; live tasks go before a backlog of jobs;
 * a failing run leaves the agent serving; missed runs follow the catch-up rule; bad job
 * configs are refused at start.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAgent, type Agent } from '../../src/agent/index.js';
import { loadConfig } from '../../src/agent/config.js';
import { Engine } from '../../src/engine/index.js';
import type { JobRunRow } from '../../src/jobs/index.js';
import type { JobAlertEvent, JobResultMessage } from '../../src/protocol/index.js';
import { SharedEngine } from '../helpers/agents.js';
import { brokerKinds, freePort, startBroker, type BrokerKind, type TestBroker } from '../helpers/brokers.js';
import { ManualClock, ManualScheduler } from '../helpers/manual-scheduler.js';
import { repoRoot, shippedModel, tempDir } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';
import { until } from '../helpers/waiting.js';

const run = promisify(execFile);
const engine = new Engine({ model: shippedModel, threads: 1 });
test.before(async () => {
  await engine.start();
});
test.after.always(async () => {
  await engine.stop();
});

/**
 * The worked example's question (README, docs/jobs.md): a form of the shipped model's site-data family
 * (first-to-last difference of whole-degree readings) it answers right; downsampling keeps the first and
 * last readings, so the question stays exact however many readings the window holds.
 */
const example = JSON.parse(readFileSync(join(repoRoot, 'docs/examples/site-jobs.json'), 'utf8')) as { jobs: { name: string; prompt: string }[] };
const PROMPT = example.jobs[0].prompt;
const READINGS = ['28', '31', '29', '33'];
const ANSWER = '5';
/**
 * Line 1 of the simulator's seed 3 (the README's command), and its first-to-last difference. The shipped
 * model is not right on every site question (issue 15's site-data accuracy, docs/jobs.md); the model
 * before the third session's retraining answered seed 1's 23, 23, 23, 23, 22 with 99, a false alert.
 */
const LINE1 = ['23', '23', '24', '25', '25'];
const LINE1_ANSWER = '2';
const rendered = (values: string[]) => `Temperature readings: ${values.join(', ')} (°C). Difference between first and last value?`;
/**
 * The agents' manual clock starts half a minute into the next 5-minute slot of real time, so its first
 * "every 5 minutes" run (SLOT) comes 4.5 minutes of manual time later. Not a fixed date: a run's
 * deadline is set from the agent's clock and checked by the engine against the real one, so the
 * manual clock must not lag real time (a fixed date in the past would expire every run at once).
 */
const T0 = Math.floor(Date.now() / 300_000) * 300_000 + 330_000;
const SLOT = T0 + 270_000;

const hotJob = (extra: Record<string, unknown> = {}) => ({
  name: 'hot', schedule: '*/5 * * * *', input: { topics: ['site/+/temp'], window: '1h' }, prompt: PROMPT,
  generation: { max_new_tokens: 200 }, alerts: [{ name: 'moved more than 3 °C', above: 3 }], ...extra,
});

interface Running {
  agent: Agent;
  shared: SharedEngine;
  clock: ManualClock;
  scheduler: ManualScheduler;
  device: string;
  url: string;
  dataDir: string;
}

async function agentWith(o: { jobs: unknown[]; broker?: string; dataDir?: string; clock?: ManualClock; device?: string; extra?: Record<string, unknown>; shared?: SharedEngine }): Promise<Running> {
  const device = o.device ?? `site-${randomUUID().slice(0, 6)}`;
  const dataDir = o.dataDir ?? tempDir('reasond-jobs-');
  const port = o.broker ? undefined : await freePort();
  const clock = o.clock ?? new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const shared = o.shared ?? new SharedEngine(engine);
  const config = loadConfig({
    cli: {
      'device-id': device, 'data-dir': dataDir, model: shippedModel, broker: o.broker ?? '', 'embedded-port': port, 'embedded-broker': 'aedes',
      'reconnect-ms': 300, jobs: JSON.stringify(o.jobs), ...o.extra,
    },
    env: {},
  });
  const agent = buildAgent(config, { makeEngine: () => shared, clock, scheduler, log: process.env.REASOND_TEST_LOG ? (l) => process.stderr.write(`[${device}] ${l}\n`) : () => {} });
  await agent.start();
  return { agent, shared, clock, scheduler, device, url: o.broker ?? `mqtt://127.0.0.1:${port}`, dataDir };
}

const runs = (a: Agent) => a.p.db.all<JobRunRow>('SELECT * FROM job_runs ORDER BY id');

/** Publishes readings and waits until the agent has them in its database. */
async function publishReadings(inbox: Inbox, a: Agent, values: string[], topic = 'site/line1/temp'): Promise<void> {
  const before = a.p.readings.written;
  for (const v of values) await inbox.publish(topic, v, { qos: 1 });
  await until(async () => (await a.p.readings.flush(), a.p.readings.written >= before + values.length), 'the readings recorded');
}

for (const kind of brokerKinds()) {
  test.serial(`[${kind}] readings in, a scheduled run of the shipped model: the exact answer stored, published retained, and its alert raised`, async (t) => {
    const broker: TestBroker | undefined = kind === 'mosquitto' ? await startBroker('mosquitto') : undefined;
    const r = await agentWith({ jobs: [hotJob({ output: { topic: `plant/${kind}/line1/drift`, payload: 'value' } })], broker: broker?.url });
    const inbox = await new Inbox(r.url).start([`reasond/${r.device}/events`]);
    try {
      await publishReadings(inbox, r.agent, READINGS);
      // readings of other topics, and of the agents' own, are not recorded
      await inbox.publish('site/line1/humidity', '40');
      await r.scheduler.advance(5 * 60_000);
      await r.agent.p.jobs.idle();
      const [row] = await runs(r.agent);
      t.like(row, { id: 1, job: 'hot', trigger: 'schedule', scheduled_at: SLOT, state: 'ok', answer: ANSWER, value: Number(ANSWER), input_kind: 'topics', input_rows: 4, used_rows: 4, reduction: 'none' });
      t.is(row.prompt, rendered(READINGS));
      t.deepEqual(JSON.parse(row.alerts!), ['moved more than 3 °C']);
      // retained: a client that subscribes afterwards gets it
      const late = await new Inbox(r.url).start([`reasond/${r.device}/jobs/+/result`, `plant/${kind}/#`]);
      const got = (await late.next((m) => m.topic === `reasond/${r.device}/jobs/hot/result`, 'the retained result')).json as JobResultMessage;
      // the job's output: the number alone on the plant's own topic, retained
      t.is((await late.next((m) => m.topic === `plant/${kind}/line1/drift`, 'the output')).payload.toString(), ANSWER);
      await late.stop();
      t.like(got, { type: 'job_result', job: 'hot', device: r.device, run_id: 1, status: 'ok', answer: ANSWER, value: Number(ANSWER), alerts: ['moved more than 3 °C'], trigger: 'schedule' });
      t.deepEqual(got.input, { kind: 'topics', rows: 4, used_rows: 4, hash: row.input_hash, reduction: 'none', from: row.input_from, to: row.input_to });
      const alert = (await inbox.next((m) => m.json?.type === 'job_alert', 'the alert event')).json as JobAlertEvent;
      t.deepEqual(alert, { type: 'job_alert', job: 'hot', run_id: 1, rule: 'moved more than 3 °C', answer: ANSWER, value: Number(ANSWER), device: r.device, created_at: got.created_at });
      t.is((await r.agent.p.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM readings WHERE topic LIKE '%humidity'"))!.n, 0);
    } finally {
      await inbox.stop();
      await r.agent.stop();
      await broker?.stop();
    }
  });
}

test.serial('the worked example (README): the shipped example config and the site simulator; the heating line raises its alert', async (t) => {
  const r = await agentWith({ jobs: example.jobs });
  try {
    // five rounds a second apart: line 1 wanders, line 2 heats up a degree a round (26 .. 30)
    await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/site-sim.ts'), '--broker', r.url, '--lines', '2', '--interval', '1', '--heat', 'line2', '--seed', '3', '--count', '5'], { cwd: repoRoot });
    await until(async () => (await r.agent.p.readings.flush(), r.agent.p.readings.written === 10), 'the ten readings recorded');
    await r.scheduler.advance(5 * 60_000);
    await r.agent.p.jobs.idle();
    const byJob = Object.fromEntries((await runs(r.agent)).map((x) => [x.job, x]));
    t.is(byJob['line2-drift'].prompt, rendered(['26', '27', '28', '29', '30']));
    t.like(byJob['line2-drift'], { state: 'ok', answer: '4', value: 4, alerts: JSON.stringify(['line 2 moved more than 3 °C in 15 minutes']) });
    t.is(byJob['line1-drift'].prompt, rendered(LINE1));
    t.like(byJob['line1-drift'], { state: 'ok', answer: LINE1_ANSWER, alerts: '[]' });
  } finally {
    await r.agent.stop();
  }
});

test.serial('each job is a Home Assistant sensor on its retained result, and a Prometheus gauge of its numeric answer', async (t) => {
  const metricsPort = await freePort();
  const r = await agentWith({ jobs: [hotJob()], extra: { 'ha-discovery': true, 'metrics-port': metricsPort, 'metrics-host': '127.0.0.1' } });
  const inbox = await new Inbox(r.url).start(['homeassistant/sensor/+/+/config']);
  try {
    // device ids of letters, digits, "-" and "_" are HA object ids as they are
    const ha = (await inbox.next((m) => m.topic === `homeassistant/sensor/reasond_${r.device}/job_hot/config`, 'the job sensor config')).json;
    t.like(ha, {
      name: 'Job hot', unique_id: `reasond_${r.device}_job_hot`, state_topic: `reasond/${r.device}/jobs/hot/result`, json_attributes_topic: `reasond/${r.device}/jobs/hot/result`,
      state_class: 'measurement', availability_topic: `reasond/${r.device}/status`, device: { identifiers: [`reasond_${r.device}`] },
    });
    await publishReadings(inbox, r.agent, READINGS);
    await r.scheduler.advance(5 * 60_000);
    await r.agent.p.jobs.idle();
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    t.true(text.includes(`reasond_job_value{job="hot"} ${ANSWER}\n`), text);
    t.true(text.includes('reasond_job_runs_total{job="hot",status="ok"} 1\n'), text);
  } finally {
    await inbox.stop();
    await r.agent.stop();
  }
});

test.serial('with the broker down during the run, the result and the alert wait in the outbox and go out when it returns', async (t) => {
  const port = await freePort();
  let broker = await startBroker('embedded', port);
  const r = await agentWith({ jobs: [hotJob()], broker: broker.url, extra: { 'reconnect-ms': 1500 } });
  try {
    const inbox = await new Inbox(broker.url).start([]);
    await publishReadings(inbox, r.agent, READINGS);
    await inbox.stop();
    await broker.stop();
    await until(() => !r.agent.connected, 'the agent to see the broker gone');
    await r.scheduler.advance(5 * 60_000);
    await r.agent.p.jobs.idle();
    t.like((await runs(r.agent))[0], { state: 'ok', answer: ANSWER });
    t.is(await r.agent.outbox.size(), 2, 'the result and the alert wait');
    broker = await startBroker('embedded', port);
    // subscribed before the agent's next reconnect attempt (1.5 s)
    const back = await new Inbox(broker.url).start([`reasond/${r.device}/jobs/+/result`, `reasond/${r.device}/events`]);
    const res = (await back.next((m) => m.json?.type === 'job_result', 'the result after the broker returned')).json as JobResultMessage;
    const alert = (await back.next((m) => m.json?.type === 'job_alert', 'the alert after the broker returned')).json as JobAlertEvent;
    t.like(res, { run_id: 1, status: 'ok', answer: ANSWER });
    t.like(alert, { run_id: 1, rule: 'moved more than 3 °C' });
    await until(async () => (await r.agent.outbox.size()) === 0, 'the outbox to empty');
    await back.stop();
  } finally {
    await r.agent.stop();
    await broker.stop();
  }
});

test.serial('a live task goes before every waiting job run, and with max_batch 2 a job run never takes the last row', async (t) => {
  // three jobs, each over its own line's readings: distinct prompts with known answers
  const lines = { a: ['28', '31', '29', '33'], b: ['25', '24', '27'], c: ['26', '27', '29', '30'] } as Record<string, string[]>;
  const jobs = Object.keys(lines).map((n) => hotJob({ name: n, input: { topics: [`site/${n}/temp`], window: '1h' }, alerts: [] }));
  for (const maxBatch of [1, 2]) {
    const r = await agentWith({ jobs, extra: { 'max-batch': maxBatch } });
    const inbox = await new Inbox(r.url).start([`test/replies/${r.device}`]);
    try {
      for (const [n, values] of Object.entries(lines)) await publishReadings(inbox, r.agent, values, `site/${n}/temp`);
      r.shared.hold();
      await r.scheduler.advance(5 * 60_000);
      // one job run holds the engine; the other two wait in the queue
      await until(() => r.shared.calls.length === 1 && r.agent.queue.size === 2, 'one run started and two waiting');
      await inbox.publish(`reasond/${r.device}/task`, { id: `live-${maxBatch}`, prompt: 'What is 17 + 25?', max_new_tokens: 64, temperature: 0, reply_to: `test/replies/${r.device}` });
      if (maxBatch === 2) {
        // the row the jobs leave free takes the live task at once, though the jobs came first
        await until(() => r.shared.calls.length === 2, 'the live task to start beside the running job');
        t.is(r.agent.runningTasks.length, 2);
        t.is(r.agent.queue.size, 2);
      } else {
        await until(() => r.agent.queue.size === 3, 'the live task queued');
      }
      r.shared.release();
      t.is((await inbox.final(`live-${maxBatch}`)).json.answer, '42');
      await r.agent.p.jobs.idle();
      const prompts = r.shared.calls.map((c) => JSON.parse(c) as string);
      const byJob = Object.fromEntries(Object.entries(lines).map(([n, v]) => [rendered(v), n]));
      // the first job run, then the live task, then the two that waited, in the order they fired (a, b, c)
      t.deepEqual(prompts.map((p) => byJob[p] ?? p), ['a', 'What is 17 + 25?', 'b', 'c']);
      t.deepEqual((await runs(r.agent)).map((x) => [x.id, x.job, x.state, x.answer]), [[1, 'a', 'ok', '5'], [2, 'b', 'ok', '2'], [3, 'c', 'ok', '4']]);
    } finally {
      r.shared.release();
      await inbox.stop();
      await r.agent.stop();
    }
  }
});

test.serial('a run that fails on its input records the error, publishes it, and the agent goes on serving; the next run succeeds', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'plc-export.csv');
  writeFileSync(file, `line,value\n${READINGS.map((v, i) => `line${i},${v}`).join('\n')}\n`);
  const r = await agentWith({ jobs: [hotJob({ name: 'plc', input: { file }, alerts: [] })] });
  const inbox = await new Inbox(r.url).start([`test/replies/${r.device}`, `reasond/${r.device}/jobs/+/result`]);
  try {
    writeFileSync(file, 'line,value\nline1,28.5,extra\n');
    await r.scheduler.advance(5 * 60_000);
    await r.agent.p.jobs.idle();
    const failed = (await inbox.next((m) => m.json?.run_id === 1, 'the failed run')).json as JobResultMessage;
    t.like(failed, { status: 'error', error: { code: 'invalid_request', message: `${file} row 2 has 3 fields; the header has 2` }, input: { kind: 'file', rows: 0, used_rows: 0, hash: '', reduction: 'none' } });
    rmSync(file);
    await r.scheduler.advance(5 * 60_000);
    await r.agent.p.jobs.idle();
    t.like((await runs(r.agent))[1], { state: 'error', error_code: 'invalid_request' });
    t.regex((await runs(r.agent))[1].error_message!, /^the job's input file cannot be read: ENOENT/);
    // the agent still answers tasks
    await inbox.publish(`reasond/${r.device}/task`, { id: 'after-failure', prompt: 'What is 17 + 25?', max_new_tokens: 64, temperature: 0, reply_to: `test/replies/${r.device}` });
    t.is((await inbox.final('after-failure')).json.answer, '42');
    writeFileSync(file, `line,value\n${READINGS.map((v, i) => `line${i},${v}`).join('\n')}\n`);
    await r.scheduler.advance(5 * 60_000);
    await r.agent.p.jobs.idle();
    t.like((await runs(r.agent))[2], { state: 'ok', answer: ANSWER, input_kind: 'file', input_rows: 4 });
  } finally {
    await inbox.stop();
    await r.agent.stop();
  }
});

test.serial('missed runs while the agent was off: catch_up once runs the last missed slot once at start; skip runs none', async (t) => {
  for (const catchUp of ['once', 'skip'] as const) {
    const dataDir = tempDir('reasond-jobs-');
    const clock = new ManualClock(T0);
    const device = `cu-${catchUp}-${randomUUID().slice(0, 4)}`;
    const a = await agentWith({ jobs: [hotJob({ catch_up: catchUp, alerts: [] })], dataDir, clock, device });
    const inbox = await new Inbox(a.url).start([]);
    await publishReadings(inbox, a.agent, READINGS);
    await inbox.stop();
    await a.scheduler.advance(5 * 60_000); // the run at SLOT
    await a.agent.p.jobs.idle();
    await a.agent.stop();
    clock.ms += 17 * 60_000; // off over the next three slots (SLOT + 5, + 10 and + 15 minutes)
    const b = await agentWith({ jobs: [hotJob({ catch_up: catchUp, alerts: [] })], dataDir, clock, device });
    try {
      await b.agent.p.jobs.idle();
      const rows = (await runs(b.agent)).map((x) => [x.trigger, x.scheduled_at, x.state]);
      if (catchUp === 'once') t.deepEqual(rows, [['schedule', SLOT, 'ok'], ['catch_up', SLOT + 15 * 60_000, 'ok']]);
      else t.deepEqual(rows, [['schedule', SLOT, 'ok']]);
    } finally {
      await b.agent.stop();
    }
  }
});

test.serial('jobs/run and reasond jobs: a dry run gives the rendered prompt and rows; a run now is stored and answered; list and history read the database; an unknown job is refused', async (t) => {
  const r = await agentWith({ jobs: [hotJob()] });
  const inbox = await new Inbox(r.url).start([`reasond/${r.device}/response/#`]);
  try {
    await publishReadings(inbox, r.agent, READINGS);
    await inbox.publish(`reasond/${r.device}/request/jobs/run`, { id: 'd1', job: 'hot', dry_run: true });
    const dry = (await inbox.next((m) => m.json?.id === 'd1', 'the dry run')).json;
    t.is(dry.status, 'ok');
    t.is(dry.data.prompt, rendered(READINGS));
    t.deepEqual(dry.data.rows.map((x: { sensor: string; text: string }) => [x.sensor, x.text]), READINGS.map((v) => ['line1', v]));
    t.deepEqual(await runs(r.agent), [], 'a dry run stores nothing');
    await inbox.publish(`reasond/${r.device}/request/jobs/run`, { id: 'r1', job: 'hot' });
    const now = (await inbox.next((m) => m.json?.id === 'r1', 'the run')).json;
    t.like(now.data, { type: 'job_result', run_id: 1, trigger: 'manual', status: 'ok', answer: ANSWER });
    t.false('scheduled_at' in now.data);
    await inbox.publish(`reasond/${r.device}/request/jobs/run`, { id: 'u1', job: 'nope' });
    t.deepEqual((await inbox.next((m) => m.json?.id === 'u1', 'the refusal')).json, { id: 'u1', status: 'error', error: { code: 'invalid_request', message: 'no job is named "nope"; the config has hot' } });

    // the same through the CLI, with the agent's own config file
    const config = join(tempDir(), 'config.json');
    writeFileSync(config, JSON.stringify({ device_id: r.device, data_dir: r.dataDir, embedded_port: Number(new URL(r.url).port), jobs: [hotJob()] }));
    const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'jobs', ...args, '--config', config], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } });
    t.is((await cli('run', 'hot')).stdout, `${ANSWER}\n`);
    const dryText = (await cli('run', 'hot', '--dry-run')).stdout;
    t.true(dryText.startsWith('input: topics, 4 row(s) read, 4 used; reduction: none\n'), dryText);
    t.true(dryText.endsWith(`prompt:\n${rendered(READINGS)}\n`), dryText);
    const history = JSON.parse((await cli('history', 'hot', '--json', '--since', '2026-01-01')).stdout);
    t.deepEqual(history.map((h: JobRunRow) => [h.id, h.trigger, h.state, h.answer, h.alerts]), [[2, 'manual', 'ok', ANSWER, ['moved more than 3 °C']], [1, 'manual', 'ok', ANSWER, ['moved more than 3 °C']]]);
    const list = JSON.parse((await cli('list', '--json')).stdout);
    t.like(list[0], { name: 'hot', enabled: true, schedule: '*/5 * * * *', timezone: 'UTC', catch_up: 'once', alerts: ['moved more than 3 °C'], last_run: { run_id: 2, state: 'ok', answer: ANSWER, value: Number(ANSWER) } });
    t.true(list[0].next_run > Date.now() && list[0].next_run <= Date.now() + 5 * 60_000);
    const table = (await cli('list')).stdout.split('\n');
    t.regex(table[0], /^job +schedule +next run +last run +last outcome +input$/);
    t.regex(table[1], new RegExp(`^hot +\\*/5 \\* \\* \\* \\* UTC +\\S+ +#2 \\S+ +"${ANSWER}" +topics site/\\+/temp \\(last 1h\\)$`));
    const unknown = await cli('history', 'nope').catch((e) => e);
    t.is(unknown.code, 2);
    t.is(unknown.stderr, 'reasond: invalid_request: no job is named "nope" in the agent config; it has hot\n');
    const badTimeout = await cli('run', 'hot', '--timeout-ms', 'abc').catch((e) => e);
    t.is(badTimeout.code, 2);
    t.is(badTimeout.stderr, 'reasond: invalid_request: --timeout-ms must be a whole number of milliseconds above 0; got "abc"\n');
    const badLimit = await cli('history', 'hot', '--limit', '0').catch((e) => e);
    t.is(badLimit.code, 2);
    t.is(badLimit.stderr, 'reasond: invalid_request: --limit must be a whole number above 0; got "0"\n');
  } finally {
    await inbox.stop();
    await r.agent.stop();
  }
});

test.serial('an input too large for the model is cut by the stated rule: max_rows, then halved to fit the context; the run records how', async (t) => {
  const r = await agentWith({ jobs: [hotJob({ input: { topics: ['site/+/temp'], window: '1h', max_rows: 200 } })] });
  const inbox = await new Inbox(r.url).start([]);
  try {
    const values = [...Array(300).keys()].map((i) => String(25 + (i % 10)));
    await publishReadings(inbox, r.agent, values);
    await r.scheduler.advance(5 * 60_000);
    await r.agent.p.jobs.idle();
    const [row] = await runs(r.agent);
    t.is(row.input_rows, 300);
    // 200 rows leave no room for the job's 200-token answer in the 512-position context; 100 neither; 50 do
    t.is(row.reduction, "downsampled 300 rows to 200 (max_rows; evenly within each topic, first and last kept); then halved to 50 rows (evenly within each topic), to fit the model's context");
    t.is(row.used_rows, 50);
    const given = /^Temperature readings: (.*) \(°C\)\. Difference between first and last value\?$/.exec(row.prompt!)![1].split(', ');
    t.is(given.length, 50);
    t.deepEqual([given[0], given[49]], [values[0], values[299]], 'the first and last readings are kept');
    const usage = JSON.parse(row.usage!);
    t.true(usage.prompt_tokens + 200 <= 512);
    t.is(row.state, 'ok');
  } finally {
    await inbox.stop();
    await r.agent.stop();
  }
});

test.serial('reasond start refuses a job whose SQL writes, naming the job, before loading the model', async (t) => {
  const dir = tempDir();
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ data_dir: join(dir, 'data'), jobs: [{ name: 'w', schedule: '* * * * *', input: { sql: "WITH x AS (SELECT 1) INSERT INTO readings (topic, at) SELECT 'a', 1 FROM x" }, prompt: 'x' }] }));
  const e = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'start', '--config', config, '--embedded-port', String(await freePort())], { cwd: repoRoot }).catch((x) => x);
  t.is(e.code, 1);
  t.true(e.stderr.includes(`reasond: invalid_config: jobs[0].input.sql: writes to the database (a job's query must only read); got "WITH x AS (SELECT 1) INSERT INTO readings (topic, at) SELECT 'a', 1 FROM x"`), e.stderr);
  t.false(e.stderr.includes('model reasond-tiny'), 'the model was not loaded');
});
