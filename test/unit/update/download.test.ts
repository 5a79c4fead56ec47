/** The package server and the resumable downloader, over real HTTP on 127.0.0.1 (issue 6). */
import test from 'ava';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downloadFiles, fetchManifest, type Progress } from '../../../src/update/download.js';
import { hasReason } from '../../../src/package/errors.js';
import { PackageServer } from '../../../src/package/server.js';
import { checkFiles } from '../../../src/package/verify.js';
import { makeKeys, makePackage } from '../../helpers/packages.js';
import { tempDir } from '../../helpers/models.js';

const keys = makeKeys();

async function served(t: any) {
  const root = tempDir('reasond-serve-');
  const { manifest } = await makePackage({ keys, version: '1.0.0', out: join(root, 'tiny', '1.0.0') });
  const requests: { path: string; range?: string }[] = [];
  const server = new PackageServer({ root, onRequest: (path, range) => requests.push({ path, range }) });
  const url = await server.start();
  t.teardown(() => server.stop());
  return { root, manifest, url, base: `${url}tiny/1.0.0/`, requests };
}

test('the server lists packages, answers Range with 206 and refuses paths outside its root', async (t) => {
  const { url, base, root } = await served(t);
  t.deepEqual((await (await fetch(`${url}index.json`)).json()).packages, [{ name: 'tiny', version: '1.0.0', path: '/tiny/1.0.0/' }]);
  const whole = readFileSync(join(root, 'tiny/1.0.0/config.json'));
  const part = await fetch(`${base}config.json`, { headers: { range: 'bytes=10-19' } });
  t.is(part.status, 206);
  t.is(part.headers.get('content-range'), `bytes 10-19/${whole.length}`);
  t.deepEqual(Buffer.from(await part.arrayBuffer()), whole.subarray(10, 20));
  t.is((await fetch(`${base}config.json`, { headers: { range: `bytes=${whole.length}-` } })).status, 416);
  t.is((await fetch(`${url}tiny/1.0.0/..%2F..%2F..%2Fetc%2Fpasswd`)).status, 404);
});

test('a download cut off half-way resumes with Range and ends with verified files and monotonic progress', async (t) => {
  const { manifest, base, requests } = await served(t);
  const dir = join(tempDir(), 'staging');
  const big = manifest.files.find((f) => f.path === 'onnx/model.onnx_data')!;
  // The first response for the big file breaks after 100000 bytes, like a dropped Wi-Fi link.
  let cut = false;
  const flaky: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (cut || !String(input).endsWith('model.onnx_data')) return res;
    cut = true;
    const reader = res.body!.getReader();
    let sent = 0;
    const body = new ReadableStream({
      async pull(c) {
        const { value, done } = await reader.read();
        if (done || sent >= 100000) return c.error(new Error('connection reset'));
        const chunk = value.subarray(0, Math.max(0, 100000 - sent));
        sent += chunk.length;
        c.enqueue(chunk);
      },
    }, { highWaterMark: 0 }); // pull only when read, so nothing queued is dropped by the error
    return new Response(body, { status: res.status, headers: res.headers });
  };
  const progress: Progress[] = [];
  const first = await t.throwsAsync(downloadFiles({ base, manifest, dir, fetch: flaky, onProgress: (p) => progress.push(p) }));
  t.true(hasReason(first, 'download_failed'));
  t.is(statSync(join(dir, 'onnx/model.onnx_data.part')).size, 100000);
  await downloadFiles({ base, manifest, dir, fetch, onProgress: (p) => progress.push(p) });
  const resumed = requests.filter((r) => r.path.endsWith('model.onnx_data'));
  t.deepEqual(resumed.map((r) => r.range), [undefined, 'bytes=100000-']);
  t.false(existsSync(join(dir, 'onnx/model.onnx_data.part')));
  t.is(statSync(join(dir, 'onnx/model.onnx_data')).size, big.size);
  writeFileSync(join(dir, 'reasond-model.json'), JSON.stringify(manifest));
  await t.notThrowsAsync(checkFiles(dir, manifest));
  const percents = progress.map((p) => p.percent);
  t.is(percents.at(-1), 100);
  t.true(percents.every((p, i) => i === 0 || p >= percents[i - 1]), percents.join(','));
  // files already complete were not fetched again
  t.is(requests.filter((r) => r.path === '/tiny/1.0.0/config.json').length, 1);
});

test('fetchManifest reads the signed manifest; a missing package is download_failed', async (t) => {
  const { base, url } = await served(t);
  t.is((await fetchManifest(base, fetch)).manifest.version, '1.0.0');
  t.true(hasReason(await t.throwsAsync(fetchManifest(`${url}nope/`, fetch)), 'download_failed'));
});

/** A server that answers the big file with an endless body (as a broken or hostile one may): counts what was pulled. */
function endless(manifestPath: string, announce?: number) {
  const pulled = { bytes: 0 };
  const f: typeof fetch = async (input, init) => {
    if (!String(input).endsWith(manifestPath)) return fetch(input, init);
    const chunk = new Uint8Array(64 * 1024).fill(7);
    const body = new ReadableStream({
      pull(c) {
        pulled.bytes += chunk.length;
        c.enqueue(chunk);
      },
    }, { highWaterMark: 0 });
    return new Response(body, { status: 200, headers: announce === undefined ? {} : { 'content-length': String(announce) } });
  };
  return { f, pulled };
}

test('a server that streams past the signed size is cut off at it: size_mismatch, nothing more read, the partial file removed', async (t) => {
  const { manifest, base } = await served(t);
  const dir = join(tempDir(), 'staging');
  const big = manifest.files.find((f) => f.path === 'onnx/model.onnx_data')!;
  const { f, pulled } = endless('model.onnx_data');
  const e = await t.throwsAsync(downloadFiles({ base, manifest, dir, fetch: f }));
  t.true(hasReason(e, 'size_mismatch'));
  t.is(e!.message, `size_mismatch: ${base}onnx/model.onnx_data sent more than the ${big.size} bytes the signed manifest gives onnx/model.onnx_data; stopped there and removed the partial file`);
  // read up to the signed size, the chunk that crossed it and one chunk of Node's read-ahead (an endless
  // body: a loop that kept reading would never end); only the signed size was ever written
  t.true(pulled.bytes <= big.size + 2 * 64 * 1024, `${pulled.bytes} bytes pulled for ${big.size}`);
  t.false(existsSync(join(dir, 'onnx/model.onnx_data.part')));
  t.false(existsSync(join(dir, 'onnx/model.onnx_data')));
});

test('a Content-Length past the signed size is refused before a byte of the body is read', async (t) => {
  const { manifest, base } = await served(t);
  const dir = join(tempDir(), 'staging');
  const big = manifest.files.find((f) => f.path === 'onnx/model.onnx_data')!;
  const { f, pulled } = endless('model.onnx_data', big.size + 1);
  t.true(hasReason(await t.throwsAsync(downloadFiles({ base, manifest, dir, fetch: f })), 'size_mismatch'));
  t.is(pulled.bytes, 0);
  t.false(existsSync(join(dir, 'onnx/model.onnx_data.part')));
});

test('progress is reported at most once a second: with the clock standing still, only the start and the end', async (t) => {
  const { manifest, base } = await served(t);
  const dir = join(tempDir(), 'staging');
  const progress: number[] = [];
  await downloadFiles({ base, manifest, dir, fetch, now: () => 5_000, onProgress: (p) => progress.push(p.percent) });
  t.deepEqual(progress, [0, 100]);
  // and with a clock that moves 250 ms between readings, one report per four readings at most
  const dir2 = join(tempDir(), 'staging');
  let clock = 0;
  const paced: number[] = [];
  await downloadFiles({ base, manifest, dir: dir2, fetch, now: () => (clock += 250), onProgress: (p) => paced.push(clock) });
  const gaps = paced.slice(1, -1).map((at, i) => at - paced[i]);
  t.true(gaps.every((g) => g >= 1000), gaps.join(','));
});
