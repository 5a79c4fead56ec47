/**
 * Issue 7: the controller's dashboard in a real headless browser (Debian's
 * chromium driven by playwright-core). A fleet is seeded the way agents
 * seed it, with retained status and metrics messages; the page shows every
 * device and a chart of the selected one has data points.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { chromium } from 'playwright-core';
import { loadControllerConfig } from '../../src/fleet/config.js';
import { metricsMessage, onlineStatus } from '../helpers/messages.js';
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

const status = (device: string, pool: string) => onlineStatus({ device, pool });
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

  // security headers on the page and the JSON (issue 16)
  for (const path of ['', 'api/status']) {
    const res = await fetch(controller.dashboardUrl + path);
    t.is(res.headers.get('x-content-type-options'), 'nosniff', path);
    t.is(res.headers.get('x-frame-options'), 'DENY', path);
    t.is(res.headers.get('content-security-policy'), "frame-ancestors 'none'; object-src 'none'; base-uri 'none'", path);
    t.is(res.headers.get('referrer-policy'), 'no-referrer', path);
  }

  const page = await browser.newPage();
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
  t.deepEqual(waves, ['0: jetson-01', '1: pi-01']);
  t.regex((await page.textContent(`#rollouts tr[data-rollout="${rollout.id}"]`)) ?? '', /tiny@1\.3\.0.*running/);
  t.is(await page.textContent(`#rollouts tr[data-rollout="${rollout.id}"] td.by`), 'alice (key 0123456789abcdef)');
  t.is(await page.$$eval('script[src="/assets/uPlot.iife.min.js"]', (s) => s.length), 1);
  t.true(await page.evaluate(() => typeof (window as any).uPlot === 'function'), 'uPlot loaded from the controller');

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
