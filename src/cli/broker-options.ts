/**
 * The broker options of the client commands (ask, fleet): the broker's keys from
 * src/mqtt, read by the one config loader (flag > REASOND_<KEY> > default; client
 * commands read no config file), so they match the agent's and the controller's.
 */
import { loadKeys, yargsOptions, type ConfigOf } from '../config/index.js';
import { clientBrokerKeys } from '../mqtt/index.js';

export type ClientConfig = ConfigOf<typeof clientBrokerKeys>;

export const brokerOptions = () => yargsOptions(clientBrokerKeys, 'Broker options (flag > env > default):');

export const loadClientConfig = (args: Record<string, unknown>): ClientConfig => loadKeys(clientBrokerKeys, { cli: args, env: process.env });
