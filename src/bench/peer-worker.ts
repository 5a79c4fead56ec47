/** transformers.js in a worker thread of its own (issue 13): its heap holds nothing of the bench's. */
import { workerData } from 'node:worker_threads';
import { TransformersPeer } from './peer-transformers.js';
import { serveCalls } from './worker-rpc.js';

const { dir, dtype, threads } = workerData as { dir: string; dtype: string; threads: number };
const peer = new TransformersPeer(dir, dtype, threads);

serveCalls({
  start: () => peer.start(),
  stop: () => peer.stop(),
  generate: (m: { ids: number[]; maxNew: number }) => peer.generate(m.ids, m.maxNew),
});
