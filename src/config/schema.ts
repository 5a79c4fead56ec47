/**
 * The one schema for everything `reasond start` takes (issue 4). Each key is
 * a config-file key (snake_case), an environment variable REASOND_<KEY> and a
 * flag --<key-with-dashes>; the README table and `--help` come from here.
 * Adding a key = adding one entry below and a field to AgentConfig.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { DEFAULT_PREFILL_CHUNK } from '../engine/types.js';
import { defaultModelDir } from '../core/paths.js';
import type { TelemetryConfig } from '../telemetry/config.js';
import { telemetryKeys } from '../telemetry/config-keys.js';
import { updateKeys, type UpdateConfig } from '../update/config-keys.js';

export type KeyType = 'string' | 'integer' | 'boolean';

export interface ConfigKey {
  key: string;
  type: KeyType;
  description: string;
  /** A value, or a function for defaults that depend on the machine. */
  default: string | number | boolean | (() => string | number | boolean);
  /** How --help and the README describe a computed default. */
  defaultText?: string;
  min?: number;
  max?: number;
  choices?: readonly (string | number)[];
  /** Never printed back (status, logs). */
  secret?: boolean;
  /** A string key's shape, and how to say it in an error. */
  pattern?: { regex: RegExp; rule: string };
}

// These become topic levels: MQTT wildcards or empty levels would subscribe to other devices' tasks.
const TOPIC_LEVEL = { regex: /^[A-Za-z0-9._-]+$/, rule: 'letters, digits, ".", "_" or "-" (it is one topic level)' };
const TOPIC_PREFIX = { regex: /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, rule: 'topic levels of letters, digits, ".", "_" or "-" separated by "/"' };

export const DEFAULT_CONFIG_FILE = '/etc/reasond/config.json';
const SYSTEM_DATA_DIR = '/var/lib/reasond';

export const schema: readonly ConfigKey[] = [
  { key: 'config', type: 'string', default: '', defaultText: `${DEFAULT_CONFIG_FILE} when it exists`, description: 'JSON config file with any of these keys (snake_case)' },
  { key: 'device_id', type: 'string', default: () => hostname(), defaultText: 'the hostname', pattern: TOPIC_LEVEL, description: 'This board\'s name in topics: <base_topic>/<device_id>/...' },
  { key: 'pool', type: 'string', default: 'default', pattern: TOPIC_LEVEL, description: 'Pool whose shared task topic this agent serves: <base_topic>/pool/<pool>/task' },
  { key: 'base_topic', type: 'string', default: 'reasond', pattern: TOPIC_PREFIX, description: 'First level of every topic' },
  { key: 'data_dir', type: 'string', default: () => (existsSync(SYSTEM_DATA_DIR) ? SYSTEM_DATA_DIR : '.reasond'), defaultText: `${SYSTEM_DATA_DIR} when it exists, else ./.reasond`, description: 'Folder for the SQLite journal and outbox (reasond.db)' },
  { key: 'model', type: 'string', default: () => defaultModelDir(), defaultText: 'the shipped models/reasond-tiny', description: 'Model folder (onnx-community or onnxruntime-genai layout)' },
  { key: 'dtype', type: 'string', default: '', defaultText: 'first of q4, q8, fp32, q4f16, fp16 present', description: 'Weights file to load: q4, q4f16, q8, fp16, fp32' },
  { key: 'threads', type: 'integer', default: 0, min: 0, max: 256, description: 'onnxruntime intra-op threads (0 = all cores)' },
  { key: 'prefill_chunk', type: 'integer', default: DEFAULT_PREFILL_CHUNK, min: 0, max: 1000000, description: "Prompt tokens per forward pass (0 = the whole prompt in one): each pass's logits take tokens × vocabulary × 4 bytes, and a long prefill can be cancelled between passes" },
  { key: 'broker', type: 'string', default: '', defaultText: 'none: start the embedded broker', description: 'Broker URL (mqtt://, mqtts://, ws://, wss://); empty starts the embedded broker' },
  { key: 'embedded_host', type: 'string', default: '127.0.0.1', description: 'Address the embedded broker listens on (0.0.0.0 opens it to the LAN, with no authentication)' },
  { key: 'embedded_port', type: 'integer', default: 1883, min: 1, max: 65535, description: "The embedded broker's TCP port" },
  { key: 'mqtt_version', type: 'integer', default: 5, choices: [4, 5], description: 'MQTT protocol to try first (5 = MQTT 5, 4 = 3.1.1); a broker that refuses 5 is retried with 4' },
  { key: 'ca', type: 'string', default: '', description: 'CA certificate file (PEM) to trust for mqtts://' },
  { key: 'cert', type: 'string', default: '', description: 'Client certificate file (PEM) for mutual TLS' },
  { key: 'key', type: 'string', default: '', description: 'Client private key file (PEM) for mutual TLS' },
  { key: 'username', type: 'string', default: '', description: 'Broker user name' },
  { key: 'password', type: 'string', default: '', secret: true, description: 'Broker password (prefer REASOND_PASSWORD or the config file to a flag)' },
  { key: 'keepalive_ms', type: 'integer', default: 30000, min: 1000, max: 65535000, description: 'MQTT keep-alive, milliseconds (sent to the broker in whole seconds)' },
  { key: 'reconnect_ms', type: 'integer', default: 2000, min: 100, max: 600000, description: 'Wait between reconnect attempts, milliseconds' },
  { key: 'queue_max', type: 'integer', default: 16, min: 0, max: 10000, description: 'Tasks that may wait behind the running one; more are answered busy' },
  { key: 'max_payload_bytes', type: 'integer', default: 65536, min: 256, max: 16777216, description: 'Largest task payload accepted; larger ones are answered payload_too_large' },
  { key: 'default_max_new_tokens', type: 'integer', default: 512, min: 1, max: 1000000, description: 'max_new_tokens for a task that sets none' },
  { key: 'max_new_tokens_limit', type: 'integer', default: 4096, min: 1, max: 1000000, description: "Largest max_new_tokens (and reasoning.budget_tokens) a task may ask for; the model's context window also limits it" },
  { key: 'grace_ms', type: 'integer', default: 30000, min: 0, max: 3600000, description: 'On SIGTERM/SIGINT, how long running tasks may take to finish before they are answered cancelled' },
  { key: 'log_level', type: 'string', default: 'info', choices: ['error', 'info', 'debug'], description: 'How much goes to stderr' },
  { key: 'journal_keep_ms', type: 'integer', default: 7 * 24 * 3600 * 1000, min: 0, max: 10 * 365 * 24 * 3600 * 1000, description: 'How long finished tasks stay in the journal, milliseconds (a repeated task id is answered from it for that long); 0 = forever' },
  // sensors, metrics, Prometheus, Home Assistant and the thermal guard (issue 5)
  ...telemetryKeys,
  // model packages: trusted keys, kept versions, probe and automatic rollback (issue 6)
  ...updateKeys,
];

/** The resolved configuration, keys as in the schema. */
export interface AgentConfig extends TelemetryConfig, UpdateConfig {
  config: string;
  device_id: string;
  pool: string;
  base_topic: string;
  data_dir: string;
  model: string;
  dtype: string;
  threads: number;
  prefill_chunk: number;
  broker: string;
  embedded_host: string;
  embedded_port: number;
  mqtt_version: number;
  ca: string;
  cert: string;
  key: string;
  username: string;
  password: string;
  keepalive_ms: number;
  reconnect_ms: number;
  queue_max: number;
  max_payload_bytes: number;
  default_max_new_tokens: number;
  max_new_tokens_limit: number;
  grace_ms: number;
  log_level: string;
  journal_keep_ms: number;
}

export const envName = (key: string) => `REASOND_${key.toUpperCase()}`;
export const flagName = (key: string) => key.replace(/_/g, '-');
export const defaultOf = (k: ConfigKey) => (typeof k.default === 'function' ? k.default() : k.default);
