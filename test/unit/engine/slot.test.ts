/** Switching engines between tasks (issue 6): a running task keeps its engine, the next gets the new one. */
import test from 'ava';
import type { GenerationResult, ModelInfo } from '../../../src/engine/index.js';
import { ExclusiveRunner } from '../../../src/core/exclusive-runner.js';
import { EngineSlot } from '../../../src/engine/index.js';
import type { TaskEngine } from '../../../src/engine/index.js';

class FakeEngine implements TaskEngine {
  stopped = false;
  private held: (() => void)[] = [];
  constructor(readonly dir: string, private readonly failsToLoad = false) {}
  async start() {
    if (this.failsToLoad) throw new Error(`cannot load ${this.dir}`);
    return this.info;
  }
  async stop() {
    this.stopped = true;
  }
  get info() {
    return { name: this.dir } as ModelInfo;
  }
  async checkPrompt() {}
  async countPromptTokens() {
    return 1;
  }
  async generate() {
    await new Promise<void>((resolve) => this.held.push(resolve));
    return { answer: this.dir } as GenerationResult;
  }
  release() {
    for (const r of this.held.splice(0)) r();
  }
}

test('a task in flight finishes on the old engine, the next runs on the new one, the old stops after its last task', async (t) => {
  const made: FakeEngine[] = [];
  const e = new EngineSlot((dir) => (made.push(new FakeEngine(dir)), made.at(-1)!), async () => ({ dir: 'v1' }));
  await e.start();
  const first = e.generate({ prompt: 'a' });
  const next = await e.load('v2');
  e.switch(next);
  t.is(e.info.name, 'v2');
  t.false(made[0].stopped, 'the old engine still runs its task');
  const second = e.generate({ prompt: 'b' });
  made[0].release();
  made[1].release();
  t.is((await first).answer, 'v1');
  t.is((await second).answer, 'v2');
  await new Promise((resolve) => setImmediate(resolve));
  t.true(made[0].stopped);
  t.false(made[1].stopped);
});

test('at start, a model that cannot load hands over to the next one its boot offers', async (t) => {
  const e = new EngineSlot((dir) => new FakeEngine(dir, dir === 'broken'), async () => ({ dir: 'broken', failed: async () => ({ dir: 'configured' }) }));
  t.is((await e.start()).name, 'configured');
});

test('the exclusive runner runs one change at a time, in order, and survives a failing one', async (t) => {
  const r = new ExclusiveRunner();
  const log: string[] = [];
  const step = (name: string, fail = false) => r.run(name, async () => {
    log.push(`start ${name}`);
    await new Promise((resolve) => setImmediate(resolve));
    log.push(`end ${name}`);
    if (fail) throw new Error(name);
  });
  const a = step('a');
  const b = step('b', true);
  const c = step('c');
  await a;
  await t.throwsAsync(b);
  await c;
  t.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});
