export { MqttConnection, type Incoming, type PublishOptions, type ConnectionOptions } from './client.js';
export { EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker.js';
export { topics, topicMatches, isPublishableTopic, type Topics, type TopicConfig } from './topics.js';
export { RequestTable, type RequestHandler, type RequestTableDeps } from './request-table.js';
