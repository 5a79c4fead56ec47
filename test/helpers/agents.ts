/**
 * Agents for the integration tests: in this process (sharing one engine,
 * counted and optionally held) or as a real `reasond start` child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { buildAgent, type Agent } from '../../src/agent/index.js';
import { loadConfig } from '../../src/agent/config.js';
import { BorrowedEngine } from '../../src/bench/engines.js';
import type { GenerateHooks, GenerateRequest, GenerationResult } from '../../src/engine/index.js';
import type { TaskEngine } from '../../src/engine/index.js';
import { repoRoot, tempDir, tinyRandom } from './models.js';

/** Borrows a started engine: start/stop do nothing, generate calls are counted and can be held. */
export class SharedEngine extends BorrowedEngine {
  calls: string[] = [];
  private gate?: Promise<void>;
  private openGate?: () => void;

  /** Until release(), generate() waits before it starts: the queue fills deterministically. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  override async generate(req: GenerateRequest, hooks?: GenerateHooks): Promise<GenerationResult> {
    this.calls.push(JSON.stringify(req.messages ?? req.prompt));
    // A held task still notices cancellation, as a running one would.
    if (this.gate) await Promise.race([this.gate, aborted(hooks?.signal)]);
    return super.generate(req, hooks);
  }
}

const aborted = (signal?: AbortSignal) =>
  new Promise<void>((resolve) => (signal?.aborted ? resolve() : signal?.addEventListener('abort', () => resolve(), { once: true })));

export interface AgentSetup {
  device: string;
  /** Broker URL; absent = the agent starts its own embedded broker on embeddedPort. */
  broker?: string;
  embeddedPort?: number;
  pool?: string;
  dataDir?: string;
  extra?: Record<string, unknown>;
  /** This boot's id, as the kernel would give it (a power cut is another one). */
  bootId?: string;
  /** spawnAgent only: extra node flags (e.g. --import a fault-injection module) and environment. */
  nodeArgs?: string[];
  env?: Record<string, string>;
}

export function agentFlags(s: AgentSetup): Record<string, unknown> {
  return {
    'device-id': s.device,
    'data-dir': s.dataDir ?? tempDir('reasond-agent-'),
    model: tinyRandom,
    broker: s.broker ?? '',
    'embedded-port': s.embeddedPort,
    pool: s.pool ?? 'default',
    'reconnect-ms': 300,
    'default-max-new-tokens': 16,
    ...s.extra,
  };
}

export async function startAgent(engine: TaskEngine, s: AgentSetup): Promise<Agent> {
  const config = loadConfig({ cli: agentFlags(s), env: {} });
  const agent = buildAgent(config, { makeEngine: () => engine, bootId: s.bootId, log: process.env.REASOND_TEST_LOG ? (l) => process.stderr.write(`[${s.device}] ${l}\n`) : () => {} });
  await agent.start();
  return agent;
}

export interface AgentProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `reasond start` as a real process (for kill -9 and SIGTERM). */
export function spawnAgent(s: AgentSetup): AgentProcess {
  const flags = agentFlags(s);
  const args = Object.entries(flags).filter(([, v]) => v !== undefined).map(([k, v]) => `--${k}=${v}`);
  const child = spawn(process.execPath, ['--import', 'tsx', ...(s.nodeArgs ?? []), join(repoRoot, 'src/cli/index.ts'), 'start', ...args, '--threads=1'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...s.env },
  });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}
