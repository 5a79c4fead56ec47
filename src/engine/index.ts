export { Engine, type EngineOptions } from './engine.js';
export { readModelFolder, parseDtype, DEFAULT_DTYPE_ORDER } from './model-folder.js';
export type * from './types.js';
export { DEFAULT_CONTEXT_TOKENS, DEFAULT_PREFILL_CHUNK, GRAPH_REWRITES } from './types.js';
