/**
 * How well a model knows its limits (issue 15): the shipped model answers a
 * question outside its task families with the fixed word `unsupported`
 * (finish_reason stays `stop`). A task file marks such a question by that
 * expected answer; every other task is in-domain.
 */
import { normalizeAnswer } from './task-file.js';

export const UNSUPPORTED = 'unsupported';

export interface RefusalScore {
  /** tasks whose expected answer is `unsupported` */
  out_of_domain_tasks: number;
  /** ... that the model answered `unsupported` */
  out_of_domain_refused: number;
  /** percent, two decimals; null when the file has no such task */
  out_of_domain_refusal_rate: number | null;
  in_domain_tasks: number;
  /** in-domain tasks that the model wrongly answered `unsupported` */
  in_domain_refused: number;
  in_domain_refusal_rate: number | null;
}

export const isRefusal = (answer: string): boolean => normalizeAnswer(answer) === UNSUPPORTED;

export function refusalScore(results: { expected: string; got: string }[]): RefusalScore {
  const pct = (a: number, b: number) => (b ? Math.round((a / b) * 10000) / 100 : null);
  const ood = results.filter((r) => isRefusal(r.expected));
  const inDomain = results.filter((r) => !isRefusal(r.expected));
  const oodRefused = ood.filter((r) => isRefusal(r.got)).length;
  const inRefused = inDomain.filter((r) => isRefusal(r.got)).length;
  return {
    out_of_domain_tasks: ood.length,
    out_of_domain_refused: oodRefused,
    out_of_domain_refusal_rate: pct(oodRefused, ood.length),
    in_domain_tasks: inDomain.length,
    in_domain_refused: inRefused,
    in_domain_refusal_rate: pct(inRefused, inDomain.length),
  };
}
