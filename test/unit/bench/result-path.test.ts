/** A bench run writes its results to a file of its own: a second run the same day never overwrites the first's. */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshResultPath } from '../../../src/bench/run.js';
import { tempDir } from '../../helpers/models.js';

test('the result file takes the next free number when a run of the day already wrote it', (t) => {
  const dir = tempDir();
  t.is(freshResultPath(dir, '2026-12-03-vm'), join(dir, '2026-12-03-vm.json'));
  writeFileSync(join(dir, '2026-12-03-vm.json'), '{}');
  t.is(freshResultPath(dir, '2026-12-03-vm'), join(dir, '2026-12-03-vm-2.json'));
  writeFileSync(join(dir, '2026-12-03-vm-2.json'), '{}');
  t.is(freshResultPath(dir, '2026-12-03-vm'), join(dir, '2026-12-03-vm-3.json'));
  t.is(freshResultPath(dir, '2026-12-04-vm'), join(dir, '2026-12-04-vm.json'));
});
