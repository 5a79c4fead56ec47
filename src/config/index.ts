export { loadKeys, ConfigError, type ConfigSources, type LoadOptions } from './load.js';
export { envName, flagName, defaultOf, configFileKey, type ConfigKey, type ConfigOf, type CrossCheck, type KeyType } from './keys.js';
export { yargsOptions } from './yargs-options.js';
export { configTable } from './markdown.js';
