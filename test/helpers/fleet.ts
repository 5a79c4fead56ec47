/**
 * The fleet tests' pieces (issue 7): `reasond controller` as a real process
 * (so it can be killed mid-rollout), `reasond fleet ...` as a real process,
 * signed tiny packages, and a simulated fleet (scripts/fleet-sim.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { SimFleet, type FleetOptions } from '../../scripts/fleet-sim.js';
import type { ExecutionContext } from 'ava';
import { startBroker, stopChild, type BrokerKind, type TestBroker } from './brokers.js';
import { makeKeys, makePackage, type Keys } from './packages.js';
import { repoRoot, tempDir } from './models.js';
import { until } from './waiting.js';

const cli = join(repoRoot, 'src/cli/index.ts');
const log = (prefix: string) => (process.env.REASOND_TEST_LOG ? (l: string) => process.stderr.write(`[${prefix}] ${l}\n`) : undefined);

export interface ControllerProcess {
  child: ChildProcess;
  output: () => string;
  dataDir: string;
}

/** The operator every fleet test acts as (issue 16): the controllers list its .pub, `fleet()` signs with its .key. */
export const operator = makeKeys('alice');
export const operatorKeyPath = join(operator.dir, 'alice.key');

export async function startController(broker: string, trusted: string, dataDir = tempDir('reasond-controller-'), extra: string[] = []): Promise<ControllerProcess> {
  const args = ['--import', 'tsx', cli, 'controller', `--broker=${broker}`, `--data-dir=${dataDir}`, `--trusted-keys=${trusted}`, `--operator-keys=${operator.pubPath}`, ...extra,
    '--http-host=127.0.0.1', '--http-port=0', '--package-host=127.0.0.1', '--package-port=0', '--reconcile-s=1', '--config='];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  const l = log('controller');
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => { out += b; l?.(String(b).trimEnd()); });
  await until(() => out.includes('controller ready') || child.exitCode !== null, 'the controller to start');
  if (child.exitCode !== null) throw new Error(`the controller exited: ${out}`);
  return { child, output: () => out, dataDir };
}

export const stopController = (c: ControllerProcess, signal: NodeJS.Signals = 'SIGTERM') => stopChild(c.child, signal);

/**
 * `reasond fleet <args>` against the broker, signed as `operator` unless a key is given (null: none);
 * async so the embedded broker in this process keeps serving.
 */
export function fleet(broker: string, args: string[], key: string | null = operatorKeyPath): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const signing = key === null ? [] : [`--operator-key=${key}`];
    // HOME elsewhere: the default key file of whoever runs the tests must not sign for them
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'fleet', ...args, ...signing, `--broker=${broker}`, '--timeout=60'], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', HOME: operator.dir, REASOND_OPERATOR_KEY: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function fleetJson<T = any>(broker: string, args: string[]): Promise<T> {
  const r = await fleet(broker, [...args, '--json']);
  if (r.code !== 0) throw new Error(`reasond fleet ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface Packages {
  keys: Keys;
  /** tiny@1.0.0: what every simulated agent starts on. */
  base: string;
  /** tiny@1.3.0: what the rollouts deploy. */
  next: string;
}

export async function makePackages(): Promise<Packages> {
  const keys = makeKeys();
  const base = (await makePackage({ keys, version: '1.0.0' })).dir;
  const next = (await makePackage({ keys, version: '1.3.0' })).dir;
  return { keys, base, next };
}

export async function startFleet(o: Omit<FleetOptions, 'log'>): Promise<SimFleet> {
  const f = new SimFleet({ ...o, log: log('fleet') });
  try {
    await f.start();
  } catch (e) {
    await f.stop();
    throw e;
  }
  return f;
}

/** Waits until `fleet status` shows every listed device with the given model (name@version). */
export async function untilModels(broker: string, devices: string[], model: string): Promise<any[]> {
  let last: any[] = [];
  await until(async () => {
    last = (await fleetJson(broker, ['status'])).devices;
    return devices.every((d) => last.find((x) => x.device === d)?.model === model);
  }, `${devices.join(', ')} on ${model}`, 240_000);
  return last;
}

export interface Site {
  broker: TestBroker;
  packages: Packages;
  /** Replace it (e.g. after a SIGKILL and a restart on the same data dir): teardown stops whichever is here then. */
  controller: ControllerProcess;
  sim: SimFleet;
  devices: string[];
}

/**
 * A whole site for the fleet tests (#19: five tests repeated it): a broker, signed
 * tiny@1.0.0 and tiny@1.3.0, a controller process, `agents` simulated agents on
 * tiny@1.0.0 (all of them reported by `fleet status` before this returns), and a
 * teardown that stops them in reverse.
 */
export async function startSite(t: ExecutionContext, o: { agents: number; broker?: BrokerKind; failSmoke?: string[] }): Promise<Site> {
  const broker = await startBroker(o.broker ?? 'embedded');
  const packages = await makePackages();
  const controller = await startController(broker.url, packages.keys.pubPath);
  const sim = await startFleet({ agents: o.agents, broker: broker.url, model: packages.base, trustedKeys: packages.keys.pubPath, ...(o.failSmoke ? { failSmoke: o.failSmoke } : {}) });
  const site: Site = { broker, packages, controller, sim, devices: sim.agents.map((a) => a.device) };
  t.teardown(async () => {
    await sim.stop();
    await stopController(site.controller);
    await broker.stop();
  });
  await untilModels(broker.url, site.devices, 'tiny@1.0.0');
  return site;
}
