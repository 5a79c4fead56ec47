/**
 * Prompts of an exact token length for the engine suite: the user message is
 * padded with filler words until the chat-templated prompt is n tokens, so
 * the engine (given text) and the floor and transformers.js (given ids) see
 * the same tokens. The tokenizer and template are the engine's own modules.
 */
import { loadChatTemplate } from '../engine/chat-template.js';
import { readModelFolder } from '../engine/model-folder.js';
import { loadTokenizer } from '../engine/tokenizer.js';
import type { Dtype } from '../engine/types.js';

export interface BenchPrompt {
  prompt: string;
  ids: number[];
}

const WORDS = ['alpha', 'river', 'seven', 'stone', 'green', 'north', 'paper', 'light', 'metal', 'cloud', 'eight', 'table'];

export class PromptMaker {
  private readonly encode: (text: string) => number[];

  constructor(dir: string, dtype?: Dtype) {
    const spec = readModelFolder(dir, dtype);
    const tok = loadTokenizer(spec.tokenizerJson!, spec.tokenizerConfig);
    const template = loadChatTemplate(spec.tokenizerConfig);
    this.encode = (text) => tok.encode(template.render([{ role: 'user', content: text }]));
  }

  /** A prompt of exactly n tokens after the template, or the shortest one above (byte-level vocabularies cannot hit every n). */
  make(n: number): BenchPrompt {
    const text = (k: number) => 'Count the words: ' + Array.from({ length: k }, (_, i) => WORDS[(i * 7) % WORDS.length]).join(' ');
    // The length grows with the word count: binary search for the fewest words reaching n.
    let lo = 1;
    let hi = Math.max(1, n);
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.encode(text(mid)).length >= n) hi = mid;
      else lo = mid + 1;
    }
    const prompt = text(lo);
    return { prompt, ids: this.encode(prompt) };
  }
}
