/**
 * Renders a model's chat template (tokenizer_config.json chat_template) with
 * @huggingface/jinja, the implementation transformers.js uses.
 */
import { Template } from '@huggingface/jinja';
import { ReasondError } from '../core/errors.js';
import type { ChatMessage } from './types.js';

export interface ChatTemplate {
  render(messages: ChatMessage[]): string;
}

/** A special token in tokenizer_config.json: a string, or an AddedToken object with `content`. */
export function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

function pickTemplate(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  // Some tokenizer_config.json files carry a list of named templates.
  if (Array.isArray(raw)) return raw.find((t) => t?.name === 'default')?.template ?? raw[0]?.template;
  return undefined;
}

/** Needs tokenizer_config.json only (not tokenizer.json), so the main thread can render prompts cheaply. */
export function loadChatTemplate(tokenizerConfig: Record<string, unknown>): ChatTemplate {
  const specials = {
    bos_token: tokenText(tokenizerConfig.bos_token),
    eos_token: tokenText(tokenizerConfig.eos_token),
    pad_token: tokenText(tokenizerConfig.pad_token),
  };
  const source = pickTemplate(tokenizerConfig.chat_template);
  if (!source) {
    // No template: the prompt goes in as plain text, as with a base model.
    return { render: (messages) => messages.map((m) => m.content).join('\n\n') };
  }
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    throw new ReasondError('model_invalid', `tokenizer_config.json chat_template does not parse: ${(e as Error).message}`);
  }
  return {
    render(messages) {
      try {
        return template.render({ messages, add_generation_prompt: true, ...specials });
      } catch (e) {
        throw new ReasondError('invalid_request', `the chat template rejected the messages: ${(e as Error).message}`);
      }
    },
  };
}

/** A Jinja template of the site's own (a job's prompt, issue 18), rendered as chat templates are. */
export interface TextTemplate {
  render(context: Record<string, unknown>): string;
}

/** Parses `source` now, so a syntax error is a config error at start; throws an Error naming the problem. */
export function compileTemplate(source: string): TextTemplate {
  const template = new Template(source);
  return { render: (context) => template.render(context) };
}
