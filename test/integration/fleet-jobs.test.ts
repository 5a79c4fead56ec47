/**
 * Issue 18: the controller shows each device's latest scheduled-job results. Agents are played by
 * retained job_result messages on a real broker (two devices, and one message that does not match
 * the protocol schema); `reasond fleet jobs` (JSON and table), the dashboard in headless chromium
 * (answers escaped, alerts highlighted), a cleared retained message, and a restarted controller
 * that gets the results back from the broker.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { loadControllerConfig } from '../../src/fleet/config.js';
import { buildController, type Controller } from '../../src/fleet/controller.js';
import { jobResultTopic, type JobResultMessage } from '../../src/protocol/index.js';
import { freePort, startBroker } from '../helpers/brokers.js';
import { fleet, fleetJson } from '../helpers/fleet.js';
import { onlineStatus } from '../helpers/messages.js';
import { ManualClock, ManualScheduler } from '../helpers/manual-scheduler.js';
import { tempDir } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';
import { makeKeys } from '../helpers/packages.js';
import { until } from '../helpers/waiting.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const HOUR = 3_600_000;
// three hours ago reads `3 h ago` however long the test takes; an old run reads as its ISO time
const recent = Date.now() - 3 * HOUR;
const old = Date.UTC(2025, 0, 2, 3, 4, 5);
const input = { kind: 'topics', rows: 120, used_rows: 4, hash: 'ab'.repeat(32), reduction: 'aggregate per topic', from: recent - HOUR, to: recent } as const;

// an answer a dashboard must not read as HTML
const hottest: JobResultMessage = {
  type: 'job_result', job: 'hottest-line', device: 'pi-01', run_id: 7, status: 'ok', trigger: 'schedule', scheduled_at: recent - 2000,
  started_at: recent - 1500, finished_at: recent, answer: 'line <b>2</b> & "3" at 81.5', value: 81.5, reasoning: 'line-2 peaked at 81.5',
  finish_reason: 'stop', input, alerts: ['over_limit'], usage: { prompt_tokens: 90, completion_tokens: 12 }, timing: { queue_ms: 3, total_ms: 1400 },
  model: { name: 'tiny', version: '1.0.0', dtype: 'q8', file: 'onnx/model_quantized.onnx' }, created_at: recent,
};
const failed: JobResultMessage = {
  type: 'job_result', job: 'plc-export', device: 'jetson-01', run_id: 3, status: 'error', trigger: 'manual', started_at: old - 500, finished_at: old,
  error: { code: 'invalid_request', message: 'file /srv/plc/export.csv: no such file' }, input: { kind: 'file', rows: 0, used_rows: 0, hash: 'cd'.repeat(32), reduction: 'none' },
  alerts: [], created_at: old,
};

interface Site {
  controller: Controller;
  broker: string;
  logs: string[];
  start: () => Promise<Controller>;
}

test('fleet jobs and the dashboard show each device\'s latest job results; a cleared one goes; a restarted controller has them back', async (t) => {
  if (!existsSync(CHROMIUM)) return t.fail(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  t.timeout(300_000);
  const broker = await startBroker('embedded');
  const config = loadControllerConfig({
    config: '', 'trusted-keys': makeKeys().pubPath, broker: broker.url, 'data-dir': tempDir('reasond-controller-'), 'http-host': '127.0.0.1', 'http-port': await freePort(), 'package-host': '127.0.0.1', 'package-port': 0,
  }, {});
  const site: Site = {
    broker: broker.url, logs: [], controller: undefined as never,
    start: async () => {
      site.controller = buildController(config, { scheduler: new ManualScheduler(new ManualClock(Date.now())), log: (l) => site.logs.push(l) });
      await site.controller.start();
      return site.controller;
    },
  };
  await site.start();
  const seed = await new Inbox(broker.url).start([]);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  t.teardown(async () => {
    await browser.close();
    await seed.stop();
    await site.controller.stop();
    await broker.stop();
  });

  for (const device of ['jetson-01', 'pi-01']) await seed.publish(`reasond/${device}/status`, onlineStatus({ device }), { retain: true, qos: 1 });
  // a result with no `input` and a status the schema does not know: logged and ignored
  const { input: _, ...noInput } = { ...hottest, device: 'pi-02', status: 'maybe' };
  await seed.publish(jobResultTopic('reasond', 'pi-02', 'hottest-line'), noInput, { retain: true, qos: 1 });
  await seed.publish(jobResultTopic('reasond', 'pi-01', 'hottest-line'), hottest, { retain: true, qos: 1 });
  await seed.publish(jobResultTopic('reasond', 'jetson-01', 'plc-export'), failed, { retain: true, qos: 1 });
  await until(() => site.controller.p.jobs.list().length === 2, 'the controller to hold both job results');
  t.deepEqual(site.logs.filter((l) => l.startsWith('job result')), [
    'job result on reasond/pi-02/jobs/hottest-line/result ignored: input: is required; status must be equal to one of the allowed values; got "maybe"',
  ]);

  // the API, through the CLI: exactly the two valid results, as published, by device then job
  const all = await fleetJson(site.broker, ['jobs']);
  t.deepEqual(all.jobs, [failed, hottest]);
  t.is(typeof all.at, 'number');
  t.deepEqual((await fleetJson(site.broker, ['jobs', '--device', 'pi-01'])).jobs, [hottest]);
  const unknown = await fleet(site.broker, ['jobs', '--device', 'pi-09']);
  t.is(unknown.code, 2);
  t.is(unknown.stderr, 'reasond: invalid_request: unknown device "pi-09"\n');

  const table = await fleet(site.broker, ['jobs']);
  t.is(table.code, 0, table.stderr);
  t.is(table.stdout, [
    'DEVICE     JOB           STATUS  ANSWER                       VALUE  ALERTS      FINISHED              TRIGGER',
    'jetson-01  plc-export    error   invalid_request              -      -           2025-01-02T03:04:05Z  manual',
    'pi-01      hottest-line  ok      line <b>2</b> & "3" at 81.5  81.5   over_limit  3 h ago               schedule',
    '',
  ].join('\n'));

  // the dashboard: its JSON, the HTML as the server sends it (the rows are in it, escaped: issue 20), and the page in a browser
  const res = await fetch(`${site.controller.dashboardUrl}api/jobs?device=jetson-01`);
  t.deepEqual((await res.json()).jobs, [failed]);
  const html = await (await fetch(site.controller.dashboardUrl)).text();
  t.true(html.includes('<tr data-device="pi-01" data-job="hottest-line" class="alerting"><td>pi-01</td><td>hottest-line</td><td class="st-ok">ok</td>' +
    '<td class="answer">line &lt;b&gt;2&lt;/b&gt; &amp; &quot;3&quot; at 81.5</td><td>81.5</td><td class="alerts"><span class="alert">over_limit</span></td>'), html);
  const page = await browser.newPage();
  await page.goto(site.controller.dashboardUrl);
  await page.waitForSelector('body[data-loaded="yes"]');
  const rows = async () => page.$$eval('#jobs tbody tr', (trs) => trs.map((tr) => [tr.className, ...[...tr.querySelectorAll('td')].map((td) => td.textContent)]));
  t.deepEqual(await rows(), [
    ['', 'jetson-01', 'plc-export', 'error', 'invalid_request: file /srv/plc/export.csv: no such file', '', '', '2025-01-02 03:04', 'manual'],
    ['alerting', 'pi-01', 'hottest-line', 'ok', 'line <b>2</b> & "3" at 81.5', '81.5', 'over_limit', '3 h ago', 'schedule'],
  ]);
  // escaped: the answer's tags are text, not elements
  t.is(await page.$$eval('#jobs td.answer b', (b) => b.length), 0);
  t.is(await page.innerHTML('#jobs tr[data-device="pi-01"] td.answer'), 'line &lt;b&gt;2&lt;/b&gt; &amp; "3" at 81.5');
  t.deepEqual(await page.$$eval('#jobs .alert', (s) => s.map((x) => x.textContent)), ['over_limit']);
  t.is(await page.getAttribute('#jobs tr[data-device="jetson-01"] td.finished', 'title'), '2025-01-02T03:04:05.000Z');

  // a cleared retained message (an empty payload) removes the entry
  await seed.publish(jobResultTopic('reasond', 'pi-01', 'hottest-line'), '', { retain: true, qos: 1 });
  await until(() => site.controller.p.jobs.list().length === 1, 'the cleared result to go');
  t.deepEqual((await fleetJson(site.broker, ['jobs'])).jobs, [failed]);
  t.deepEqual((await fleetJson(site.broker, ['jobs', '--device', 'pi-01'])).jobs, []);
  await page.reload();
  await page.waitForSelector('body[data-loaded="yes"]');
  t.deepEqual((await rows()).map((r) => r[1]), ['jetson-01']);

  // results live in memory only: a restarted controller reads them back from the broker's retained messages
  await site.controller.stop();
  await site.start();
  await until(() => site.controller.p.jobs.list().length === 1, 'the restarted controller to read the retained result');
  t.deepEqual((await fleetJson(site.broker, ['jobs'])).jobs, [failed]);
});
