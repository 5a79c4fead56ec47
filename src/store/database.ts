/**
 * The only sqlite3 import. One connection in WAL mode, ordered migrations,
 * and an exclusive lane for transactions: sqlite3 runs statements in order
 * on one connection, so two async transactions must not interleave, and a
 * statement from outside a transaction must not land inside one. On the one
 * connection it would read the open transaction's uncommitted rows (the outbox
 * sender published a reply before its COMMIT, so a crash in between answered
 * the task twice) and be rolled back with it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sqlite3 from 'sqlite3';
import { ReasondError } from '../core/errors.js';

export type Row = Record<string, unknown>;
export type Params = unknown[];

/** A migration is SQL run once, in list order; its index + 1 is the schema version. */
export interface Migration {
  name: string;
  sql: string;
}

export class Database {
  private db?: sqlite3.Database;
  private lane: Promise<unknown> = Promise.resolve();
  /**
   * Set inside transaction(): its own statements run at once, every other waits for the lane. A timer or
   * promise started inside a transaction that outlives it sees `open` false and waits like any other.
   */
  private readonly inTransaction = new AsyncLocalStorage<{ open: boolean }>();

  /**
   * `synchronous`: FULL (the default) makes every commit durable before it resolves, so what the caller
   * acknowledges next (a PUBACK, a reply) survives a power cut; NORMAL in WAL mode survives a crash of
   * the process but may lose the last commits when the power goes (SQLite's own documentation).
   */
  constructor(private readonly path: string, private readonly migrations: readonly Migration[], private readonly synchronous: 'FULL' | 'NORMAL' = 'FULL') {}

  /**
   * A second, read-only connection to a database another Database owns (a job's SQL input, issue 18):
   * SQLite itself refuses any write on it, and it runs no migrations.
   */
  static readOnly(path: string): Database {
    const d = new Database(path, []);
    d.readonly = true;
    return d;
  }

  private readonly = false;

  async start(): Promise<void> {
    if (!this.readonly) mkdirSync(dirname(this.path), { recursive: true });
    const mode = this.readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    this.db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const db = new sqlite3.Database(this.path, mode, (e) => (e ? reject(new ReasondError('internal', `cannot open ${this.path}: ${e.message}`)) : resolve(db)));
    });
    this.db.configure('busyTimeout', 5000);
    if (this.readonly) return;
    await this.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${this.synchronous}; PRAGMA foreign_keys = ON;`);
    await this.migrate();
  }

  async stop(): Promise<void> {
    const db = this.db;
    if (!db) return;
    await this.lane.catch(() => {});
    this.db = undefined;
    await new Promise<void>((resolve, reject) => db.close((e) => (e ? reject(e) : resolve())));
  }

  private conn(): sqlite3.Database {
    if (!this.db) throw new ReasondError('internal', `the database ${this.path} is not open`);
    return this.db;
  }

  /**
   * Issues a statement: at once inside a transaction (it is part of it), otherwise once the transactions
   * queued before it have committed or rolled back. Plain statements do not wait for one another: the
   * connection runs them in the order they were issued, and none of them can open a transaction.
   */
  private issue<T>(f: () => Promise<T>): Promise<T> {
    if (this.inTransaction.getStore()?.open) return f();
    return this.lane.catch(() => {}).then(f);
  }

  exec(sql: string): Promise<void> {
    return this.issue(() => new Promise((resolve, reject) => this.conn().exec(sql, (e) => (e ? reject(e) : resolve()))));
  }

  run(sql: string, params: Params = []): Promise<{ lastID: number; changes: number }> {
    return this.issue(() => new Promise((resolve, reject) =>
      this.conn().run(sql, params, function (e) {
        if (e) reject(e);
        else resolve({ lastID: this.lastID, changes: this.changes });
      }),
    ));
  }

  get<T = Row>(sql: string, params: Params = []): Promise<T | undefined> {
    return this.issue(() => new Promise((resolve, reject) => this.conn().get(sql, params, (e, row) => (e ? reject(e) : resolve(row as T | undefined)))));
  }

  all<T = Row>(sql: string, params: Params = []): Promise<T[]> {
    return this.issue(() => new Promise((resolve, reject) => this.conn().all(sql, params, (e, rows) => (e ? reject(e) : resolve(rows as T[])))));
  }

  /** Runs fn inside BEGIN IMMEDIATE … COMMIT, one transaction at a time. */
  transaction<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lane.catch(() => {}).then(() => {
      const tx = { open: true };
      return this.inTransaction.run(tx, async () => {
        try {
          await this.exec('BEGIN IMMEDIATE');
          try {
            const out = await fn();
            await this.exec('COMMIT');
            return out;
          } catch (e) {
            await this.exec('ROLLBACK').catch(() => {});
            throw e;
          }
        } finally {
          tx.open = false;
        }
      });
    });
    this.lane = next;
    return next;
  }

  private async migrate(): Promise<void> {
    await this.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const row = await this.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    for (let i = row?.v ?? 0; i < this.migrations.length; i++) {
      const m = this.migrations[i];
      await this.transaction(async () => {
        await this.exec(m.sql);
        await this.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [i + 1, m.name, Date.now()]);
      });
    }
  }
}
