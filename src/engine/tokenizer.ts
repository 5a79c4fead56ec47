/**
 * The one file that imports @huggingface/tokenizers. Wraps tokenizer.json
 * with the few operations the engine needs, and refuses text that the
 * tokenizer would silently lose (a byte-level vocab missing byte symbols
 * drops non-ASCII characters without a word: see the project brief).
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { ReasondError } from '../core/errors.js';

export interface TextTokenizer {
  encode(text: string): number[];
  /** Special tokens are dropped; spaces are never "cleaned up". */
  decode(ids: number[]): string;
  tokenId(token: string): number | undefined;
  /** True when encode() can never refuse text: not byte-level, or byte-level with all 256 byte symbols. */
  readonly anyText: boolean;
}

/** GPT-2's byte-to-unicode symbols: printable bytes stand for themselves, the rest for U+0100 onwards. */
function byteSymbols(): string[] {
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out.push(String.fromCodePoint(printable ? b : 256 + n++));
  }
  return out;
}

function isByteLevel(json: any): boolean {
  const kinds = [json?.decoder, json?.pre_tokenizer, ...(json?.pre_tokenizer?.pretokenizers ?? []), ...(json?.decoder?.decoders ?? [])];
  return kinds.some((k) => k?.type === 'ByteLevel');
}

/**
 * @huggingface/tokenizers 0.2 keeps the whole parsed tokenizer.json after construction (the
 * Tokenizer's `tokenizer` field, and a BPE model's `config` and `merges`), though only the
 * constructor reads them: the maps it built from them are what encode and decode use. For Qwen's
 * 151k-token vocabulary that is 16 MB of the 49 MB of heap the tokenizer holds (issue 13: every
 * major GC of the engine's thread marks it). Dropped here; fields this version does not have are
 * left alone, and the tokenizer test encodes and decodes through the trimmed object.
 */
function dropParsedJson(tok: Tokenizer): void {
  const t = tok as unknown as { tokenizer?: unknown; model?: { bpe_ranks?: unknown; merges?: unknown; config?: Record<string, unknown> } };
  if (t.tokenizer && typeof t.tokenizer === 'object') t.tokenizer = null;
  const model = t.model;
  if (model?.bpe_ranks instanceof Map) {
    model.merges = undefined;
    if (model.config) model.config = { ...model.config, vocab: undefined, merges: undefined };
  }
}

export function loadTokenizer(tokenizerJson: object, tokenizerConfig: Record<string, unknown>): TextTokenizer {
  // clean_up_tokenization_spaces would change " ," to "," and break exact streaming.
  const tok = new Tokenizer(tokenizerJson, { ...tokenizerConfig, clean_up_tokenization_spaces: false });
  const byteLevel = isByteLevel(tokenizerJson);
  dropParsedJson(tok);
  const anyText = !byteLevel || byteSymbols().every((s) => tok.token_to_id(s) !== undefined);
  return {
    anyText,
    encode(text) {
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      if (byteLevel) {
        const back = tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
        if (back.normalize('NFC') !== text.normalize('NFC')) {
          const lost = [...text].filter((ch) => !back.includes(ch));
          throw new ReasondError(
            'invalid_request',
            `the model's tokenizer cannot represent ${lost.length ? JSON.stringify(lost.slice(0, 5).join('')) : 'part of the text'}; it would be dropped silently`,
          );
        }
      }
      return ids;
    },
    decode: (ids) => (ids.length ? tok.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }) : ''),
    tokenId: (token) => tok.token_to_id(token),
  };
}
