/** The readings store, the input readers and the reduction rule of scheduled jobs (issue 18), on real SQLite files. */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrations } from '../../../src/agent/migrations.js';
import { lastFireBetween, nextFire } from '../../../src/core/cron.js';
import { capRows, downsample, halve, summaries, templateContext } from '../../../src/jobs/context.js';
import { parseCsv, readInput, sensorOf, type InputRow } from '../../../src/jobs/inputs.js';
import { numericAnswer, raisedAlerts, ReadingsStore, readValue } from '../../../src/jobs/index.js';
import { checkJobSql } from '../../../src/jobs/checks.js';
import { parseJobs } from '../../../src/jobs/spec.js';
import { Database } from '../../../src/store/index.js';
import { tempDir } from '../../helpers/models.js';

async function store(o: { keepMs?: number; maxRows?: number; payloadBytes?: number; now?: () => number } = {}) {
  const path = join(tempDir(), 'reasond.db');
  const db = new Database(path, migrations);
  await db.start();
  const readings = new ReadingsStore({
    db, rules: [{ filter: 'site/+/temp' }, { filter: 'plc/#', field: 'data.t' }], payloadBytes: o.payloadBytes ?? 1024,
    keepMs: o.keepMs ?? 3600_000, maxRows: o.maxRows ?? 1000, now: o.now ?? (() => 1_000_000), log: () => {},
  });
  return { db, readings, path };
}

test('a payload gives its value: a plain number as written, a JSON field by path, a JSON object\'s value', (t) => {
  t.deepEqual(readValue(' 21.50 '), { value: 21.5, text: '21.50' });
  t.deepEqual(readValue('{"data":{"t":"19.0"}}', 'data.t'), { value: 19, text: '19.0' });
  t.deepEqual(readValue('{"data":{"t":19.25}}', 'data.t'), { value: 19.25, text: '19.25' });
  t.deepEqual(readValue('{"value":7}'), { value: 7, text: '7' });
  t.deepEqual(readValue('{"state":"on"}', 'state'), { value: null, text: 'on' });
  t.deepEqual(readValue('not json'), { value: null, text: null });
});

test('readings are written in batches, read back by window and filter, payloads cut to their bound', async (t) => {
  let now = 1_000_000;
  const { db, readings } = await store({ payloadBytes: 16, now: () => now });
  t.true(readings.wants('site/line1/temp'));
  t.false(readings.wants('site/line1/humidity'));
  readings.add('site/line1/temp', Buffer.from('21.5'), 999_000);
  readings.add('site/line2/temp', Buffer.from('23.0'), 999_500);
  readings.add('plc/press/1', Buffer.from('{"data":{"t":55.5},"padding":"xxxxxxxxxxxxxxxx"}'), 999_600);
  readings.add('site/line1/temp', Buffer.from('22.5'), 1_000_000);
  // nothing is written until the batch goes (at most 200 ms later, or when window() reads)
  t.is((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM readings'))!.n, 0);
  const w = await readings.window(['site/+/temp'], 999_000, 1_000_000);
  t.deepEqual(w.map((r) => [r.topic, r.at, r.value, r.text]), [['site/line2/temp', 999_500, 23, '23.0'], ['site/line1/temp', 1_000_000, 22.5, '22.5']]);
  const plc = await readings.window(['plc/#', 'plc/press/+'], 0, 1_000_000);
  t.deepEqual(plc.map((r) => [r.topic, r.value, r.payload]), [['plc/press/1', 55.5, '{"data":{"t":55.']]);
  t.is(readings.written, 4);
  await db.stop();
});

test('retention forgets readings older than keep_ms, then the oldest beyond max_rows', async (t) => {
  let now = 10_000_000;
  const { db, readings } = await store({ keepMs: 60_000, maxRows: 3, now: () => now });
  for (let i = 0; i < 6; i++) readings.add('site/a/temp', Buffer.from(String(i)), now - 90_000 + i * 10_000);
  await readings.flush();
  // at: -90 s, -80, -70, -60, -50, -40: two are older than 60 s (-90, -80, -70 < -60 s... strictly older: -90, -80, -70)
  t.is(await readings.prune(), 3);
  t.deepEqual((await db.all<{ text: string }>('SELECT text FROM readings ORDER BY id')).map((r) => r.text), ['3', '4', '5']);
  for (let i = 6; i < 8; i++) readings.add('site/a/temp', Buffer.from(String(i)), now);
  await readings.flush();
  t.is(await readings.prune(), 2);
  t.deepEqual((await db.all<{ text: string }>('SELECT text FROM readings ORDER BY id')).map((r) => r.text), ['5', '6', '7']);
  await db.stop();
});

test('the sensor is the level the first + stands for, else the last level', (t) => {
  t.is(sensorOf(['site/+/temp'], 'site/line3/temp'), 'line3');
  t.is(sensorOf(['plc/#'], 'plc/press/1'), '1');
});

const row = (topic: string, value: number): InputRow => ({ topic, sensor: topic.split('/')[1], value, text: value.toFixed(1) });

test('downsampling keeps each topic\'s share evenly, with its first and last rows', (t) => {
  const rows = [...Array(10).keys()].map((i) => row('s/a/t', i)).concat([...Array(10).keys()].map((i) => row('s/b/t', 100 + i)));
  const d = downsample(rows, 6);
  t.deepEqual(d.map((r) => r.value), [0, 5, 9, 100, 105, 109]);
  t.deepEqual(capRows(rows, 6).text, 'downsampled 20 rows to 6 (max_rows; evenly within each topic, first and last kept)');
  t.deepEqual(capRows(rows, 20).text, 'none');
  const h = halve(rows, capRows(rows, 6));
  t.deepEqual(h.used.map((r) => r.value), [9, 109]);
  t.is(h.text, 'downsampled 20 rows to 6 (max_rows; evenly within each topic, first and last kept); then halved to 3 rows (evenly within each topic), to fit the model\'s context');
  t.is(halve(rows, h).text, 'downsampled 20 rows to 6 (max_rows; evenly within each topic, first and last kept); then halved to 1 row (evenly within each topic), to fit the model\'s context');
  const none = halve(rows, { used: [rows[0]], text: 'none' });
  t.deepEqual(none, { used: [], text: '20 rows; then no rows (per-topic summaries only), to fit the model\'s context', base: '20 rows' });
});

test('summaries cover every row read; their values list only the rows given to the prompt', (t) => {
  const rows = [row('s/a/t', 20.0), row('s/a/t', 22.5), row('s/a/t', 21.0), row('s/b/t', 30.0)];
  const s = summaries(rows, [rows[0], rows[2], rows[3]]);
  t.deepEqual(s, [
    { topic: 's/a/t', sensor: 'a', count: 3, min: 20, max: 22.5, mean: 21.2, first: 20, last: 21, values: [20, 21], texts: ['20.0', '21.0'] },
    { topic: 's/b/t', sensor: 'b', count: 1, min: 30, max: 30, mean: 30, first: 30, last: 30, values: [30], texts: ['30.0'] },
  ]);
  const ctx = templateContext({ job: 'j', now: Date.UTC(2026, 11, 1, 9, 5), clock: () => '9:05', window_s: 900 }, { kind: 'topics', rows, hash: 'h' }, { used: rows, text: 'none' });
  t.is(ctx.window, '15m');
  t.deepEqual(ctx.texts, ['20.0', '22.5', '21.0', '30.0']);
  t.deepEqual((ctx.summary as Record<string, { max: number }>).a.max, 22.5);
});

test('a CSV export: quoted fields, "" escapes, CRLF; a ragged row is an error naming it', (t) => {
  t.deepEqual(parseCsv('line,value,note\r\n1,20.5,"a, b"\r\n2,21,"say ""hi"""\r\n', 'x.csv'), [
    { line: '1', value: '20.5', note: 'a, b' }, { line: '2', value: '21', note: 'say "hi"' },
  ]);
  t.throws(() => parseCsv('a,b\n1\n', 'x.csv'), { message: 'x.csv row 2 has 1 fields; the header has 2' });
});

test('file and SQL inputs: rows with a value by field or column; a bad line names the file and the line', async (t) => {
  const dir = tempDir();
  const jsonl = join(dir, 'plc.jsonl');
  writeFileSync(jsonl, '{"topic":"press/1","m":{"t":61.5}}\n{"topic":"press/2","m":{"t":"63"}}\n');
  const { db, readings, path } = await store();
  const ro = Database.readOnly(path);
  await ro.start();
  const src = { readings, readonly: ro, now: () => 1_000_000, clock: () => '0:00' };
  const f = await readInput({ kind: 'file', file: jsonl, format: 'jsonl', field: 'm.t', max_rows: 60 }, src);
  t.deepEqual(f.rows.map((r) => [r.topic, r.value, r.text]), [['press/1', 61.5, '61.5'], ['press/2', 63, '63']]);
  writeFileSync(jsonl, '{"topic":"press/1"}\n{oops\n');
  await t.throwsAsync(readInput({ kind: 'file', file: jsonl, format: 'jsonl', max_rows: 60 }, src), { message: /^.*plc\.jsonl line 2 is not JSON/ });
  readings.add('site/a/temp', Buffer.from('20'), 999_000);
  await readings.flush();
  const q = await readInput({ kind: 'sql', sql: "SELECT topic, value FROM readings WHERE topic LIKE 'site/%'", max_rows: 60 }, src);
  t.deepEqual(q.rows, [{ topic: 'site/a/temp', value: 20, text: '20' }]);
  // the read-only connection refuses writes even if one got past the checks
  await t.throwsAsync(ro.run("INSERT INTO readings (topic, at) VALUES ('x', 1)"), { message: /readonly/ });
  await ro.stop();
  await db.stop();
});

test('SQL that writes, or does not compile against the agent database, is refused at start with the job and the query', async (t) => {
  const { db, path } = await store();
  const ro = Database.readOnly(path);
  await ro.start();
  const jobs = parseJobs([
    { name: 'ok', schedule: '* * * * *', input: { sql: 'SELECT COUNT(*) AS value FROM tasks' }, prompt: 'x' },
    { name: 'w', schedule: '* * * * *', input: { sql: "WITH x AS (SELECT 1) INSERT INTO readings (topic, at) SELECT 'a', 1 FROM x" }, prompt: 'x' },
    { name: 'n', schedule: '* * * * *', input: { sql: 'SELECT * FROM no_such_table' }, prompt: 'x' },
  ], 'jobs', []);
  const e = await t.throwsAsync(checkJobSql(jobs, ro));
  t.deepEqual((e as unknown as { problems: string[] }).problems, [
    'jobs[1].input.sql: writes to the database (a job\'s query must only read); got "WITH x AS (SELECT 1) INSERT INTO readings (topic, at) SELECT \'a\', 1 FROM x"',
    'jobs[2].input.sql: does not compile against the agent\'s database (SQLITE_ERROR: no such table: no_such_table); got "SELECT * FROM no_such_table"',
  ]);
  await ro.stop();
  await db.stop();
});

test('answers as numbers, and the alert rules they raise', (t) => {
  t.deepEqual(['3', '61.2', '61.2 °C', '-4', '42%', 'T2', 'about 3 or 4', 'never', '8:20', '3 readings'].map(numericAnswer), [3, 61.2, 61.2, -4, 42, undefined, undefined, undefined, undefined, undefined]);
  const rules = [{ name: 'hot', above: 30 }, { name: 'cold', below: 0 }, { name: 'T2', match: '^T2$' }];
  t.deepEqual(raisedAlerts(rules, '31', 31).map((r) => r.name), ['hot']);
  t.deepEqual(raisedAlerts(rules, 'T2', undefined).map((r) => r.name), ['T2']);
  t.deepEqual(raisedAlerts(rules, '30', 30), []);
});

test('cron in a time zone: the next slot and the last missed one', (t) => {
  const at = Date.UTC(2026, 11, 1, 6, 59, 30); // 07:59:30 in Berlin (CET)
  t.is(nextFire('0 8 * * *', 'Europe/Berlin', at), Date.UTC(2026, 11, 1, 7, 0, 0));
  t.is(nextFire('0 8 * * *', 'UTC', at), Date.UTC(2026, 11, 1, 8, 0, 0));
  t.is(lastFireBetween('*/5 * * * *', 'UTC', Date.UTC(2026, 11, 1, 6, 0), Date.UTC(2026, 11, 1, 6, 59, 30)), Date.UTC(2026, 11, 1, 6, 55));
  t.is(lastFireBetween('*/5 * * * *', 'UTC', Date.UTC(2026, 11, 1, 6, 55), Date.UTC(2026, 11, 1, 6, 59, 30)), undefined);
  t.is(lastFireBetween('30 */10 * * * *', 'UTC', 0, Date.UTC(2026, 11, 1, 6, 59, 30)), Date.UTC(2026, 11, 1, 6, 50, 30));
});
