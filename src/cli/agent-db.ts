/** The agent's database as the commands that read it open it (stats, jobs): never created here, so a wrong --data-dir says so. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { migrations } from '../agent/migrations.js';
import { ReasondError } from '../core/errors.js';
import { Database } from '../store/index.js';

export const agentDbPath = (dataDir: string) => join(dataDir, 'reasond.db');

export async function openAgentDb(dataDir: string): Promise<Database> {
  const path = agentDbPath(dataDir);
  if (!existsSync(path)) throw new ReasondError('invalid_request', `no agent database at ${path}: has reasond start run with this --data-dir?`);
  const db = new Database(path, migrations);
  await db.start();
  return db;
}
