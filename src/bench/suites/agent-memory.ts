/**
 * The memory and event-loop suites (issue 9): one child process that is an
 * agent (see ../agent-probe.ts), compared with the model's file size and
 * the targets (RSS <= file + 80 MB, no growth, event-loop p99 <= 20 ms).
 */
import { spawn } from 'node:child_process';
import type { ProbeArgs } from '../agent-probe.js';

const fromSource = import.meta.url.endsWith('.ts');
const probe = new URL(`../agent-probe${fromSource ? '.ts' : '.js'}`, import.meta.url);

export async function agentProbe(args: ProbeArgs): Promise<any> {
  const node = [...(fromSource ? ['--import', 'tsx'] : []), '--expose-gc', probe.pathname, JSON.stringify(args)];
  const child = spawn(process.execPath, node, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the agent probe exited with ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`);
  return JSON.parse(out.trim().split('\n').at(-1)!);
}
