export { loadConfig, ConfigError, type ConfigSources } from './load.js';
export { schema, envName, flagName, defaultOf, type AgentConfig, type ConfigKey } from './schema.js';
export { yargsOptions } from './yargs-options.js';
export { configTable } from './markdown.js';
