/**
 * What the task path needs of an engine: src/engine's Engine, the EngineSlot
 * that swaps models between tasks (slot.ts), or a test's stand-in.
 */
import type { GenerateHooks, GenerateRequest, GenerationResult, ModelInfo } from './types.js';

export interface TaskEngine {
  start(): Promise<ModelInfo>;
  stop(): Promise<void>;
  readonly info: ModelInfo;
  /** Rejects (invalid_request, context_overflow) a prompt that generate() would refuse, before it is journaled. */
  checkPrompt(req: GenerateRequest): Promise<void>;
  /** Exact prompt tokens after the chat template (a job fits its prompt and its answer into the context, issue 18). */
  countPromptTokens(req: GenerateRequest): Promise<number>;
  generate(req: GenerateRequest, hooks?: GenerateHooks): Promise<GenerationResult>;
}
