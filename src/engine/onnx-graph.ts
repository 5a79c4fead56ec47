/**
 * The one file that imports onnx-proto: an ONNX model as a mutable graph for
 * the load-time rewrites (rewrites/), with the producer/consumer look-ups and
 * node builders they share. Weights stay as the decoder's views of the file's
 * bytes; only nodes, inputs and outputs are touched.
 */
import pkg from 'onnx-proto';

const { onnx } = pkg;
type Model = InstanceType<typeof onnx.ModelProto>;
type Node = InstanceType<typeof onnx.NodeProto>;
type ValueInfo = InstanceType<typeof onnx.ValueInfoProto>;
type Tensor = InstanceType<typeof onnx.TensorProto>;

export type { Node as OnnxNode };

export const INT64_MAX = 9223372036854775807n;

export function decodeModel(bytes: Uint8Array): Model {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** A one-node model: `sum = ReduceSum(x, axis 1)` over a [rows, n] float matrix (the benchmark's
 *  read-bandwidth probe; onnxruntime splits the rows between its threads). */
export function reduceSumModel(): Uint8Array {
  const vector = (name: string, dims: (string | number)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
    });
  return encodeModel(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'read-bandwidth',
        node: [onnx.NodeProto.create({ opType: 'ReduceSum', input: ['x', 'axes'], output: ['sum'], attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] })],
        initializer: [onnx.TensorProto.create({ name: 'axes', dataType: onnx.TensorProto.DataType.INT64, dims: [1], int64Data: [1] })],
        input: [vector('x', ['rows', 'n'])],
        output: [vector('sum', ['rows'])],
      },
    }),
  );
}

/** The temporary name suffix of a replacement node (Graph.replacing). */
const REPLACING = '/reasond';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number((v as { toString(): string }).toString()));

export class Graph {
  private producers = new Map<string, Node>();
  private consumers = new Map<string, Node[]>();
  private counter = 0;

  constructor(readonly model: Model) {
    this.index();
  }

  get nodes(): Node[] {
    return this.model.graph!.node as Node[];
  }

  get inputs(): ValueInfo[] {
    return this.model.graph!.input as ValueInfo[];
  }

  get outputs(): ValueInfo[] {
    return this.model.graph!.output as ValueInfo[];
  }

  get initializers(): Tensor[] {
    return (this.model.graph!.initializer ??= []) as Tensor[];
  }

  opset(domain = ''): number {
    const o = this.model.opsetImport.find((x) => (x.domain ?? '') === domain);
    return o ? num(o.version) : 0;
  }

  /** Rebuilds the look-ups after nodes were added or removed. */
  index(): void {
    this.producers.clear();
    this.consumers.clear();
    for (const n of this.nodes) {
      for (const o of n.output) this.producers.set(o, n);
      for (const i of n.input) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
    }
  }

  producer(name: string): Node | undefined {
    return this.producers.get(name);
  }

  consumersOf(name: string): Node[] {
    return this.consumers.get(name) ?? [];
  }

  isGraphOutput(name: string): boolean {
    return this.outputs.some((o) => o.name === name);
  }

  fresh(hint: string): string {
    return `reasond/${hint}_${this.counter++}`;
  }

  attrInts(node: Node, name: string): number[] | undefined {
    const a = node.attribute.find((x) => x.name === name);
    return a ? (a.ints ?? []).map(num) : undefined;
  }

  attrInt(node: Node, name: string): number | undefined {
    const a = node.attribute.find((x) => x.name === name);
    return a && a.i !== undefined && a.i !== null ? num(a.i) : undefined;
  }

  setAttrInt(node: Node, name: string, value: number): void {
    const a = node.attribute.find((x) => x.name === name);
    if (a) a.i = value;
    else node.attribute.push(onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value }));
  }

  /** A constant int64 initializer, by value. */
  int64s(values: (number | bigint)[], hint = 'const'): string {
    const name = this.fresh(hint);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push(
      onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) }),
    );
    return name;
  }

  /** Adds a node and returns its first output's name (fresh unless given; several for a node with more). */
  add(opType: string, inputs: string[], attrs: Record<string, number | number[]> = {}, output?: string | string[], domain = ''): string {
    const outs = output === undefined ? [this.fresh(opType)] : typeof output === 'string' ? [output] : output;
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v })
        : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v }),
    );
    const node = onnx.NodeProto.create({ opType, input: inputs, output: outs, name: outs[0], attribute, domain });
    this.nodes.push(node);
    for (const o of outs) this.producers.set(o, node);
    for (const i of inputs) {
      const list = this.consumers.get(i);
      if (list) list.push(node);
      else this.consumers.set(i, [node]);
    }
    return outs[0];
  }

  /** An initializer by name. */
  tensor(name: string): Tensor | undefined {
    return this.initializers.find((t) => t.name === name);
  }

  /** A new initializer shaped like `like` (same type) with other dims and bytes. */
  addTensor(like: Tensor, dims: number[], raw: Uint8Array, hint: string): string {
    const name = this.fresh(hint);
    this.initializers.push(onnx.TensorProto.create({ name, dataType: like.dataType, dims, rawData: raw }));
    return name;
  }

  /** Points every consumer (and graph output) of `from` at `to`. */
  rewire(from: string, to: string): void {
    for (const n of this.nodes) for (let i = 0; i < n.input.length; i++) if (n.input[i] === from) n.input[i] = to;
    for (const o of this.outputs) if (o.name === from) o.name = to;
    this.index();
  }

  /** Renames a tensor where it is produced and consumed (not in graph outputs). */
  renameInternal(from: string, to: string): void {
    for (const n of this.nodes) {
      for (let i = 0; i < n.input.length; i++) if (n.input[i] === from) n.input[i] = to;
      for (let i = 0; i < n.output.length; i++) if (n.output[i] === from) n.output[i] = to;
    }
    this.index();
  }

  /** Declares a new int64 graph output with symbolic dims. */
  addInt64Output(name: string, dims: string[]): void {
    this.outputs.push(
      onnx.ValueInfoProto.create({
        name,
        type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: dims.map((d) => ({ dimParam: d })) } } },
      }),
    );
  }

  /** Sets a graph output's symbolic dimension (the delta outputs change what a dim means). */
  setOutputDim(name: string, axis: number, param: string): void {
    const o = this.outputs.find((x) => x.name === name);
    const dims = o?.type?.tensorType?.shape?.dim;
    if (dims && dims[axis]) dims[axis] = onnx.TensorShapeProto.Dimension.create({ dimParam: param });
  }

  /**
   * Node replacement in two steps, so a half-built replacement never shadows the node it replaces: build
   * the new node under `replacing(name)`, collect the old ones, then `replace(old)` drops them, gives the
   * new nodes their final names and prunes what nothing reads any more.
   */
  replacing(name: string): string {
    return name + REPLACING;
  }

  replace(old: Set<Node>): void {
    this.model.graph!.node = this.nodes.filter((n) => !old.has(n));
    for (const n of this.nodes) for (let i = 0; i < n.output.length; i++) if (n.output[i]?.endsWith(REPLACING)) n.output[i] = n.output[i].slice(0, -REPLACING.length);
    this.index();
    this.prune();
  }

  /** Drops nodes whose outputs nobody reads, repeatedly (what a rewrite bypassed). */
  prune(): number {
    let removed = 0;
    for (;;) {
      const live = this.nodes.filter((n) => n.output.some((o) => o && (this.isGraphOutput(o) || this.consumersOf(o).length > 0)));
      if (live.length === this.nodes.length) break;
      removed += this.nodes.length - live.length;
      this.model.graph!.node = live;
      this.index();
    }
    const used = new Set(this.nodes.flatMap((n) => n.input));
    this.model.graph!.initializer = this.initializers.filter((t) => used.has(t.name!) || this.isGraphOutput(t.name!));
    return removed;
  }

  /** The values of a constant int tensor (a Constant node's value or an initializer), if `name` is one. */
  constInts(name: string): number[] | undefined {
    const c = this.producer(name);
    const t = c ? (c.opType === 'Constant' ? c.attribute.find((a) => a.name === 'value')?.t : undefined) : this.initializers.find((x) => x.name === name);
    if (!t) return undefined;
    if (t.rawData && t.rawData.length) {
      const copy = new Uint8Array(t.rawData);
      if (t.dataType === onnx.TensorProto.DataType.INT32) return [...new Int32Array(copy.buffer, 0, copy.length / 4)];
      return [...new BigInt64Array(copy.buffer, 0, copy.length / 8)].map(Number);
    }
    return (t.dataType === onnx.TensorProto.DataType.INT32 ? t.int32Data ?? [] : t.int64Data ?? []).map(num);
  }

  /** The names of initializers, i.e. constant inputs. */
  isInitializer(name: string): boolean {
    return this.initializers.some((t) => t.name === name);
  }

  /** Bytes of each initializer's data, whether stored inline or in external data. */
  initializerBytes(): Map<string, number> {
    const sizes = new Map<string, number>();
    const width: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
    for (const t of this.initializers) {
      const ext = (t.externalData ?? []).find((e) => e.key === 'length');
      const count = (t.dims ?? []).reduce((a: number, d) => a * num(d), 1);
      const bytes = t.rawData?.length ? t.rawData.length : ext?.value ? Number(ext.value) : count * (width[t.dataType ?? 1] ?? 4);
      sizes.set(t.name!, bytes);
    }
    return sizes;
  }

  /**
   * Moves every initializer of `minBytes` or more into one external data file (`location`, next to the
   * graph), each at a page-aligned offset, and returns that file's pieces in order. onnxruntime maps
   * external data into memory instead of copying the weights out of the parsed protobuf: on the 0.5B
   * stand-in the session's resident memory fell from 807 to 532 MB with the same speed (issue 13).
   */
  externalize(location: string, minBytes = 1024): Uint8Array[] {
    const pieces: Uint8Array[] = [];
    let offset = 0;
    for (const t of this.initializers) {
      const raw = t.rawData;
      if (!raw || raw.length < minBytes || t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) continue;
      const pad = (4096 - (offset % 4096)) % 4096;
      if (pad) pieces.push(new Uint8Array(pad));
      offset += pad;
      pieces.push(raw);
      t.externalData = [
        onnx.StringStringEntryProto.create({ key: 'location', value: location }),
        onnx.StringStringEntryProto.create({ key: 'offset', value: String(offset) }),
        onnx.StringStringEntryProto.create({ key: 'length', value: String(raw.length) }),
      ];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.rawData = new Uint8Array(0);
      offset += raw.length;
    }
    return pieces;
  }

  /** The external data files the weights point at (relative to the model's folder). */
  externalFiles(): string[] {
    const files = new Set<string>();
    for (const t of this.initializers) {
      if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
        const loc = (t.externalData ?? []).find((e) => e.key === 'location');
        if (loc?.value) files.add(loc.value);
      }
    }
    return [...files];
  }
}
