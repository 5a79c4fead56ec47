/**
 * Runs probe-child.ts on a staged package in a separate node process and
 * turns its report into an PackageError or a pass. No report (a native
 * crash, a signal, a timeout) means the model is rejected as probe_crashed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PackageError } from '../package/errors.js';
import type { ProbeReport } from './probe-child.js';

export interface ProbeOptions {
  threads?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

// TypeScript under tsx (tests, dev) and JavaScript once built, like the engine worker
const fromSource = import.meta.url.endsWith('.ts');
const childPath = fileURLToPath(new URL(`./probe-child${fromSource ? '.ts' : '.js'}`, import.meta.url));

export type Prober = (dir: string, o?: ProbeOptions) => Promise<ProbeReport>;

export const probePackage: Prober = (dir, o = {}) =>
  new Promise((resolve, reject) => {
    const args = [...(fromSource ? ['--import', 'tsx'] : []), childPath, dir, String(o.threads ?? 0)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: o.signal });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 300000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new PackageError('probe_crashed', `the probe process failed: ${e.message}`));
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      let report: ProbeReport | undefined;
      try {
        report = JSON.parse(line);
      } catch {
        report = undefined;
      }
      if (!report) {
        const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
        return reject(new PackageError('probe_crashed', `the probe process ${how} before reporting; stderr: ${err.trim().split('\n').slice(-3).join(' | ') || '(empty)'}`));
      }
      if (!report.ok) return reject(new PackageError(report.reason ?? 'probe_crashed', report.message ?? 'the probe failed'));
      resolve(report);
    });
  });
