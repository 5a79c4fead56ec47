export { Engine, type EngineOptions } from './engine.js';
export { readModelFolder, parseDtype, DEFAULT_DTYPE_ORDER, DTYPE_FILES } from './model-folder.js';
export type * from './types.js';
export { DEFAULT_CONTEXT_TOKENS, DEFAULT_MAX_BATCH, DEFAULT_PREFILL_CHUNK, GRAPH_REWRITES, MAX_BATCH_LIMIT } from './types.js';
// the serving side (#19): what the task path runs on, and the slot that swaps models between tasks
export type { TaskEngine } from './task-engine.js';
export { EngineSlot, type BootModel } from './slot.js';
// a site's own Jinja templates (a job's prompt, issue 18), rendered by the chat templates' engine
export { compileTemplate, type TextTemplate } from './chat-template.js';
