export { Database, type Migration } from './database.js';
export { Journal, type JournalEntry, type Finish, type TaskState } from './journal.js';
export { Outbox, type OutboxMessage, type OutboxRow } from './outbox.js';
