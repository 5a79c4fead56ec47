/** The digest index (issue 13): a file unchanged since its digest was remembered is not read again; a changed one is. */
import test from 'ava';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File, sha256FileIndexed } from '../../../src/core/hash.js';
import { tempDir } from '../../helpers/models.js';

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

test('the indexed digest is the file digest; an unchanged file is answered from the index, a changed one hashed again', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'model.onnx');
  const index = join(dir, 'index', 'sha256-index.json'); // its folder is made on first use
  writeFileSync(file, 'abc');
  t.is(await sha256FileIndexed(file, index), ABC);
  t.is(await sha256File(file), ABC);
  // the index answers for the same file identity: shown by planting another digest under its key
  const planted = JSON.parse(readFileSync(index, 'utf8'));
  planted[file].sha256 = 'planted';
  writeFileSync(index, JSON.stringify(planted));
  t.is(await sha256FileIndexed(file, index), 'planted');
  // rewritten in place, even with the old modification time put back: the change time moved
  const before = planted[file].key;
  writeFileSync(file, '');
  utimesSync(file, new Date(0), new Date(0));
  t.is(await sha256FileIndexed(file, index), EMPTY);
  t.not(JSON.parse(readFileSync(index, 'utf8'))[file].key, before);
});

test('an index that is not JSON, or cannot be written, only costs the shortcut', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'model.onnx');
  writeFileSync(file, 'abc');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{not json');
  t.is(await sha256FileIndexed(file, bad), ABC);
  const blocked = join(file, 'index.json'); // under a file: never writable
  t.is(await sha256FileIndexed(file, blocked), ABC);
});
