/**
 * The real `reasond start` under a stand-in for systemd's notify socket
 * (issue 8): READY once the model is loaded and the broker connected, then
 * WATCHDOG pings, then STOPPING on SIGTERM, in that order.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { listenNotify } from '../helpers/notify-socket.js';
import { repoRoot, tempDir, tinyRandom } from '../helpers/models.js';
import { until } from '../helpers/waiting.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

test('reasond start sends READY after the model and broker, WATCHDOG at half of WATCHDOG_USEC, STOPPING on SIGTERM', async (t) => {
  const sock = await listenNotify();
  t.teardown(() => sock.stop());
  const port = await freePort();
  const child = spawn(process.execPath, [
    '--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'start',
    `--device-id=notify-1`, `--data-dir=${tempDir('reasond-agent-')}`, `--model=${tinyRandom}`,
    `--embedded-port=${port}`, '--threads=1', '--metrics-interval=60',
  ], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // 200 ms: pings every 100 ms, so the test sees several without waiting long.
    env: { ...process.env, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '200000', NO_COLOR: '1' },
  });
  let log = '';
  child.stdout!.on('data', (b) => (log += b));
  child.stderr!.on('data', (b) => (log += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));

  await until(() => sock.messages.length > 0, `READY (agent log: ${log})`);
  // WATCHDOG_PID is unset here, as for a main process systemd started without it.
  t.is(sock.messages[0], `READY=1\nSTATUS=serving as notify-1\nMAINPID=${child.pid}`);
  t.regex(log, /agent notify-1 ready/, 'READY comes after the agent has started');
  await until(() => sock.messages.filter((m) => m === 'WATCHDOG=1').length >= 2, 'two watchdog pings');

  child.kill('SIGTERM');
  t.is(await exited, 0, log);
  const stopping = sock.messages.findIndex((m) => m.startsWith('STOPPING=1'));
  t.true(stopping > 0, sock.messages.join(' | '));
  t.is(sock.messages[stopping], 'STOPPING=1\nSTATUS=SIGTERM: stopping');
  t.true(sock.messages.slice(1, stopping).every((m) => m === 'WATCHDOG=1'), sock.messages.join(' | '));
  t.deepEqual(sock.messages.slice(stopping + 1), [], 'nothing after STOPPING: the watchdog stopped with it');
});

test('reasond controller sends READY once started and STOPPING on SIGTERM (reasond-controller.service is Type=notify too)', async (t) => {
  const { EmbeddedBroker } = await import('../../src/mqtt/index.js');
  const sock = await listenNotify();
  t.teardown(() => sock.stop());
  const port = await freePort();
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port });
  await broker.start();
  t.teardown(() => broker.stop());
  const child = spawn(process.execPath, [
    '--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'controller', `--broker=mqtt://127.0.0.1:${port}`,
    `--data-dir=${tempDir('reasond-controller-')}`, '--http-host=127.0.0.1', '--http-port=0', '--package-host=127.0.0.1', '--package-port=0',
  ], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '200000', NO_COLOR: '1' } });
  let log = '';
  child.stdout!.on('data', (b) => (log += b));
  child.stderr!.on('data', (b) => (log += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));

  await until(() => sock.messages.filter((m) => m === 'WATCHDOG=1').length >= 1, `READY and a watchdog ping (controller log: ${log})`);
  t.is(sock.messages[0], `READY=1\nSTATUS=controller serving\nMAINPID=${child.pid}`);
  child.kill('SIGTERM');
  t.is(await exited, 0, log);
  t.is(sock.messages.at(-1), 'STOPPING=1\nSTATUS=SIGTERM: stopping');
});
