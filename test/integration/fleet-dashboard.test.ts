/**
 * Issue 7: the controller's dashboard in a real headless browser (Debian's
 * chromium driven by playwright-core). A fleet is seeded the way agents
 * seed it, with retained status and metrics messages and their events; the
 * page shows every device and a chart of the selected one has data points.
 * Issue 20: the tables are in the HTML the server sends (read with
 * JavaScript off), the recent events leave out a download's middle percents,
 * the package store is listed, the script's refresh brings new rows, and a
 * screenshot is left in test-artifacts/dashboard.png for CI to keep.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { FromSchema } from 'json-schema-to-ts';
import { chromium, type Page } from 'playwright-core';
import { loadControllerConfig } from '../../src/fleet/config.js';
import type { boardThrottlingSchema, JobAlertEvent, memoryEventSchema, TaskRejectedEvent, thermalEventSchema } from '../../src/protocol/index.js';
import { metricsMessage, modelUpdate, onlineStatus } from '../helpers/messages.js';
import { buildController } from '../../src/fleet/controller.js';
import { DashboardServer } from '../../src/fleet/http/server.js';
import { freePort, startBroker, stopChild } from '../helpers/brokers.js';
import { ManualClock, ManualScheduler } from '../helpers/manual-scheduler.js';
import { repoRoot, tempDir } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';
import { makeKeys, makePackage } from '../helpers/packages.js';
import { until } from '../helpers/waiting.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Where CI finds the screenshot (git-ignored). */
const SCREENSHOT = join(repoRoot, 'test-artifacts', 'dashboard.png');

const status = (device: string, pool: string) => onlineStatus({ device, pool });
const iso = () => new Date().toISOString();
const thermal = (device: string, from: 'normal' | 'soft', to: 'normal' | 'soft', temp_c: number): FromSchema<typeof thermalEventSchema> =>
  ({ type: 'thermal', from, to, reason: to === 'soft' ? 'temperature' : 'cooled', temp_c, zone: 'cpu-thermal', at: iso(), limits: { soft_c: 80, hard_c: 90, hysteresis_c: 5 }, device });
const memory: FromSchema<typeof memoryEventSchema> = { type: 'memory', from: 'normal', to: 'pressure', available_bytes: 150 * 1048576, total_bytes: 4 * 2 ** 30, at: iso(), device: 'pi-01' };
const flags = { under_voltage: true, freq_capped: false, throttled: true, soft_temp_limit: false };
const throttling: FromSchema<typeof boardThrottlingSchema> = { type: 'board_throttling', raw: '0x50005', now: flags, since_boot: { ...flags, freq_capped: true }, at: iso(), device: 'pi-02' };
const rejected: TaskRejectedEvent = { type: 'task_rejected', id: 't-<7>', topic: 'reasond/pi-01/task', error: { code: 'busy', message: 'the queue is full (8 tasks)' }, created_at: Date.now() };
const alert: JobAlertEvent = { type: 'job_alert', job: 'hottest-line', run_id: 7, rule: 'value > 80', answer: 'line <b>2</b> at 81.5', value: 81.5, device: 'pi-01', created_at: Date.now() };

/** Each table's rows as their cells' text, the time cells (`N s ago`) made stable. */
const cells = (page: Page, id: string) => page.$$eval(`#${id} tbody tr`, (trs) =>
  trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (/^\d+ s ago$/.test(td.textContent ?? '') ? 'N s ago' : td.textContent))));
const metrics = (device: string, tps: number, temp: number) =>
  ({ ...metricsMessage({ device, tps, temp, tasks: 4, latency_ms: 900, queue_depth: 0, rss_bytes: 300 * 1048576, version: '1.0.0' }), at: new Date().toISOString() });

test('the dashboard shows a seeded fleet and charts with data points (headless chromium)', async (t) => {
  if (!existsSync(CHROMIUM)) return t.fail(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  t.timeout(300_000);
  const broker = await startBroker('embedded');
  const keys = makeKeys();
  const config = loadControllerConfig({
    config: '', 'trusted-keys': keys.pubPath, broker: broker.url, 'data-dir': tempDir('reasond-controller-'), 'http-host': '127.0.0.1', 'http-port': await freePort(), 'package-host': '127.0.0.1', 'package-port': 0,
  }, {});
  const controller = buildController(config, { scheduler: new ManualScheduler(new ManualClock(Date.now())), log: () => {} });
  await controller.start();
  const seed = await new Inbox(broker.url).start([]);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  t.teardown(async () => {
    await browser.close();
    await seed.stop();
    await controller.stop();
    await broker.stop();
  });

  const devices = [['jetson-01', 'line-1'], ['pi-01', 'line-1'], ['pi-02', 'line-2']];
  for (const [d, pool] of devices) await seed.publish(`reasond/${d}/status`, status(d, pool), { retain: true });
  // three metrics messages for the first device: three points in its history
  // (one at a time: samples are keyed by the controller's receipt time in ms)
  for (const [i, tps] of [21.5, 23, 22].entries()) {
    await seed.publish('reasond/jetson-01/metrics', metrics('jetson-01', tps, 50 + i), { retain: true });
    await until(async () => (await controller.p.history.query('jetson-01', Date.now() - 60_000, Date.now() + 1000, 60_000)).length === i + 1, `history sample ${i + 1}`);
  }
  await until(async () => (await controller.p.registry.list()).length === 3, 'the registry to hold the seeded fleet');

  // a rollout to show: nobody answers the seeded devices' deploys, so it stays at its canary wave
  const pkg = await makePackage({ keys, version: '1.3.0' });
  for (const path of ['reasond-model.json', ...pkg.manifest.files.map((f) => f.path)]) {
    await controller.p.packages.write({ name: 'tiny', version: '1.3.0', path, offset: 0, data: readFileSync(join(pkg.dir, path)) });
  }
  await controller.p.packages.commit('tiny', '1.3.0');
  const rollout = await controller.p.engine.create({
    name: 'tiny', version: '1.3.0', target: { kind: 'pool', pool: 'line-1' },
    strategy: { canary: 1, waves: [100], max_failures_percent: 0, rollback_on_abort: true, max_tps_drop_percent: 50, max_error_increase_percent: 10 },
    by: 'alice (key 0123456789abcdef)',
  });

  // events as agents send them, one at a time in this order: pi-02 downloads a version outside the
  // rollout (a percent per step, then a rejection), and the other kinds the events table lists
  const events: [string, object][] = [
    ...[0, 30, 60, 100].map((percent): [string, object] => ['pi-02', modelUpdate({ state: 'downloading', version: '1.2.0', percent })]),
    ['pi-02', modelUpdate({ state: 'verifying', version: '1.2.0' })],
    ['pi-02', modelUpdate({ state: 'rejected', version: '1.2.0', reason: 'smoke_failed', message: 'smoke_failed: asked "2+2?", expected "4", got "5"' })],
    ['jetson-01', thermal('jetson-01', 'normal', 'soft', 81.5)],
    ['pi-01', memory],
    ['pi-02', throttling],
    ['pi-01', rejected],
    ['pi-01', alert],
    ['pi-01', { type: 'debug', note: 'not one the table lists' }],
  ];
  for (const [device, e] of events) await seed.publish(`reasond/${device}/events`, e, { qos: 1 });
  await until(async () => (await controller.p.registry.recentEvents('pi-01')).length === 4, 'the seeded events');

  // security headers on the page and the JSON (issue 16)
  for (const path of ['', 'api/status']) {
    const res = await fetch(controller.dashboardUrl + path);
    t.is(res.headers.get('x-content-type-options'), 'nosniff', path);
    t.is(res.headers.get('x-frame-options'), 'DENY', path);
    t.is(res.headers.get('content-security-policy'), "frame-ancestors 'none'; object-src 'none'; base-uri 'none'", path);
    t.is(res.headers.get('referrer-policy'), 'no-referrer', path);
  }

  // first paint: with JavaScript off, every table is in the HTML the server sent
  const expected = {
    fleet: [
      ['jetson-01', 'yes', 'line-1', 'tiny@1.0.0', '22.0', '52.0', '300', '0', 'no', '', 'N s ago'],
      ['pi-01', 'yes', 'line-1', 'tiny@1.0.0', '', '', '', '', 'no', '', 'N s ago'],
      ['pi-02', 'yes', 'line-2', 'tiny@1.0.0', '', '', '', '', 'no', 'rejected tiny@1.2.0 (smoke_failed: asked "2+2?", expected "4", got "5")', 'N s ago'],
    ],
    rollouts: [[rollout.id, 'tiny@1.3.0', 'pool=line-1', 'alice (key 0123456789abcdef)', 'running', '1/2', '0: jetson-01 (deploying)1: pi-01 (waiting)']],
    events: [
      ['pi-01', 'N s ago', 'job_alert', 'hottest-line raised value > 80 (run 7): line <b>2</b> at 81.5'],
      ['pi-01', 'N s ago', 'task_rejected', 'busy: the queue is full (8 tasks) (task t-<7>)'],
      ['pi-02', 'N s ago', 'board_throttling', 'firmware flags now: under_voltage, throttled; since boot: under_voltage, freq_capped, throttled'],
      ['pi-01', 'N s ago', 'memory', 'normal → pressure: 150 MiB of 4.0 GiB available'],
      ['jetson-01', 'N s ago', 'thermal', 'normal → soft (temperature, 81.5 °C on cpu-thermal)'],
      ['pi-02', 'N s ago', 'model_update', 'tiny@1.2.0 rejected: smoke_failed: asked "2+2?", expected "4", got "5"'],
      ['pi-02', 'N s ago', 'model_update', 'tiny@1.2.0 verifying'],
      // of the download, its first and last percents only
      ['pi-02', 'N s ago', 'model_update', 'tiny@1.2.0 downloading 100%'],
      ['pi-02', 'N s ago', 'model_update', 'tiny@1.2.0 downloading 0%'],
    ],
    packages: [['tiny', '1.3.0', `${(pkg.manifest.files.reduce((n, f) => n + f.size, 0) / 1024).toFixed(1)} KiB`, pkg.manifest.signature!.key_id, 'N s ago', '']],
    jobs: [['no job results']],
  };
  const still = await browser.newContext({ javaScriptEnabled: false });
  const bare = await still.newPage();
  await bare.goto(controller.dashboardUrl);
  t.is(await bare.textContent('#totals'), '3 devices: 3 online, 0 throttled; 22.0 tokens/s in all');
  for (const [id, rows] of Object.entries(expected)) t.deepEqual(await cells(bare, id), rows, id);
  t.is(await bare.evaluate(() => typeof (window as any).uPlot), 'undefined', 'no script ran');
  // escaped: what devices send is text, not markup
  t.is(await bare.$$eval('#events td.summary b', (b) => b.length), 0);
  t.is(await bare.innerHTML('#events tr[data-type="job_alert"] td.summary'), 'hottest-line raised value &gt; 80 (run 7): line &lt;b&gt;2&lt;/b&gt; at 81.5');
  await still.close();
  // the same rows as JSON
  const api = await (await fetch(`${controller.dashboardUrl}api/events`)).json();
  t.deepEqual(api.events.map((e: { device: string; type: string; summary: string }) => [e.device, 'N s ago', e.type, e.summary]), expected.events);
  t.deepEqual(api.events[0].event, alert);
  t.deepEqual((await (await fetch(`${controller.dashboardUrl}api/events?limit=2`)).json()).events.length, 2);
  t.deepEqual((await (await fetch(`${controller.dashboardUrl}api/packages`)).json()).packages.map((p: { name: string; version: string }) => `${p.name}@${p.version}`), ['tiny@1.3.0']);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(controller.dashboardUrl);
  await page.waitForSelector('body[data-loaded="yes"]');
  const rows = await page.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)));
  t.deepEqual(rows, [['jetson-01', 'yes', 'line-1', 'tiny@1.0.0'], ['pi-01', 'yes', 'line-1', 'tiny@1.0.0'], ['pi-02', 'yes', 'line-2', 'tiny@1.0.0']]);
  await page.waitForSelector('#charts .chart[data-series="tokens_per_s"] canvas');
  t.is(await page.textContent('#charts-title'), 'charts: jetson-01');
  const points = await page.$$eval('#charts .chart', (divs) => divs.map((d) => [(d as HTMLElement).dataset.series, Number((d as HTMLElement).dataset.points)]));
  // the page asks for 24 h in 300 buckets (288 s each): the three samples are one or two points
  t.deepEqual(points.map(([series]) => series), ['tokens_per_s', 'latency_ms', 'temp_c', 'rss_mib']);
  t.true(points.every(([, n]) => (n as number) >= 1), JSON.stringify(points));
  // the time axis spans the 24 h asked for, not the years uPlot picks for a lone point (issue 20)
  const spans = await page.$$eval('#charts .chart', (divs) => divs.map((d) => Number((d as HTMLElement).dataset.to) - Number((d as HTMLElement).dataset.from)));
  t.deepEqual(spans, [86400, 86400, 86400, 86400]);
  // totals, the throttled column and last seen
  t.is(await page.textContent('#totals'), '3 devices: 3 online, 0 throttled; 22.0 tokens/s in all');
  t.deepEqual(await page.$$eval('#fleet tbody td.throttled', (tds) => tds.map((td) => td.textContent)), ['no', 'no', 'no']);
  t.true((await page.$$eval('#fleet tbody td.seen', (tds) => tds.map((td) => td.textContent))).every((x) => /^\d+ s ago$/.test(x ?? '')));
  // a board with no metrics: each chart says so instead of drawing an empty axis
  await page.click('#fleet tr[data-device="pi-02"]');
  await page.waitForFunction(() => document.querySelector('#charts-title')?.textContent === 'charts: pi-02' && document.querySelectorAll('#charts .empty').length === 4);
  t.is(await page.textContent('#charts .chart[data-series="temp_c"] .empty'), 'temperature °C: nothing reported by pi-02 (no temperature sensor)');
  t.is(await page.textContent(`#rollouts tr[data-rollout="${rollout.id}"] td.target`), 'pool=line-1');
  const waves = await page.$$eval(`#rollouts tr[data-rollout="${rollout.id}"] .wave`, (w) => w.map((x) => x.textContent));
  t.deepEqual(waves, ['0: jetson-01 (deploying)', '1: pi-01 (waiting)']);
  t.regex((await page.textContent(`#rollouts tr[data-rollout="${rollout.id}"]`)) ?? '', /tiny@1\.3\.0.*running/);
  t.is(await page.textContent(`#rollouts tr[data-rollout="${rollout.id}"] td.by`), 'alice (key 0123456789abcdef)');
  t.is(await page.$$eval('script[src="/assets/uPlot.iife.min.js"]', (s) => s.length), 1);
  t.true(await page.evaluate(() => typeof (window as any).uPlot === 'function'), 'uPlot loaded from the controller');

  // live: the script's refresh (every 5 s) brings a new event and keeps the selected row
  await seed.publish('reasond/jetson-01/events', thermal('jetson-01', 'soft', 'normal', 72), { qos: 1 });
  await page.waitForFunction(() => document.querySelector('#events tbody tr td.summary')?.textContent === 'soft → normal (cooled, 72.0 °C on cpu-thermal)', undefined, { timeout: 30_000 });
  t.deepEqual((await cells(page, 'events')).slice(1), expected.events);
  t.deepEqual(await page.$$eval('#fleet tr.selected', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.device)), ['pi-02']);

  // the screenshot CI keeps: the small fleet, first device's charts drawn
  await page.click('#fleet tr[data-device="jetson-01"]');
  await page.waitForFunction(() => document.querySelector('#charts-title')?.textContent === 'charts: jetson-01' && document.querySelectorAll('#charts canvas').length === 4);
  rmSync(SCREENSHOT, { force: true });
  mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  const png = readFileSync(SCREENSHOT);
  t.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
  t.is(png.toString('latin1', 12, 16), 'IHDR');
  const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
  t.is(width, 1280);
  t.true(height >= 900 && height < 10_000, `height ${height}`);
  const size = statSync(SCREENSHOT).size;
  t.true(size > 20_000 && size < 10_000_000, `${size} bytes`);

  // the same fleet in `reasond fleet status --watch`: the table again and again, until stopped
  const watch = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'fleet', 'status', '--watch', '--interval=1', `--broker=${broker.url}`], { cwd: repoRoot });
  let out = '';
  watch.stdout.on('data', (b) => (out += b));
  await until(() => out.split('DEVICE').length > 2, 'two refreshes of fleet status --watch');
  await stopChild(watch);
  t.regex(out, /^DEVICE +ONLINE +MODEL +TOK\/S +TEMP +MEMORY +QUEUE +UPDATE\njetson-01 +yes +tiny@1\.0\.0 +22\.0 +52\.0°C +300 MiB +0 +-\n/);
});

test('the dashboard listens on this machine only by default, and says truthfully where it listens', async (t) => {
  t.is(loadControllerConfig({ config: '' }, {}).http_host, '127.0.0.1');
  const local = new DashboardServer({ host: '127.0.0.1', port: 0, api: {} as never, log: () => {} });
  await local.start();
  t.regex(local.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  await local.stop();
  const open = new DashboardServer({ host: '0.0.0.0', port: 0, api: {} as never, log: () => {} });
  await open.start();
  t.regex(open.url, new RegExp(`^http://${hostname()}:\\d+/ \\(every interface, 0\\.0\\.0\\.0: anyone on the network can read it\\)$`));
  await open.stop();
});
