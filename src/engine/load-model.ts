/**
 * Opens a model folder: reads it, opens the ONNX session, maps the graph's
 * inputs and outputs, loads the tokenizer and chat template. Runs where the
 * forward passes run (the engine worker), and directly in tests.
 */
import { ReasondError } from '../core/errors.js';
import { loadChatTemplate, type ChatTemplate } from './chat-template.js';
import { describeIo, mapDecoderIo, type DecoderIo } from './graph-io.js';
import { readModelFolder, type ModelSpec } from './model-folder.js';
import { openSession, type OnnxSession } from './onnx-session.js';
import { loadTokenizer, type TextTokenizer } from './tokenizer.js';
import { DEFAULT_PREFILL_CHUNK, type LoadOptions, type ModelInfo } from './types.js';

export interface LoadedModel {
  spec: ModelSpec;
  session: OnnxSession;
  io: DecoderIo;
  tokenizer: TextTokenizer;
  template: ChatTemplate;
  info: ModelInfo;
  thinkOpenId?: number;
  thinkCloseId?: number;
  /** Prompt tokens per forward pass; 0 = all at once. */
  prefillChunk: number;
}

export async function loadModel(dir: string, options: LoadOptions = {}, log: (line: string) => void = () => {}): Promise<LoadedModel> {
  const spec = readModelFolder(dir, options.dtype);
  const tokenizer = loadTokenizer(spec.tokenizerJson, spec.tokenizerConfig);
  const template = loadChatTemplate(spec.tokenizerConfig);
  const session = await openSession(spec.onnxPath, options, log);
  let io: DecoderIo;
  try {
    io = mapDecoderIo(spec, session.inputs, session.outputs);
  } catch (e) {
    await session.release();
    throw e;
  }
  const thinkOpenId = tokenizer.tokenId('<think>');
  const thinkCloseId = tokenizer.tokenId('</think>');
  const probe = template.render([{ role: 'user', content: 'x' }]);
  const info: ModelInfo = {
    name: spec.name,
    version: spec.version,
    dtype: spec.dtype,
    file: spec.onnxPath,
    dir: spec.dir,
    layout: spec.layout,
    context_length: spec.contextLength,
    eos_token_ids: spec.eosTokenIds,
    execution_provider: session.executionProvider,
    threads: session.threads,
    template_opens_thinking: /<think>\s*$/.test(probe),
    supports_reasoning: thinkOpenId !== undefined && thinkCloseId !== undefined,
  };
  log(`model ${info.name}${info.version ? ' ' + info.version : ''}: ${spec.layout} layout, file ${spec.onnxPath} (dtype ${spec.dtype}), ${describeIo(io)}, context ${info.context_length}, ${info.execution_provider} x${info.threads} threads`);
  const prefillChunk = options.prefill_chunk ?? DEFAULT_PREFILL_CHUNK;
  if (!Number.isInteger(prefillChunk) || prefillChunk < 0) {
    await session.release();
    throw new ReasondError('invalid_request', `prefill_chunk must be a whole number of tokens, 0 or more; got ${prefillChunk}`);
  }
  return { spec, session, io, tokenizer, template, info, thinkOpenId, thinkCloseId, prefillChunk };
}

export async function unloadModel(model: LoadedModel | undefined): Promise<void> {
  if (model) await model.session.release();
}

export function assertModel(model: LoadedModel | undefined): LoadedModel {
  if (!model) throw new ReasondError('model_unavailable', 'no model is loaded');
  return model;
}
