/**
 * Real MQTT brokers for the integration tests: the embedded one (aedes, in
 * this process) and Mosquitto (a child process) when the binary exists.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../src/bench/brokers.js';
import { EmbeddedBroker } from '../../src/mqtt/index.js';
import { tempDir } from './models.js';

export type BrokerKind = 'embedded' | 'mosquitto';

export interface TestBroker {
  kind: BrokerKind;
  port: number;
  url: string;
  /** Whether the broker speaks MQTT 5 (Mosquitto) or only 3.1.1 (the embedded aedes). */
  mqtt5: boolean;
  stop(): Promise<void>;
}

export const hasMosquitto = spawnSync('mosquitto', ['-h']).error === undefined;

/** The brokers every integration test runs against. */
export function brokerKinds(): BrokerKind[] {
  if (!hasMosquitto) {
    process.stderr.write('NOTE: mosquitto is not installed: the integration tests run against the embedded broker only (CI installs it)\n');
    return ['embedded'];
  }
  return ['embedded', 'mosquitto'];
}

export { freePort };

export async function startBroker(kind: BrokerKind, port?: number): Promise<TestBroker> {
  const p = port ?? (await freePort());
  const url = `mqtt://127.0.0.1:${p}`;
  if (kind === 'embedded') {
    const b = new EmbeddedBroker({ host: '127.0.0.1', port: p });
    await b.start();
    return { kind, port: p, url, mqtt5: false, stop: () => b.stop() };
  }
  const dir = tempDir('reasond-mosquitto-');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${p} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (b) => (log += b));
  await waitForPort(p, child, () => log);
  return { kind, port: p, url, mqtt5: true, stop: () => stopChild(child) };
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not open port ${port}: ${log()}`);
}
