/**
 * Runs provider-probe-child.ts in its own node process and returns its report (issue 17): the
 * doctor's output stays free of native log lines, and a provider whose library crashes the process
 * takes down only the child.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ProviderProbe {
  name: string;
  loads: boolean;
  error?: string;
}

// TypeScript under tsx (tests, dev) and JavaScript once built, like the engine worker
const fromSource = import.meta.url.endsWith('.ts');
const childPath = fileURLToPath(new URL(`./provider-probe-child${fromSource ? '.ts' : '.js'}`, import.meta.url));

export function probeProvidersApart(modelPath: string, timeoutMs = 120_000): Promise<ProviderProbe[]> {
  return new Promise((resolve) => {
    const args = [...(fromSource ? ['--import', 'tsx'] : []), childPath, modelPath];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const failed = (why: string) => resolve([{ name: 'cpu', loads: false, error: why }]);
    child.on('error', (e) => {
      clearTimeout(timer);
      failed(`the probe process could not start: ${e.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        const report = JSON.parse(out.trim().split('\n').pop() ?? '') as ProviderProbe[];
        if (Array.isArray(report)) return resolve(report);
      } catch {
        // no report: explained below
      }
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = err.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
      failed(`the probe process ${how} before reporting${tail ? `; stderr: ${tail}` : ''}`);
    });
  });
}
