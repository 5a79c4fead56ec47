/**
 * The one file that imports ajv: compiles a protocol schema into a checker whose
 * errors name the field and the value. The task intake, the controller (agents'
 * metrics) and the tests (fixtures and real messages against the contract) use it.
 */
import AjvModule, { type ErrorObject } from 'ajv';

// ajv's CommonJS default export, seen from ESM.
const Ajv = AjvModule as unknown as typeof AjvModule.default;

export interface Checker<T> {
  (value: unknown): value is T;
  /** The last failed check's problems, each `<field>: <what is wrong>; got <value>`, or `<field>: unknown field (value ...)`. */
  problems(): string[];
}

export const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** One problem as the task wire has always worded it; `whole` names the top-level object ("the task"). */
export function describeProblem(e: ErrorObject, whole: string): string {
  const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || whole;
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    const path = field === whole ? extra : `${field}.${extra}`;
    return `${path}: unknown field (value ${show((e.data as Record<string, unknown>)[extra])})`;
  }
  if (e.keyword === 'required') return `${field === whole ? '' : field + '.'}${(e.params as { missingProperty: string }).missingProperty}: is required`;
  return `${field} ${e.message}; got ${show(e.data)}`;
}

export function checker<T>(schema: object, whole = 'the message'): Checker<T> {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  const check = ajv.compile(schema);
  const fn = ((value: unknown) => check(value)) as Checker<T>;
  fn.problems = () => (check.errors ?? []).map((e) => describeProblem(e, whole));
  return fn;
}
