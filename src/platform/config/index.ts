export { loadConfig, ConfigError } from './load.js';
export { configSchema, type VigilConfig } from './schema.js';
