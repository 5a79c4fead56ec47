export { Agent, type AgentParts } from './agent.js';
export { buildAgent, type BuildOverrides } from './build.js';
