export { MqttConnection, type Incoming, type PublishOptions, type ConnectionOptions } from './client.js';
export { EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker.js';
export { chooseEmbeddedBroker, findMosquitto, MosquittoBroker, type EmbeddedChoice, type MosquittoBrokerOptions } from './mosquitto-broker.js';
export { RequestTable, type RequestHandler, type RequestTableDeps } from './request-table.js';
export { brokerKeys, clientBrokerKeys, brokerConnection, type BrokerConfig } from './config-keys.js';
