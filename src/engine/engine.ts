/**
 * The engine as the rest of reasond sees it: start() loads a model in a
 * worker thread, generate() streams deltas and resolves to a result,
 * stop() unloads. The tokenizer lives in the worker only (a Qwen tokenizer
 * is ~150 MB of heap): the main thread renders the chat template, which
 * needs only tokenizer_config.json, and asks the worker for an exact count
 * only when a prompt might not fit (checkPrompt).
 */
import type { Worker } from 'node:worker_threads';
import { ReasondError, reviveError } from '../core/errors.js';
import { loadChatTemplate, type ChatTemplate } from './chat-template.js';
import { messagesOf } from './generate.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { spawnWorker } from './spawn-worker.js';
import type { GenerateHooks, GenerateRequest, GenerationResult, LoadOptions, ModelInfo } from './types.js';

type Loaded = Extract<FromWorker, { type: 'loaded' }>;

/** Tokens never outnumber the UTF-8 bytes of the text they encode; this margin covers a normalizer's prefix. */
const BYTES_MARGIN = 8;

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


export class Engine {
  private worker?: Worker;
  private modelInfo?: ModelInfo;
  private template?: ChatTemplate;
  private anyText = false;
  private readonly pending = new Map<number, Pending>();
  private readonly counts = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private loading?: { resolve: (loaded: Loaded) => void; reject: (e: Error) => void };
  private failure?: Error;

  /**
   * Forward passes the worker has run (it adds one after each and notifies): a thread may
   * Atomics.wait on it. Shared memory, so it moves while the main thread is busy or blocked.
   */
  readonly passCounter = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly options: EngineOptions) {}

  get info(): ModelInfo {
    if (!this.modelInfo) throw new ReasondError('model_unavailable', 'the engine has not loaded a model');
    return this.modelInfo;
  }

  async start(): Promise<ModelInfo> {
    this.worker = spawnWorker(import.meta.url, 'worker');
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (e) => this.fail(new ReasondError('internal', `engine worker failed: ${e.message}`)));
    this.worker.on('exit', (code) => this.fail(new ReasondError('model_unavailable', `engine worker exited with code ${code}`)));
    const { model: dir, log: _log, ...load } = this.options;
    let loaded: Loaded;
    try {
      loaded = await new Promise((resolve, reject) => {
        this.loading = { resolve, reject };
        this.post({ type: 'load', dir, options: load, passes: this.passCounter.buffer as SharedArrayBuffer });
      });
    } catch (e) {
      // A model that does not load leaves no worker behind (it would keep the process alive).
      const worker = this.worker;
      this.worker = undefined;
      worker?.removeAllListeners('exit');
      await worker?.terminate();
      this.fail(e as Error);
      throw e;
    }
    this.template = loadChatTemplate(loaded.tokenizerConfig);
    this.anyText = loaded.anyText;
    this.modelInfo = loaded.info;
    return this.modelInfo;
  }

  /** Exact prompt tokens after the chat template, counted by the worker's tokenizer (between forward passes);
   *  rejects with context_overflow when no room is left to answer. */
  countPromptTokens(req: GenerateRequest): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.worker || !this.modelInfo) return Promise.reject(new ReasondError('model_unavailable', 'the engine has not loaded a model'));
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.counts.set(id, { resolve, reject });
      this.post({ type: 'count', id, req });
    });
  }

  /**
   * Resolves when the prompt can run: rejects with invalid_request or context_overflow as generate() would.
   * A prompt whose templated text has fewer UTF-8 bytes than the context has tokens fits whatever the
   * tokenizer does, so only longer ones (or text a byte-level vocabulary may refuse) go to the worker.
   */
  async checkPrompt(req: GenerateRequest): Promise<void> {
    if (!this.template || !this.modelInfo) throw new ReasondError('model_unavailable', 'the engine has not loaded a model');
    const text = this.template.render(messagesOf(req));
    if (this.anyText && Buffer.byteLength(text, 'utf8') + BYTES_MARGIN < this.modelInfo.context_length) return;
    await this.countPromptTokens(req);
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
      this.post({ type: 'generate', id, req, cancel: buffer, useCache: internal.useCache !== false, stream: hooks.onDelta !== undefined });
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
        this.loading?.resolve(m);
        this.loading = undefined;
        return;
      case 'load_failed':
        this.loading?.reject(reviveError(m.error));
        this.loading = undefined;
        return;
      case 'delta':
        this.pending.get(m.id)?.hooks.onDelta?.(m.delta);
        return;
      case 'counted':
      case 'count_failed': {
        const c = this.counts.get(m.id);
        this.counts.delete(m.id);
        if (m.type === 'counted') c?.resolve(m.tokens);
        else c?.reject(reviveError(m.error));
        return;
      }
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
    for (const c of this.counts.values()) c.reject(error);
    this.counts.clear();
  }
}
