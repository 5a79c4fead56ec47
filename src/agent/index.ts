export { Agent, type AgentParts } from './agent.js';
export { buildAgent, type BuildOverrides, type EngineFactory } from './build.js';
