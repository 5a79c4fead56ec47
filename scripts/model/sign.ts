/**
 * Signs the shipped model as a package (issue 6) with the DEV key in
 * models/dev-keys: runs it greedily on held-out tasks, keeps one it answers
 * right per task family as the smoke checks (so the probe on a board checks
 * the model still reasons in every family and still says `unsupported` to a
 * question outside them, issue 15), and packs the folder in place.
 *   npm run model:sign [-- --version 1.0.1] [--dir <model folder with heldout.jsonl>]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/index.js';
import { interleaveFamilies, readTaskFile } from '../../src/eval/task-file.js';
import { shippedModelDir, packageRoot } from '../../src/core/paths.js';
import { packModel } from '../../src/package/pack.js';
import { readPrivateKey } from '../../src/package/signing.js';

const args = process.argv.slice(2);
const arg = (name: string, otherwise: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : otherwise);
const version = arg('--version', '1.0.0');
const dir = arg('--dir', shippedModelDir);
if (!existsSync(join(dir, 'config.json'))) throw new Error(`${dir} has no model yet: run npm run model:build first`);
const tasks = interleaveFamilies(readTaskFile(join(dir, 'heldout.jsonl')));
const familyCount = new Set(tasks.map((t) => t.family)).size;

const engine = new Engine({ model: dir });
await engine.start();
const prompts: { prompt: string; expect: string; max_new_tokens: number }[] = [];
const families = new Set<string>();
// at most 8 tries per family: a few minutes on a Pi even when the model gets most of them wrong
for (const t of tasks.slice(0, 8 * familyCount)) {
  if (prompts.length === familyCount) break;
  const family = t.family;
  if (families.has(family)) continue;
  const r = await engine.generate({ prompt: t.question, max_new_tokens: 384, temperature: 0 });
  if (r.answer.trim() === t.answer.trim()) {
    prompts.push({ prompt: t.question, expect: t.answer, max_new_tokens: 384 });
    families.add(family);
  }
}
await engine.stop();
const { manifest } = await packModel({
  dir, name: 'reasond-tiny', version, key: readPrivateKey(join(packageRoot, 'models/dev-keys/dev.key')),
  smoke: { prompts, min_tokens_per_s: 0, max_rss_mb: 0 },
});
process.stdout.write(`signed ${manifest.name}@${manifest.version}: ${manifest.files.length} files, ${prompts.length} smoke prompts, DEV key ${manifest.signature!.key_id}\n`);
