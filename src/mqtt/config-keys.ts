/**
 * The broker options, declared once (#19): the agent, the controller and the
 * client commands (ask, fleet) all take these keys and turn them into a
 * connection the same way. A daemon may give a key its own default or
 * description (the controller's broker is never the embedded one).
 */
import type { ConfigKey, ConfigOf } from '../config/index.js';
import { TOPIC_PREFIX } from '../protocol/topics.js';
import type { ConnectionOptions } from './client.js';

export const brokerKeys = {
  broker: { key: 'broker', type: 'string', default: 'mqtt://127.0.0.1:1883', description: 'Broker URL (mqtt://, mqtts://, ws://, wss://)' },
  base_topic: { key: 'base_topic', type: 'string', default: 'reasond', pattern: TOPIC_PREFIX, description: 'First level of every topic' },
  mqtt_version: { key: 'mqtt_version', type: 'integer', default: 5, choices: [4, 5], description: 'MQTT protocol to try first (5 = MQTT 5, 4 = 3.1.1); a broker that refuses 5 is retried with 4' },
  ca: { key: 'ca', type: 'string', default: '', description: 'CA certificate file (PEM) to trust for mqtts://' },
  cert: { key: 'cert', type: 'string', default: '', description: 'Client certificate file (PEM) for mutual TLS' },
  key: { key: 'key', type: 'string', default: '', description: 'Client private key file (PEM) for mutual TLS' },
  username: { key: 'username', type: 'string', default: '', description: 'Broker user name' },
  password: { key: 'password', type: 'string', default: '', secret: true, description: 'Broker password (prefer REASOND_PASSWORD or the config file to a flag)' },
  keepalive_ms: { key: 'keepalive_ms', type: 'integer', default: 30000, min: 1000, max: 65535000, description: 'MQTT keep-alive, milliseconds (sent to the broker in whole seconds)' },
  reconnect_ms: { key: 'reconnect_ms', type: 'integer', default: 2000, min: 100, max: 600000, description: 'Wait between reconnect attempts, milliseconds' },
} as const satisfies Record<string, ConfigKey>;

const { broker, base_topic, ca, cert, key, username, password } = brokerKeys;
/** What a client command (ask, fleet) needs to reach the broker and find the agents' topics. */
export const clientBrokerKeys = [broker, base_topic, username, password, ca, cert, key] as const;
export type BrokerConfig = ConfigOf<[typeof broker, typeof username, typeof password, typeof ca, typeof cert, typeof key]>
  & Partial<ConfigOf<[typeof brokerKeys.keepalive_ms, typeof brokerKeys.reconnect_ms]>>;

/** The connection options the broker keys give; an empty key means "not set". */
export function brokerConnection(c: BrokerConfig): Pick<ConnectionOptions, 'url' | 'ca' | 'cert' | 'key' | 'username' | 'password' | 'keepaliveMs' | 'reconnectMs'> {
  return {
    url: c.broker,
    ca: c.ca || undefined, cert: c.cert || undefined, key: c.key || undefined,
    username: c.username || undefined, password: c.password || undefined,
    keepaliveMs: c.keepalive_ms, reconnectMs: c.reconnect_ms,
  };
}
