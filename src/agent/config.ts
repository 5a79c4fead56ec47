/**
 * The agent's config (`reasond start`, and the commands that read the agent's
 * files: doctor, stats, model): its own keys plus the broker's, telemetry's and
 * updates' declarations, in the order --help and the README table show them.
 * Adding a key = adding one entry where its feature declares its keys; the
 * AgentConfig type follows.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  configFileKey, configTable as tableOf, loadKeys, yargsOptions as optionsOf, type ConfigKey, type ConfigOf, type ConfigSources, type CrossCheck,
} from '../config/index.js';
import { defaultModelDir } from '../core/paths.js';
import { DEFAULT_CONTEXT_TOKENS, DEFAULT_MAX_BATCH, DEFAULT_PREFILL_CHUNK, GRAPH_REWRITES, MAX_BATCH_LIMIT } from '../engine/index.js';
import { brokerKeys } from '../mqtt/index.js';
import { TOPIC_LEVEL } from '../protocol/topics.js';
import { telemetryChecks, telemetryKeys } from '../telemetry/config-keys.js';
import { updateKeys } from '../update/config-keys.js';
import { jobChecks, jobKeys } from '../jobs/config-keys.js';

export { ConfigError } from '../config/index.js';

export const DEFAULT_CONFIG_FILE = '/etc/reasond/config.json';
const SYSTEM_DATA_DIR = '/var/lib/reasond';
const b = brokerKeys;

export const schema = [
  configFileKey(DEFAULT_CONFIG_FILE),
  { key: 'device_id', type: 'string', default: () => hostname(), defaultText: 'the hostname', pattern: TOPIC_LEVEL, description: 'This board\'s name in topics: <base_topic>/<device_id>/...' },
  { key: 'pool', type: 'string', default: 'default', pattern: TOPIC_LEVEL, description: 'Pool whose shared task topic this agent serves: <base_topic>/pool/<pool>/task' },
  b.base_topic,
  { key: 'data_dir', type: 'string', default: () => (existsSync(SYSTEM_DATA_DIR) ? SYSTEM_DATA_DIR : '.reasond'), defaultText: `${SYSTEM_DATA_DIR} when it exists, else ./.reasond`, description: 'Folder for the SQLite journal and outbox (reasond.db)' },
  { key: 'model', type: 'string', default: () => defaultModelDir(), defaultText: 'the shipped models/reasond-tiny', description: 'Model folder (onnx-community or onnxruntime-genai layout), or owner/name of a model reasond model pull fetched' },
  { key: 'dtype', type: 'string', default: '', defaultText: 'first of q4, q8, fp32, q4f16, fp16 present', description: 'Weights file to load: q4, q4f16, q8, fp16, fp32' },
  { key: 'threads', type: 'integer', default: 0, min: 0, max: 256, description: 'onnxruntime intra-op threads (0 = all cores)' },
  { key: 'prefill_chunk', type: 'integer', default: DEFAULT_PREFILL_CHUNK, min: 0, max: 1000000, description: "Prompt tokens per forward pass (0 = the whole prompt in one): each pass's logits take tokens × vocabulary × 4 bytes, and a long prefill can be cancelled between passes" },
  { key: 'context_tokens', type: 'integer', default: DEFAULT_CONTEXT_TOKENS, min: 0, max: 1048576, description: "Positions (prompt + answer) the engine reserves its KV cache for, at most the model's own (0 = the model's): allocated once at load, layers × 2 × kv_heads × head_dim × 4 bytes each" },
  { key: 'max_batch', type: 'integer', default: DEFAULT_MAX_BATCH, min: 1, max: MAX_BATCH_LIMIT, description: 'Tasks that run at once, sharing each forward pass (continuous batching; a plain graph runs one): the KV cache is reserved for max_batch × context_tokens positions, and start-up refuses a value whose cache does not fit the memory available' },
  { key: 'graph_rewrites', type: 'string', default: 'all', choices: GRAPH_REWRITES, description: "Load-time graph rewrites, each checked against the model's own graph before it is served (docs/operations.md): all (KV-cache rewrites, 4-bit accuracy_level 4 and merged 4-bit products), kv (KV-cache rewrites only: same numbers as the file), off" },
  { ...b.broker, default: '', defaultText: 'none: start the embedded broker', description: 'Broker URL (mqtt://, mqtts://, ws://, wss://); empty starts the embedded broker' },
  { key: 'embedded_host', type: 'string', default: '127.0.0.1', description: 'Address the embedded broker listens on (0.0.0.0 opens it to the LAN, with no authentication)' },
  { key: 'embedded_port', type: 'integer', default: 1883, min: 1, max: 65535, description: "The embedded broker's TCP port" },
  { key: 'http_port', type: 'integer', default: 0, min: 0, max: 65535, description: 'Port of the OpenAI-compatible endpoint (POST /v1/chat/completions, GET /v1/models); 0 = off' },
  { key: 'http_host', type: 'string', default: '127.0.0.1', description: 'Address the OpenAI-compatible endpoint listens on: this machine only by default; 0.0.0.0 opens it to the LAN (set http_token then)' },
  { key: 'http_token', type: 'string', default: '', secret: true, description: 'Bearer token the OpenAI-compatible endpoint requires (Authorization: Bearer <token>); empty = none' },
  { key: 'embedded_broker', type: 'string', default: 'auto', choices: ['auto', 'mosquitto', 'aedes'], description: 'Which embedded broker: mosquitto (MQTT 5 and 3.1.1, run as a child with its data in data_dir), aedes (in the agent, MQTT 3.1.1 only), auto = mosquitto when it is installed, else aedes' },
  b.mqtt_version, b.ca, b.cert, b.key, b.username, b.password, b.keepalive_ms, b.reconnect_ms,
  { key: 'queue_max', type: 'integer', default: 16, min: 0, max: 10000, description: 'Tasks that may wait while max_batch run; more are answered busy' },
  { key: 'max_payload_bytes', type: 'integer', default: 65536, min: 256, max: 16777216, description: 'Largest task payload accepted; larger ones are answered payload_too_large' },
  { key: 'default_max_new_tokens', type: 'integer', default: 512, min: 1, max: 1000000, description: 'max_new_tokens for a task that sets none' },
  { key: 'max_new_tokens_limit', type: 'integer', default: 4096, min: 1, max: 1000000, description: "Largest max_new_tokens (and reasoning.budget_tokens) a task may ask for; the model's context window also limits it" },
  { key: 'grace_ms', type: 'integer', default: 30000, min: 0, max: 3600000, description: 'On SIGTERM/SIGINT, how long running tasks may take to finish before they are answered cancelled' },
  { key: 'log_level', type: 'string', default: 'info', choices: ['error', 'info', 'debug'], description: 'How much goes to stderr' },
  { key: 'journal_durability', type: 'string', default: 'full', choices: ['full', 'normal'], description: "full: every journal commit reaches the disk before the task's PUBACK or reply goes out, so an acknowledged task survives a power cut (SQLite synchronous=FULL); normal: faster, survives a crash of the agent but may lose the last acknowledged tasks when the power goes" },
  { key: 'journal_keep_ms', type: 'integer', default: 7 * 24 * 3600 * 1000, min: 0, max: 10 * 365 * 24 * 3600 * 1000, description: 'How long finished tasks stay in the journal, milliseconds (a repeated task id is answered from it for that long); 0 = forever' },
  // sensors, metrics, Prometheus, Home Assistant and the thermal guard (issue 5)
  ...telemetryKeys,
  // model packages: trusted keys, kept versions, probe and automatic rollback (issue 6)
  ...updateKeys,
  // scheduled reasoning jobs over site data and the readings they read (issue 18)
  ...jobKeys,
] as const satisfies readonly ConfigKey[];

/** The resolved configuration, keys as in the schema. */
export type AgentConfig = ConfigOf<typeof schema>;

/** flag > environment > config file > default, per-key and cross-key checks together. */
export function loadConfig(sources: ConfigSources = {}): AgentConfig {
  return loadKeys(schema, sources, { defaultFile: DEFAULT_CONFIG_FILE, unknownFileKeys: 'report', checks: [...telemetryChecks, ...jobChecks] as readonly CrossCheck<AgentConfig>[] });
}

export const yargsOptions = () => optionsOf(schema, 'Agent options (flag > env > config file > default):');
export const configTable = () => tableOf(schema);
