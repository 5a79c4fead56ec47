/**
 * `reasond model pull` end to end (issue 20) against a hub in the test process that serves the
 * shipped model in the hub's layout (test/helpers/hub-server.ts): only the dtype's files are fetched,
 * a cut download resumes with Range, a wrong file is refused and removed, offline and unknown names
 * fail with their codes, and the pulled model answers through `reasond run --model <repo>`.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HubServer, gitBlobId } from '../helpers/hub-server.js';
import { readJson, repoRoot, shippedModel, tempDir } from '../helpers/models.js';

const REPO = 'onnx-community/reasond-tiny';
const cliPath = join(repoRoot, 'src/cli/index.ts');

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Async (the hub answers from this process, so spawnSync would block it). */
function reasond(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const { HF_TOKEN: _t, HF_ENDPOINT: _e, ...base } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', cliPath, ...args], { cwd: repoRoot, env: { ...base, NO_COLOR: '1', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err: err.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n') }));
  });
}

const lastLine = (s: string) => s.trim().split('\n').at(-1)!;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function filesUnder(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n), root) : [join(dir, n).slice(root.length + 1)])).sort();
}

async function withHub(pageSize: number, fn: (hub: HubServer, models: string) => Promise<void>): Promise<void> {
  const hub = new HubServer(REPO, shippedModel, pageSize);
  await hub.start();
  try {
    await fn(hub, join(tempDir('reasond-pull-'), 'models'));
  } finally {
    await hub.stop();
  }
}

const pull = (hub: HubServer, models: string, ...more: string[]) => reasond(['model', 'pull', REPO, '--endpoint', hub.url, '--models-dir', models, ...more]);

test('a q4 pull fetches only the q4 files, verified, and the pulled model answers through reasond run --model <repo>', async (t) => {
  await withHub(8, async (hub, models) => {
    const r = await reasond(['model', 'pull', REPO, '--dtype', 'q4', '--models-dir', models], { HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_test' });
    t.is(r.code, 0, r.err);
    const c = hub.commit;
    const q4 = hub.file('onnx/model_q4.onnx');
    const resolve = (p: string) => `/${REPO}/resolve/${c}/${p}`;
    t.deepEqual(hub.log.map((l) => l.url), [
      `/api/models/${REPO}/revision/main`,
      `/api/models/${REPO}/tree/${c}?recursive=true`,
      `/api/models/${REPO}/tree/${c}?recursive=true&cursor=8`,
      resolve('config.json'),
      resolve('tokenizer.json'),
      resolve('generation_config.json'),
      resolve('tokenizer_config.json'),
      resolve('onnx/model_q4.onnx'),
      `/cdn/${q4.sha256}`,
    ]);
    // the token goes to the hub (the CDN here is the same host, so it gets it too)
    t.true(hub.log.every((l) => l.authorization === 'Bearer hf_test'));
    t.false(hub.log.some((l) => l.range));

    const dir = join(models, 'hub', 'onnx-community', 'reasond-tiny');
    t.deepEqual(filesUnder(dir), ['config.json', 'generation_config.json', 'onnx/model_q4.onnx', 'reasond-pull.json', 'tokenizer.json', 'tokenizer_config.json']);
    const record = readJson(join(dir, 'reasond-pull.json'));
    t.like(record, { repo: REPO, endpoint: hub.url, revision: 'main', commit: c, dtype: 'q4' });
    t.deepEqual(record.files.find((f: { path: string }) => f.path === 'onnx/model_q4.onnx'), { path: 'onnx/model_q4.onnx', size: q4.bytes.length, sha256: q4.sha256, oid: q4.oid });
    t.deepEqual(record.files.find((f: { path: string }) => f.path === 'config.json'), { path: 'config.json', size: hub.file('config.json').bytes.length, oid: hub.file('config.json').oid });
    const total = ['config.json', 'tokenizer.json', 'generation_config.json', 'tokenizer_config.json', 'onnx/model_q4.onnx'].reduce((n, p) => n + hub.file(p).bytes.length, 0);
    t.is(r.out, `${REPO} q4 (commit ${c.slice(0, 12)}, 5 files, ${(total / 1e6).toFixed(1)} MB fetched) in ${dir}\n`);

    const list = await reasond(['model', 'list', '--models-dir', models]);
    t.is(list.code, 0, list.err);
    t.is(list.out, `(no installed version is active: the configured model serves)\npulled (serve one with --model <repo>):\n  ${REPO} q4 (main @ ${c.slice(0, 12)}) in ${dir}\n`);

    const run = await reasond(['run', 'What is 17 + 25?', '--model', REPO, '--models-dir', models, '--json']);
    t.is(run.code, 0, run.err);
    t.is(JSON.parse(run.out).answer, '42');

    // pulled again: everything is here and checks out, so only the hub's API is asked
    hub.log.length = 0;
    const again = await pull(hub, models);
    t.is(again.code, 0, again.err);
    t.deepEqual(hub.log.map((l) => l.url), [`/api/models/${REPO}/revision/main`, `/api/models/${REPO}/tree/${c}?recursive=true`, `/api/models/${REPO}/tree/${c}?recursive=true&cursor=8`]);
    t.regex(again.out, / 0 B fetched\) in /);

    // another dtype replaces the first one's weights and keeps the shared files
    hub.log.length = 0;
    const q8 = await pull(hub, models, '--dtype', 'q8');
    t.is(q8.code, 0, q8.err);
    t.deepEqual(hub.log.slice(3).map((l) => l.url), [resolve('onnx/model_quantized.onnx'), `/cdn/${hub.file('onnx/model_quantized.onnx').sha256}`]);
    t.deepEqual(filesUnder(dir), ['config.json', 'generation_config.json', 'onnx/model_quantized.onnx', 'reasond-pull.json', 'tokenizer.json', 'tokenizer_config.json']);
    t.is(readJson(join(dir, 'reasond-pull.json')).dtype, 'q8');
  });
});

test('a download cut half way resumes with a Range request from the partial size', async (t) => {
  await withHub(1000, async (hub, models) => {
    const q4 = hub.file('onnx/model_q4.onnx');
    hub.cutOnce = q4.path;
    const first = await pull(hub, models);
    t.is(first.code, 1);
    const dir = join(models, 'hub', 'onnx-community', 'reasond-tiny');
    // what reached the disk before the cut (the server sent half; the client keeps what it had read)
    const kept = statSync(join(dir, 'onnx/model_q4.onnx.part')).size;
    t.true(kept > 0 && kept <= q4.bytes.length >> 1, String(kept));
    t.regex(lastLine(first.err), new RegExp(`^reasond: package_rejected: download_failed: download of ${hub.url}/${REPO}/resolve/${hub.commit}/onnx/model_q4\\.onnx stopped after ${kept} of ${q4.bytes.length} bytes: .+; run the same pull again to resume$`));
    t.false(existsSync(join(dir, 'reasond-pull.json')), 'a half-finished pull is not a pulled model');
    t.regex((await reasond(['model', 'list', '--models-dir', models])).out, /^\(no installed version is active: the configured model serves\)\n$/);

    hub.log.length = 0;
    const second = await pull(hub, models);
    t.is(second.code, 0, second.err);
    t.deepEqual(hub.log.filter((l) => l.url.includes('model_q4')).concat(hub.log.filter((l) => l.url.startsWith('/cdn/'))), [
      { url: `/${REPO}/resolve/${hub.commit}/onnx/model_q4.onnx`, range: `bytes=${kept}-` },
      { url: `/cdn/${q4.sha256}`, range: `bytes=${kept}-` },
    ]);
    // the small files came whole the first time and are not asked for again
    t.false(hub.log.some((l) => l.url.endsWith('.json')));
    t.is(sha256(readFileSync(join(dir, q4.path))), q4.sha256);
    t.regex(second.err, new RegExp(`\\[reasond\\] ${REPO} at main \\(commit ${hub.commit.slice(0, 12)}\\): q4, 5 files, [0-9.]+ MB, [0-9.]+ [kM]B already here`));
  });
});

test('a file whose bytes do not match the hub digest is removed and named, with both digests', async (t) => {
  await withHub(1000, async (hub, models) => {
    const q4 = hub.file('onnx/model_q4.onnx');
    const flip = (b: Buffer) => {
      const c = Buffer.from(b);
      c[c.length >> 1] ^= 0xff;
      return c;
    };
    // weights (LFS) are checked against the sha256 the hub lists
    hub.corrupt = new Set([q4.path]);
    const r = await pull(hub, models, '--dtype', 'q4');
    t.is(r.code, 1);
    t.is(lastLine(r.err), `reasond: package_rejected: hash_mismatch: onnx/model_q4.onnx has sha256 ${sha256(flip(q4.bytes))}; the hub lists sha256 ${q4.sha256} (downloaded from ${hub.url}/${REPO}/resolve/${hub.commit}/onnx/model_q4.onnx); removed it: run the pull again to fetch it anew`);
    const dir = join(models, 'hub', 'onnx-community', 'reasond-tiny');
    t.false(existsSync(join(dir, q4.path)));
    t.false(existsSync(join(dir, 'reasond-pull.json')));

    // a small file against its git blob id
    const models2 = join(tempDir('reasond-pull-'), 'models');
    const cfg = hub.file('config.json');
    hub.corrupt = new Set(['config.json']);
    const r2 = await pull(hub, models2, '--dtype', 'q4');
    t.is(r2.code, 1);
    t.is(lastLine(r2.err), `reasond: package_rejected: hash_mismatch: config.json has git blob id ${gitBlobId(flip(cfg.bytes))}; the hub lists ${cfg.oid} (downloaded from ${hub.url}/${REPO}/resolve/${hub.commit}/config.json); removed it: run the pull again to fetch it anew`);

    // once the hub serves the right bytes, the next run completes, fetching only what was removed
    hub.corrupt.clear();
    hub.log.length = 0;
    t.is((await pull(hub, models, '--dtype', 'q4')).code, 0);
    t.deepEqual(hub.log.slice(2).map((l) => l.url), [`/${REPO}/resolve/${hub.commit}/onnx/model_q4.onnx`, `/cdn/${q4.sha256}`]);
    hub.log.length = 0;
    t.is((await pull(hub, models2, '--dtype', 'q4')).code, 0);
    t.deepEqual(hub.log.slice(2).map((l) => l.url), [`/${REPO}/resolve/${hub.commit}/config.json`]);
  });
});

test('offline (the endpoint refuses) fails at once with hub_unreachable, exit 4, naming the endpoint and the cause', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const models = join(tempDir('reasond-pull-'), 'models');
  const r = await reasond(['model', 'pull', REPO, '--models-dir', models], { HF_ENDPOINT: `http://127.0.0.1:${port}` });
  t.is(r.code, 4);
  t.is(lastLine(r.err), `reasond: hub_unreachable: cannot reach the hub at http://127.0.0.1:${port}: fetch failed (connect ECONNREFUSED 127.0.0.1:${port}); this machine may be offline: check the network, or point --endpoint (HF_ENDPOINT) at a reachable mirror`);
  t.false(existsSync(join(models, 'hub')), 'nothing is written');
});

test('an unknown repo, an unknown revision, an unknown dtype and a dtype the repo lacks give clear errors', async (t) => {
  await withHub(1000, async (hub, models) => {
    const nope = await reasond(['model', 'pull', 'onnx-community/no-such-model', '--endpoint', hub.url, '--models-dir', models]);
    t.is(nope.code, 1);
    t.is(lastLine(nope.err), `reasond: model_not_found: onnx-community/no-such-model was not found on ${hub.url}: check the spelling (owner/name); a private repo needs HF_TOKEN (404 RepoNotFound: Repository not found)`);

    const rev = await pull(hub, models, '--revision', 'v9');
    t.is(rev.code, 1);
    t.is(lastLine(rev.err), `reasond: model_not_found: ${REPO} has no revision "v9" on ${hub.url} (404 RevisionNotFound: Invalid rev id: v9)`);

    hub.log.length = 0;
    const dtype = await pull(hub, models, '--dtype', 'q3');
    t.is(dtype.code, 2);
    t.is(lastLine(dtype.err), 'reasond: invalid_request: dtype "q3" is not one of q4, q4f16, q8, fp16, fp32 (or quantized)');
    t.deepEqual(hub.log, [], 'refused before anything goes on the network');

    const lacking = await pull(hub, models, '--dtype', 'fp16');
    t.is(lacking.code, 1);
    t.is(lastLine(lacking.err), `reasond: model_not_found: ${REPO} has no fp16 weights (looked for onnx/model_fp16.onnx); it has q4, q8, fp32: pick one with --dtype`);

    const notRepo = await reasond(['model', 'pull', 'reasond-tiny', '--endpoint', hub.url, '--models-dir', models]);
    t.is(notRepo.code, 2);
    t.is(lastLine(notRepo.err), 'reasond: invalid_request: "reasond-tiny" is not a hub repo id: write it as owner/name, e.g. onnx-community/Qwen2.5-0.5B-Instruct');

    const unpulled = await reasond(['run', 'What is 17 + 25?', '--model', 'onnx-community/other', '--models-dir', models]);
    t.is(unpulled.code, 1);
    t.is(lastLine(unpulled.err), `reasond: model_not_found: onnx-community/other is neither a model folder nor a model pulled into ${models}: run reasond model pull onnx-community/other`);
  });
});
