/**
 * The engine's worker thread. onnxruntime-node's run() computes on the thread
 * that calls it, so every forward pass happens here and the main thread's
 * MQTT keep-alives, timers and watchdog never wait on one. Loading and
 * unloading are served in arrival order; generations join the running ones
 * (generate.ts batches them) and unloading waits for them to end.
 */
import { parentPort } from 'node:worker_threads';
import { isReasondError } from '../core/errors.js';
import { generate, promptTokens } from './generate.js';
import { assertModel, loadModel, unloadModel, type LoadedModel } from './load-model.js';
import type { FromWorker, ToWorker, WireError } from './protocol.js';

const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const wire = (e: unknown): WireError =>
  isReasondError(e) ? { code: e.code, message: e.message } : { code: 'internal', message: (e as Error)?.message ?? String(e) };

let model: LoadedModel | undefined;
let chain: Promise<void> = Promise.resolve();
const running = new Set<Promise<void>>();

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'load':
      try {
        await unloadModel(model);
        model = undefined;
        model = await loadModel(m.dir, m.options, (line) => send({ type: 'log', line }));
        model.passes = new Int32Array(m.passes);
        send({ type: 'loaded', info: model.info, anyText: model.tokenizer.anyText, tokenizerConfig: model.spec.tokenizerConfig });
      } catch (e) {
        send({ type: 'load_failed', error: wire(e) });
      }
      return;
    case 'generate': {
      const flag = new Int32Array(m.cancel);
      try {
        const result = await generate(assertModel(model), m.req, {
          cancelled: () => Atomics.load(flag, 0) === 1,
          onDelta: m.stream ? (delta) => send({ type: 'delta', id: m.id, delta }) : undefined,
          useCache: m.useCache,
        });
        send({ type: 'result', id: m.id, result });
      } catch (e) {
        send({ type: 'failed', id: m.id, error: wire(e) });
      }
      return;
    }
    case 'unload':
      await Promise.all(running);
      await unloadModel(model);
      model = undefined;
      send({ type: 'unloaded' });
      return;
  }
}

/** Counting needs only the tokenizer: done at once (between two forward passes of a running generation). */
function count(m: Extract<ToWorker, { type: 'count' }>): void {
  try {
    send({ type: 'counted', id: m.id, tokens: promptTokens(assertModel(model), m.req).length });
  } catch (e) {
    send({ type: 'count_failed', id: m.id, error: wire(e) });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'count') return count(m);
  if (m.type === 'generate') {
    // after the load before it, beside the generations already running
    const run = chain.then(() => handle(m));
    running.add(run);
    void run.finally(() => running.delete(run));
    return;
  }
  chain = chain.then(() => handle(m));
});
