/**
 * Rewrites docs/API.md's message tables from src/protocol's schemas. Run after
 * changing a message: npm run docs:api (a test fails until the doc matches).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/core/paths.js';
import { withApiTables } from '../src/protocol/markdown.js';

const path = join(packageRoot, 'docs', 'API.md');
writeFileSync(path, withApiTables(readFileSync(path, 'utf8')));
process.stdout.write('docs/API.md: message tables updated\n');
