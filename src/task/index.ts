export { TaskValidator, type ParsedPayload } from './validate.js';
export { TaskQueue, type Queued } from './queue.js';
export { Runner, type RunnerHooks, type RunnerOptions } from './runner.js';
export { engineRequest, type Job, type Route } from './job.js';
