/** The machine and software a result was measured on (issue 9). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { onnxRuntimeVersion } from '../engine/onnx-session.js';
import { agentVersion, packageRoot } from '../core/paths.js';

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function transformersVersion(): string | undefined {
  try {
    return JSON.parse(readFileSync(join(packageRoot, 'node_modules/@huggingface/transformers/package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    arch: os.arch(),
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    load_average_at_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function versions() {
  return {
    reasond: agentVersion,
    git_commit: gitCommit(),
    node: process.version,
    onnxruntime_node: onnxRuntimeVersion(),
    transformers_js: transformersVersion(),
  };
}
