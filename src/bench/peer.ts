/**
 * The transformers.js peer as the engine suite sees it: run in a worker of
 * its own, as the floor and the engine are. Before issue 13 it shared the
 * bench's main thread with two tokenizers, and their heaps slowed it as much
 * as they slowed the engine.
 */
export interface PeerRun {
  tokens: number[];
  first_token_ms: number;
  decode_ms: number;
}
import { WorkerClient } from './worker-rpc.js';

export class TransformersPeerInWorker {
  private readonly client: WorkerClient;

  constructor(dir: string, dtype: string, threads: number) {
    this.client = new WorkerClient(import.meta.url, 'peer-worker', { dir, dtype, threads });
  }

  async start(): Promise<void> {
    this.client.start();
    await this.client.call('start');
  }

  generate(ids: number[], maxNew: number): Promise<PeerRun> {
    return this.client.call('generate', { ids, maxNew });
  }

  stop(): Promise<void> {
    return this.client.stop();
  }
}
