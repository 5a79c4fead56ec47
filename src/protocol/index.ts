/**
 * The wire contract (#19): one JSON schema per message, the types derived from
 * them, and the topics. Floor 0: it imports nothing of ours, so every floor can use it.
 */
export * from './task.js';
export * from './replies.js';
export * from './status.js';
export * from './metrics.js';
export * from './events.js';
export * from './jobs.js';
export * from './admin.js';
export * from './topics.js';
export * from './answer-signature.js';
export { checker, type Checker } from './validate.js';
