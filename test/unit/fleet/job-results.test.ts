/**
 * The controller's latest job results (issue 18): which messages it keeps, which it logs and
 * ignores, and how `fleet jobs` prints them.
 */
import test from 'ava';
import { JobResults } from '../../../src/fleet/job-results.js';
import { ago, jobsTable } from '../../../src/fleet/tables.js';
import { jobResultTopic, type JobResultMessage } from '../../../src/protocol/index.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

const result = (device: string, job: string, o: Partial<JobResultMessage> = {}): JobResultMessage => ({
  type: 'job_result', job, device, run_id: 1, status: 'ok', trigger: 'schedule', started_at: NOW - 61_000, finished_at: NOW - 60_000,
  answer: '42', value: 42, input: { kind: 'sql', rows: 3, used_rows: 3, hash: 'ab'.repeat(32), reduction: 'none' }, alerts: [], created_at: NOW - 60_000, ...o,
});

const feed = (jobs: JobResults, device: string, job: string, body: unknown) =>
  jobs.ingest('reasond', jobResultTopic('reasond', device, job), Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));

test('keeps the latest valid result per device and job, sorted by device then job; an empty payload removes one', (t) => {
  const logs: string[] = [];
  const jobs = new JobResults((l) => logs.push(l));
  t.true(feed(jobs, 'pi-02', 'b', result('pi-02', 'b')));
  t.true(feed(jobs, 'pi-01', 'z', result('pi-01', 'z')));
  t.true(feed(jobs, 'pi-01', 'a', result('pi-01', 'a', { run_id: 1 })));
  t.true(feed(jobs, 'pi-01', 'a', result('pi-01', 'a', { run_id: 2 })));
  t.deepEqual(jobs.list().map((r) => [r.device, r.job, r.run_id]), [['pi-01', 'a', 2], ['pi-01', 'z', 1], ['pi-02', 'b', 1]]);
  t.deepEqual(jobs.list('pi-02').map((r) => r.job), ['b']);
  t.true(feed(jobs, 'pi-01', 'a', ''));
  t.deepEqual(jobs.list().map((r) => [r.device, r.job]), [['pi-01', 'z'], ['pi-02', 'b']]);
  t.deepEqual(logs, []);
});

test('other topics are not its own; bad messages are logged and leave the last good one in place', (t) => {
  const logs: string[] = [];
  const jobs = new JobResults((l) => logs.push(l));
  t.false(jobs.ingest('reasond', 'reasond/pi-01/status', Buffer.from('{}')));
  t.false(jobs.ingest('reasond', 'other/pi-01/jobs/a/result', Buffer.from('{}')));
  t.true(feed(jobs, 'pi-01', 'a', result('pi-01', 'a')));
  t.true(feed(jobs, 'pi-01', 'a', 'not json'));
  t.true(feed(jobs, 'pi-01', 'a', { ...result('pi-01', 'a'), run_id: 'two' }));
  t.true(feed(jobs, 'pi-01', 'a', result('pi-02', 'a')));
  t.deepEqual(logs, [
    'job result on reasond/pi-01/jobs/a/result ignored: not JSON',
    'job result on reasond/pi-01/jobs/a/result ignored: run_id must be integer; got "two"',
    'job result on reasond/pi-01/jobs/a/result ignored: it names device "pi-02", job "a"',
  ]);
  t.deepEqual(jobs.list(), [result('pi-01', 'a')]);
});

test('ago: seconds, minutes, hours for two days, then the ISO time', (t) => {
  t.is(ago(NOW - 5_000, NOW), '5 s ago');
  t.is(ago(NOW + 5_000, NOW), '0 s ago'); // a board clock ahead of ours
  t.is(ago(NOW - 12 * 60_000, NOW), '12 min ago');
  t.is(ago(NOW - 5 * 3_600_000, NOW), '5 h ago');
  t.is(ago(NOW - 3 * 86_400_000, NOW), '2026-05-29T12:00:00Z');
});

test('jobsTable: a paragraph answer on one cut line, the error code of a failed run, alerts joined', (t) => {
  const long = result('pi-01', 'report', { answer: 'Line 2 ran hottest,\nat 81.5 °C, and it crossed its limit twice in the hour.', value: undefined, alerts: ['over_limit', 'value > 80'] });
  const bad = result('pi-02', 'plc', { status: 'error', answer: undefined, value: undefined, error: { code: 'internal', message: 'boom' }, trigger: 'catch_up' });
  delete long.value;
  delete bad.value;
  t.is(jobsTable([long, bad], NOW), [
    'DEVICE  JOB     STATUS  ANSWER                                           VALUE  ALERTS                  FINISHED  TRIGGER',
    'pi-01   report  ok      Line 2 ran hottest, at 81.5 °C, and it crossed…  -      over_limit, value > 80  60 s ago  schedule',
    'pi-02   plc     error   internal                                         -      -                       60 s ago  catch_up',
    '',
  ].join('\n'));
});
