/**
 * The slice of the agent's database that telemetry needs. The store module (the
 * one sqlite3 file) hands in something with this shape; tests hand in the same
 * store opened on a temp dir.
 */
export interface SqlDb {
  run(sql: string, params?: unknown[]): Promise<unknown>;
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}
