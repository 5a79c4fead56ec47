/**
 * The agent's serving engine slot, switchable between tasks (issue 6, step 4): a task
 * keeps the engine it started on, the next task gets the new one, and an
 * old engine is stopped once its last task has ended. So no task is dropped
 * or answered twice by a switch. For a moment two models are loaded: the new
 * one is started before the old one lets go, so the board never stops serving.
 */
import { ReasondError } from '../core/errors.js';
import type { TaskEngine } from './task-engine.js';
import type { GenerateHooks, GenerateRequest, GenerationResult, ModelInfo } from './types.js';

export interface BootModel {
  dir: string;
  /** Called when this model cannot be loaded; returns the next model to try, or undefined to give up. */
  failed?: (e: unknown) => Promise<BootModel | undefined>;
}

export class EngineSlot implements TaskEngine {
  private current?: TaskEngine;
  private readonly inFlight = new Map<TaskEngine, number>();
  private readonly retiring = new Set<TaskEngine>();

  constructor(
    private readonly make: (dir: string) => TaskEngine,
    /** Which model to load at start (the update store's active version, or the configured one). */
    private readonly boot: () => Promise<BootModel>,
  ) {}

  get info(): ModelInfo {
    return this.engine().info;
  }

  async start(): Promise<ModelInfo> {
    let model: BootModel | undefined = await this.boot();
    for (;;) {
      const engine = this.make(model.dir);
      try {
        const info = await engine.start();
        this.current = engine;
        return info;
      } catch (e) {
        await engine.stop().catch(() => {});
        model = model.failed ? await model.failed(e) : undefined;
        if (!model) throw e;
      }
    }
  }

  /** Loads a model beside the current one; the caller then switch()es to it or stops it. */
  async load(dir: string): Promise<TaskEngine> {
    const engine = this.make(dir);
    try {
      await engine.start();
    } catch (e) {
      await engine.stop().catch(() => {});
      throw e;
    }
    return engine;
  }

  /** From now on tasks run on `next`; the old engine stops after its running task. */
  switch(next: TaskEngine): void {
    const old = this.current;
    this.current = next;
    if (old) this.retire(old);
  }

  checkPrompt(req: GenerateRequest): Promise<void> {
    return this.engine().checkPrompt(req);
  }

  countPromptTokens(req: GenerateRequest): Promise<number> {
    return this.engine().countPromptTokens(req);
  }

  async generate(req: GenerateRequest, hooks?: GenerateHooks): Promise<GenerationResult> {
    const engine = this.engine();
    this.inFlight.set(engine, (this.inFlight.get(engine) ?? 0) + 1);
    try {
      return await engine.generate(req, hooks);
    } finally {
      const left = (this.inFlight.get(engine) ?? 1) - 1;
      this.inFlight.set(engine, left);
      if (left === 0 && this.retiring.has(engine)) void this.stopOld(engine);
    }
  }

  async stop(): Promise<void> {
    const all = [...this.retiring, ...(this.current ? [this.current] : [])];
    this.current = undefined;
    this.retiring.clear();
    await Promise.all(all.map((e) => e.stop()));
  }

  private engine(): TaskEngine {
    if (!this.current) throw new ReasondError('model_unavailable', 'the engine has not loaded a model');
    return this.current;
  }

  private retire(old: TaskEngine): void {
    if ((this.inFlight.get(old) ?? 0) === 0) void this.stopOld(old);
    else this.retiring.add(old);
  }

  private async stopOld(old: TaskEngine): Promise<void> {
    this.retiring.delete(old);
    this.inFlight.delete(old);
    await old.stop().catch(() => {});
  }
}
