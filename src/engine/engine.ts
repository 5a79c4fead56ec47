/**
 * The engine as the rest of reasond sees it: start() loads a model in a
 * worker thread, generate() streams deltas and resolves to a result,
 * stop() unloads. Prompt token counting runs here on the main thread (the
 * tokenizer is cheap; the worker may be busy in a forward pass).
 */
import { Worker } from 'node:worker_threads';
import { ReasondError, reviveError } from '../errors.js';
import { loadChatTemplate, type ChatTemplate } from './chat-template.js';
import { promptTokens } from './generate.js';
import { readModelFolder } from './model-folder.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { loadTokenizer, type TextTokenizer } from './tokenizer.js';
import type { GenerateHooks, GenerateRequest, GenerationResult, LoadOptions, ModelInfo } from './types.js';

export interface EngineOptions extends LoadOptions {
  model: string;
  log?: (line: string) => void;
}

interface Pending {
  resolve: (r: GenerationResult) => void;
  reject: (e: Error) => void;
  hooks: GenerateHooks;
  cancel: Int32Array;
  detach: () => void;
}

// The worker is TypeScript under tsx (tests) and JavaScript once built.
const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./worker${fromSource ? '.ts' : '.js'}`, import.meta.url);

function spawnWorker(): Worker {
  if (!fromSource) return new Worker(workerUrl);
  // Under tsx the worker must register tsx's loader itself before importing TypeScript.
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(boot, { eval: true });
}

export class Engine {
  private worker?: Worker;
  private modelInfo?: ModelInfo;
  private counter?: { tokenizer: TextTokenizer; template: ChatTemplate };
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private loading?: { resolve: (i: ModelInfo) => void; reject: (e: Error) => void };
  private failure?: Error;

  constructor(private readonly options: EngineOptions) {}

  get info(): ModelInfo {
    if (!this.modelInfo) throw new ReasondError('model_unavailable', 'the engine has not loaded a model');
    return this.modelInfo;
  }

  async start(): Promise<ModelInfo> {
    const spec = readModelFolder(this.options.model, this.options.dtype);
    const tokenizer = loadTokenizer(spec.tokenizerJson, spec.tokenizerConfig);
    const template = loadChatTemplate(spec.tokenizerConfig, {
      bos_token: tokenizer.specialToken('bos_token'),
      eos_token: tokenizer.specialToken('eos_token'),
      pad_token: tokenizer.specialToken('pad_token'),
    });
    this.counter = { tokenizer, template };
    this.worker = spawnWorker();
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (e) => this.fail(new ReasondError('internal', `engine worker failed: ${e.message}`)));
    this.worker.on('exit', (code) => this.fail(new ReasondError('model_unavailable', `engine worker exited with code ${code}`)));
    const { model: dir, log: _log, ...load } = this.options;
    this.modelInfo = await new Promise<ModelInfo>((resolve, reject) => {
      this.loading = { resolve, reject };
      this.post({ type: 'load', dir, options: load });
    });
    return this.modelInfo;
  }

  /** Prompt tokens after the chat template; throws context_overflow when no room is left to answer. */
  countPromptTokens(req: GenerateRequest): number {
    if (!this.counter || !this.modelInfo) throw new ReasondError('model_unavailable', 'the engine has not loaded a model');
    return promptTokens({ ...this.counter, info: this.modelInfo }, req).length;
  }

  generate(req: GenerateRequest, hooks: GenerateHooks = {}, internal: { useCache?: boolean } = {}): Promise<GenerationResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.worker || !this.modelInfo) return Promise.reject(new ReasondError('model_unavailable', 'the engine has not loaded a model'));
    const id = this.nextId++;
    const buffer = new SharedArrayBuffer(4);
    const cancel = new Int32Array(buffer);
    const onAbort = () => Atomics.store(cancel, 0, 1);
    if (hooks.signal?.aborted) onAbort();
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<GenerationResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, hooks, cancel, detach: () => hooks.signal?.removeEventListener('abort', onAbort) });
      this.post({ type: 'generate', id, req, cancel: buffer, useCache: internal.useCache !== false });
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    for (const p of this.pending.values()) Atomics.store(p.cancel, 0, 1);
    worker.removeAllListeners('exit');
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      worker.once('exit', done);
      worker.on('message', (m: FromWorker) => {
        this.onMessage(m);
        if (m.type === 'unloaded') void worker.terminate();
      });
      worker.postMessage({ type: 'unload' } satisfies ToWorker);
    });
    this.fail(new ReasondError('model_unavailable', 'the engine was stopped'));
  }

  private post(m: ToWorker): void {
    this.worker!.postMessage(m);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'log':
        this.options.log?.(m.line);
        return;
      case 'loaded':
        this.loading?.resolve(m.info);
        this.loading = undefined;
        return;
      case 'load_failed':
        this.loading?.reject(reviveError(m.error));
        this.loading = undefined;
        return;
      case 'delta':
        this.pending.get(m.id)?.hooks.onDelta?.(m.delta);
        return;
      case 'result':
      case 'failed': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        p.detach();
        if (m.type === 'result') p.resolve(m.result);
        else p.reject(reviveError(m.error));
        return;
      }
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.loading?.reject(error);
    this.loading = undefined;
    for (const p of this.pending.values()) {
      p.detach();
      p.reject(error);
    }
    this.pending.clear();
  }
}
