/**
 * A bench implementation in a worker thread of its own (issue 13): the floor
 * and transformers.js each get a heap with nothing else in it, as the engine's
 * forward passes do, so no one pays for another's garbage collection. Calls
 * are `{ op, ...args }` objects answered by `serveCalls` in the worker.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../engine/spawn-worker.js';

interface Reply {
  id: number;
  value?: unknown;
  error?: string;
}

export class WorkerClient {
  private worker?: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  constructor(private readonly base: string, private readonly name: string, private readonly data: unknown) {}

  start(): void {
    this.worker = spawnWorker(this.base, this.name, this.data);
    this.worker.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve(m.value);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`the ${this.name} worker exited with code ${code}`)));
  }

  call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error(`the ${this.name} worker is not started`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...args, op, id });
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.call('stop').catch(() => {});
    this.worker = undefined;
    worker.removeAllListeners('exit');
    await worker.terminate();
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}

/** A full collection on demand: V8's own flag, set at run time, then read from a fresh context. */
export function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * The worker side: each message's op names a handler; its value (or error message) goes back.
 * After each call, outside any timed region, the worker collects its garbage: a whole-prompt pass
 * at 4096 tokens hands the floor and transformers.js 2.5 GB of logits, and two such workers that
 * each waited for V8's own schedule to free them ran the 24 GB build machine out of memory.
 */
export function serveCalls(handlers: Record<string, (m: any) => unknown>): void {
  const port = parentPort!;
  const gc = collector();
  port.on('message', async (m: { id: number; op: string }) => {
    try {
      const handler = handlers[m.op];
      if (!handler) throw new Error(`no handler for ${m.op}`);
      const value = await handler(m);
      gc();
      port.postMessage({ id: m.id, value } satisfies Reply);
    } catch (e) {
      gc();
      port.postMessage({ id: m.id, error: (e as Error).message } satisfies Reply);
    }
  });
}
