/**
 * MQTT 5 on the default path (issue 20): `reasond start` with no broker runs Mosquitto, when it is
 * installed, as its embedded broker, so the docs' `mosquitto_rr -V mqttv5` example is answered. A
 * kill -9 of the agent takes its Mosquitto along (the port is free for the restart). Without
 * Mosquitto, or with embedded_broker aedes, the agent runs aedes and says MQTT 5 needs Mosquitto.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { embeddedBroker } from '../../src/agent/build.js';
import { loadConfig } from '../../src/agent/config.js';
import { Engine } from '../../src/engine/index.js';
import { EmbeddedBroker, MosquittoBroker } from '../../src/mqtt/index.js';
import { agentFlags, spawnAgent } from '../helpers/agents.js';
import { freePort, hasMosquitto, stopChild } from '../helpers/brokers.js';
import { tempDir, tinyRandom } from '../helpers/models.js';
import { until } from '../helpers/waiting.js';

const maybe = hasMosquitto ? test.serial : test.serial.skip;

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = new Socket().once('connect', () => (s.destroy(), resolve(true))).once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });

/** mosquitto_rr: one MQTT 5 request, its reply printed. */
function mosquittoRr(port: number, topic: string, payload: object): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('mosquitto_rr', ['-V', 'mqttv5', '-p', String(port), '-t', topic, '-e', `replies/${Date.now()}`, '-m', JSON.stringify(payload), '-W', '60']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

maybe('reasond start with no broker runs Mosquitto: mosquitto_rr -V mqttv5 is answered; kill -9 takes Mosquitto along', async (t) => {
  const port = await freePort();
  const dataDir = tempDir('reasond-m5-');
  const setup = { device: `m5-${port}`, embeddedPort: port, dataDir };
  let agent = spawnAgent(setup);
  try {
    await until(() => agent.output().includes('ready: tasks on'), 'the agent to start', 90_000);
    t.true(agent.output().includes(`embedded MQTT broker (Mosquitto, MQTT 5 and 3.1.1) listening on mqtt://127.0.0.1:${port}`), agent.output());
    const engine = new Engine({ model: tinyRandom, threads: 1 });
    await engine.start();
    const want = await engine.generate({ prompt: '2+2?', max_new_tokens: 6, temperature: 0 });
    await engine.stop();
    const rr = await mosquittoRr(port, 'reasond/pool/default/task', { id: 't1', prompt: '2+2?', max_new_tokens: 6, temperature: 0 });
    t.is(rr.code, 0, rr.stderr);
    const reply = JSON.parse(rr.stdout);
    t.like(reply, { id: 't1', type: 'result', status: 'ok', answer: want.answer, device: setup.device });

    agent.child.kill('SIGKILL');
    await agent.exited;
    // its Mosquitto stops with it: nothing keeps the port for the restart
    await until(async () => !(await listening(port)), 'the embedded Mosquitto to stop', 10_000);
    agent = spawnAgent(setup);
    await until(() => agent.output().includes('ready: tasks on'), 'the agent to start again', 90_000);
    const again = await mosquittoRr(port, `reasond/${setup.device}/task`, { id: 't2', prompt: '2+2?', max_new_tokens: 6, temperature: 0 });
    t.is(JSON.parse(again.stdout).answer, want.answer);
  } finally {
    await stopChild(agent.child);
  }
  // a clean stop stops it too
  t.false(await listening(port));
});

maybe('embedded_broker aedes: MQTT 3.1.1 only, as it says; mosquitto_rr -V mqttv5 is refused', async (t) => {
  const port = await freePort();
  const agent = spawnAgent({ device: `aedes-${port}`, embeddedPort: port, extra: { 'embedded-broker': 'aedes' } });
  try {
    await until(() => agent.output().includes('ready: tasks on'), 'the agent to start', 90_000);
    t.true(agent.output().includes(`embedded MQTT broker (3.1.1) listening on mqtt://127.0.0.1:${port}`), agent.output());
    const rr = await mosquittoRr(port, 'reasond/pool/default/task', { id: 't1', prompt: '2+2?' });
    t.not(rr.code, 0);
    t.regex(rr.stderr, /Unsupported Protocol Version|Connection error/i);
  } finally {
    await stopChild(agent.child);
  }
});

test('with no Mosquitto installed: auto falls back to aedes and says why; embedded_broker mosquitto is refused', (t) => {
  const config = (embedded: string) => loadConfig({ cli: { ...agentFlags({ device: 'x' }), 'embedded-broker': embedded }, env: {} });
  const logged: string[] = [];
  const none = () => undefined;
  t.true(embeddedBroker(config('auto'), (l) => logged.push(l), none) instanceof EmbeddedBroker);
  t.deepEqual(logged, ['mosquitto is not installed: the embedded broker is aedes, MQTT 3.1.1 only (MQTT 5 clients such as mosquitto_rr -V mqttv5 need Mosquitto: apt-get install mosquitto)']);
  t.true(embeddedBroker(config('aedes'), (l) => logged.push(l), () => '/usr/sbin/mosquitto') instanceof EmbeddedBroker);
  t.is(logged.length, 1, 'aedes chosen on purpose: no notice');
  t.true(embeddedBroker(config('auto'), (l) => logged.push(l), () => '/usr/sbin/mosquitto') instanceof MosquittoBroker);
  const e = t.throws(() => embeddedBroker(config('mosquitto'), () => {}, none));
  t.is((e as { code?: string }).code, 'invalid_config');
  t.is(e!.message, 'embedded_broker is mosquitto, but no mosquitto is installed (not on PATH nor in /usr/sbin): apt-get install mosquitto, or set embedded_broker to auto or aedes');
});
