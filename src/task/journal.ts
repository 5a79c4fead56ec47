/**
 * The task journal: received → running → done | failed. A task's final
 * reply is written to the outbox in the same transaction that finishes it,
 * so a crash can never leave a finished task without its answer queued.
 */
import type { Database } from '../store/database.js';
import { Outbox, type OutboxMessage } from '../store/outbox.js';

export type TaskState = 'received' | 'running' | 'done' | 'failed';

export interface JournalEntry {
  id: string;
  state: TaskState;
  request: string;
  route: string;
  priority: number;
  received_at: number;
  deadline_at: number | null;
  attempts: number;
  /** The boot the last run started under (core/boot.ts); null before any, or when it was forgiven. */
  boot_id: string | null;
  error_code: string | null;
  result: string | null;
}

export interface Finish {
  state: 'done' | 'failed';
  at: number;
  errorCode?: string;
  usage?: unknown;
  timing?: unknown;
  /** The final reply payload, kept so a repeated task id is answered from here. */
  result: string;
  reply: OutboxMessage;
}

export class Journal {
  private readonly outbox: Outbox;

  constructor(private readonly db: Database) {
    this.outbox = new Outbox(db);
  }

  get(id: string): Promise<JournalEntry | undefined> {
    return this.db.get<JournalEntry>('SELECT * FROM tasks WHERE id = ?', [id]);
  }

  /** Returns false when the id was already journaled (the caller answers from the journal). */
  async receive(e: Pick<JournalEntry, 'id' | 'request' | 'route' | 'priority' | 'received_at' | 'deadline_at'>): Promise<boolean> {
    const r = await this.db.run(
      'INSERT OR IGNORE INTO tasks (id, state, request, route, priority, received_at, deadline_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [e.id, 'received', e.request, e.route, e.priority, e.received_at, e.deadline_at],
    );
    return r.changes === 1;
  }

  /** The task starts a run under boot `boot` (core/boot.ts): one more attempt. */
  async running(id: string, at: number, boot = ''): Promise<void> {
    await this.db.run("UPDATE tasks SET state = 'running', started_at = ?, attempts = attempts + 1, boot_id = ? WHERE id = ?", [at, boot, id]);
  }

  /** Takes back the last attempt of a task whose run ended with the machine (a power cut), not with the agent. */
  async forgive(id: string): Promise<void> {
    await this.db.run('UPDATE tasks SET attempts = MAX(0, attempts - 1), boot_id = NULL WHERE id = ?', [id]);
  }

  async finish(id: string, f: Finish): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run('UPDATE tasks SET state = ?, finished_at = ?, error_code = ?, usage = ?, timing = ?, result = ? WHERE id = ?', [
        f.state, f.at, f.errorCode ?? null, f.usage === undefined ? null : JSON.stringify(f.usage),
        f.timing === undefined ? null : JSON.stringify(f.timing), f.result, id,
      ]);
      await this.outbox.add(f.reply);
    });
  }

  /** Tasks accepted before the last stop or crash that never finished, oldest first. */
  unfinished(): Promise<JournalEntry[]> {
    return this.db.all<JournalEntry>("SELECT * FROM tasks WHERE state IN ('received', 'running') ORDER BY received_at, rowid");
  }

  /** Forgets finished tasks that ended before `before` (epoch ms); returns how many. */
  async prune(before: number): Promise<number> {
    return (await this.db.run("DELETE FROM tasks WHERE state IN ('done', 'failed') AND finished_at < ?", [before])).changes;
  }

  countByState(): Promise<Record<string, number>> {
    return this.db
      .all<{ state: string; n: number }>('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state')
      .then((rows) => Object.fromEntries(rows.map((r) => [r.state, r.n])));
  }
}
