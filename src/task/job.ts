/** A task accepted into the journal, as the queue and the runner see it. */
import type { GenerateHooks, GenerateRequest, GenerationResult, ModelInfo } from '../engine/index.js';
import type { Queued } from './queue.js';
import type { TaskRequest } from './schema.js';

/** Where a task's replies go: the MQTT 5 Response Topic (+ Correlation Data) or reply_to. */
export interface Route {
  topic: string;
  /** base64, so the route can be journaled as JSON. */
  correlation_data?: string;
}

export interface Job extends Queued {
  request: TaskRequest;
  route: Route;
  received_at: number;
  /** Absolute, epoch ms: from deadline_ms and MQTT 5 Message Expiry, whichever ends first. */
  deadline_at?: number;
}

/** What the agent needs of the engine (src/engine's Engine, or a wrapper in tests). */
export interface TaskEngine {
  start(): Promise<ModelInfo>;
  stop(): Promise<void>;
  readonly info: ModelInfo;
  /** Rejects (invalid_request, context_overflow) a prompt that generate() would refuse, before it is journaled. */
  checkPrompt(req: GenerateRequest): Promise<void>;
  generate(req: GenerateRequest, hooks?: GenerateHooks): Promise<GenerationResult>;
}

/** The engine request for a task: wire names are the engine's names. */
export function engineRequest(job: Job, defaultMaxNewTokens: number): GenerateRequest {
  const r = job.request;
  return {
    prompt: r.prompt,
    messages: r.messages,
    max_new_tokens: r.max_new_tokens ?? defaultMaxNewTokens,
    temperature: r.temperature,
    top_k: r.top_k,
    top_p: r.top_p,
    repetition_penalty: r.repetition_penalty,
    seed: r.seed,
    stop: r.stop,
    reasoning: r.reasoning,
    deadline_at: job.deadline_at,
  };
}
