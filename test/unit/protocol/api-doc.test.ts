/** docs/API.md's message tables are src/protocol's schemas (#19), as the README's config table is the config's keys. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WIRE_ERROR_CODES, checker, eventSchemas, metricsSchema, offlineStatusSchema, onlineStatusSchema, replyErrorSchema, replyOkSchema, resultSchema, deltaSchema, errorSchema, taskSchema, taskSchemaWith } from '../../../src/protocol/index.js';
import { withApiTables } from '../../../src/protocol/markdown.js';
import type { ErrorCode } from '../../../src/core/errors.js';
import { repoRoot } from '../../helpers/models.js';

test('docs/API.md holds the tables generated from src/protocol', (t) => {
  const doc = readFileSync(join(repoRoot, 'docs', 'API.md'), 'utf8');
  t.true(doc === withApiTables(doc), 'docs/API.md is out of date with src/protocol: run npm run docs:api');
});

test('every schema compiles under ajv strict mode', (t) => {
  for (const s of [taskSchema, taskSchemaWith({ max_new_tokens_limit: 4096 }), deltaSchema, resultSchema, errorSchema, onlineStatusSchema, offlineStatusSchema, metricsSchema, replyOkSchema, replyErrorSchema, ...eventSchemas]) {
    t.notThrows(() => checker(s), (s as { title: string }).title);
  }
});

test("the wire's error codes are codes of core/errors.ts", (t) => {
  const codes: readonly ErrorCode[] = WIRE_ERROR_CODES; // a code missing from ErrorCode fails to compile
  t.is(codes.length, 9);
});
