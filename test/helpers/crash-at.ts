/**
 * Loaded with `--import` into a `reasond start` under test (issue 17): kills the process with SIGKILL
 * right after the journal step named by REASOND_TEST_CRASH_AT, for the task whose id is
 * REASOND_TEST_CRASH_ID, as a crash at that instant would. Nothing in src/ knows about it.
 *   receive: the task is committed to the journal; its PUBACK has not gone out
 *   finish:  its answer is committed to the journal and the outbox; nothing is published yet
 */
import { Journal } from '../../src/task/journal.js';

const at = process.env.REASOND_TEST_CRASH_AT;
const id = process.env.REASOND_TEST_CRASH_ID;

function crashAfter<K extends 'receive' | 'finish'>(step: K): void {
  const original = Journal.prototype[step] as (this: Journal, ...a: any[]) => Promise<any>;
  (Journal.prototype as any)[step] = async function (this: Journal, ...a: any[]) {
    const r = await original.apply(this, a);
    const taskId = step === 'receive' ? a[0].id : a[0];
    if (taskId === id) process.kill(process.pid, 'SIGKILL');
    return r;
  };
}

if (at === 'receive' || at === 'finish') crashAfter(at);
else if (at) throw new Error(`REASOND_TEST_CRASH_AT must be receive or finish; got ${JSON.stringify(at)}`);
