/**
 * Starts a worker thread from a module URL next to the caller: the .js file
 * once built, the .ts file under tsx (tests, `node --import tsx`), where the
 * worker must register tsx's loader itself before importing TypeScript.
 */
import { Worker } from 'node:worker_threads';

export function spawnWorker(base: string, name: string, workerData?: unknown): Worker {
  const fromSource = base.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, base);
  if (!fromSource) return new Worker(url, { workerData });
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
