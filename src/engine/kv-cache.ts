/**
 * The past key/values between steps, keyed by the graph's own names. The
 * present.* outputs of one step are fed back unchanged as the next step's
 * past_key_values.* inputs (same dtype, no copy on our side).
 */
import type { DecoderIo } from './graph-io.js';
import { makeTensor, type Tensor } from './onnx-session.js';

export class KvCache {
  private tensors = new Map<string, Tensor>();
  seqLength = 0;

  constructor(private readonly io: DecoderIo) {}

  /** Past inputs for the next step: the cache, or empty [1, kv_heads, 0, head_dim] tensors before the first. */
  feeds(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const l of this.io.layers) {
      out[l.pastKey] = this.tensors.get(l.pastKey) ?? this.empty();
      out[l.pastValue] = this.tensors.get(l.pastValue) ?? this.empty();
    }
    return out;
  }

  update(outputs: Record<string, Tensor>, added: number): void {
    this.dispose();
    for (const l of this.io.layers) {
      this.tensors.set(l.pastKey, outputs[l.presentKey]);
      this.tensors.set(l.pastValue, outputs[l.presentValue]);
    }
    this.seqLength += added;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose?.();
    this.tensors.clear();
  }

  private empty(): Tensor {
    const data = this.io.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    return makeTensor(this.io.kvType, data, [1, this.io.numKvHeads, 0, this.io.headDim]);
  }
}
