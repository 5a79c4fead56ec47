export { Database, type Migration } from './database.js';
export { Outbox, type OutboxMessage, type OutboxRow } from './outbox.js';
