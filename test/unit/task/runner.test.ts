/**
 * The runner's rows (issue 14): up to capacity() tasks run at once, highest priority first; a lower
 * capacity (the thermal guard's soft state) holds new starts back; a cancel reaches the right task.
 * The engine is a gate the test opens task by task: this is about who runs when, not about tokens
 * (test/unit/engine/batching.test.ts runs the real engine).
 */
import test from 'ava';
import type { ReasondError } from '../../../src/core/errors.js';
import type { GenerateHooks, GenerateRequest, GenerationResult, TaskEngine } from '../../../src/engine/index.js';
import type { Job } from '../../../src/task/job.js';
import { TaskQueue } from '../../../src/task/queue.js';
import { Runner } from '../../../src/task/runner.js';

class GateEngine {
  readonly started: string[] = [];
  private readonly gates = new Map<string, () => void>();

  generate(req: GenerateRequest, hooks?: GenerateHooks): Promise<GenerationResult> {
    const id = req.prompt!;
    this.started.push(id);
    return new Promise((resolve) => {
      const done = (finish: 'stop' | 'cancelled') =>
        resolve({ answer: id, reasoning: '', finish_reason: finish, tokens: [], usage: { prompt_tokens: 1, reasoning_tokens: 0, answer_tokens: 1, completion_tokens: 1 },
          timing: { first_token_ms: 1, prefill_ms: 1, total_ms: 1, prefill_tokens_per_s: 1, decode_tokens_per_s: 1 }, model: { name: 'gate', dtype: 'fp32', file: 'x' } });
      this.gates.set(id, () => done('stop'));
      hooks?.signal?.addEventListener('abort', () => done('cancelled'), { once: true });
    });
  }

  open(id: string): void {
    this.gates.get(id)!();
  }
}

const job = (id: string, priority = 0, seq = 0): Job => ({ id, priority, seq, request: { id, prompt: id } as Job['request'], route: {} as Job['route'], received_at: 0 });
const tick = () => new Promise((r) => setImmediate(r));

function setup(capacity: { n: number }) {
  const engine = new GateEngine();
  const queue = new TaskQueue<Job>(10);
  const finished: string[] = [];
  const failed: [string, string][] = [];
  const runner = new Runner({
    engine: engine as unknown as TaskEngine, queue, clock: { now: () => 0 } as never, defaultMaxNewTokens: 8, capacity: () => capacity.n,
    hooks: {
      started: async () => {},
      delta: () => {},
      finished: async (j) => void finished.push(j.id),
      failed: async (j, e: ReasondError) => void failed.push([j.id, e.code]),
    },
  });
  return { engine, queue, runner, finished, failed };
}

test('up to capacity tasks run at once, highest priority first; each freed row takes the next', async (t) => {
  const cap = { n: 3 };
  const { engine, queue, runner, finished } = setup(cap);
  ['a', 'b', 'c', 'd', 'e'].forEach((id, i) => queue.push(job(id, id === 'e' ? 9 : 0, i)));
  runner.kick();
  await tick();
  t.deepEqual(engine.started, ['e', 'a', 'b']);
  t.deepEqual(runner.runningIds, ['e', 'a', 'b']);
  t.true(runner.busy);
  engine.open('a');
  await tick();
  await tick();
  t.deepEqual(finished, ['a']);
  t.deepEqual(runner.runningIds, ['e', 'b', 'c']);
  // the thermal guard goes soft: one at a time; nothing new starts until the running ones are down to none
  cap.n = 1;
  engine.open('e');
  await tick();
  await tick();
  t.deepEqual(runner.runningIds, ['b', 'c']);
  engine.open('b');
  engine.open('c');
  await tick();
  await tick();
  t.deepEqual(runner.runningIds, ['d']);
  t.is(queue.size, 0);
  engine.open('d');
  await tick();
  await tick();
  t.deepEqual(finished, ['a', 'e', 'b', 'c', 'd']);
  t.deepEqual(runner.runningIds, []);
});

test('a cancel ends the running task it names and no other', async (t) => {
  const { engine, queue, runner, finished, failed } = setup({ n: 2 });
  queue.push(job('a', 0, 0));
  queue.push(job('b', 0, 1));
  runner.kick();
  await tick();
  t.is(await runner.cancel('b'), 'running');
  await tick();
  await tick();
  t.deepEqual(failed, [['b', 'cancelled']]);
  t.deepEqual(runner.runningIds, ['a']);
  engine.open('a');
  await tick();
  await tick();
  t.deepEqual(finished, ['a']);
});
