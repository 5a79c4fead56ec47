export { Engine, type EngineOptions } from './engine.js';
export { readModelFolder, parseDtype, DEFAULT_DTYPE_ORDER } from './model-folder.js';
export type * from './types.js';
export { DEFAULT_PREFILL_CHUNK } from './types.js';
