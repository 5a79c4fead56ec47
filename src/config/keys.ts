/**
 * How a feature declares its config keys (#19). Each key is a config-file key
 * (snake_case), an environment variable REASOND_<KEY> and a flag
 * --<key-with-dashes>; a feature declares its keys once, `as const`, and its
 * config type is derived from that declaration with ConfigOf, so the type, the
 * checks, --help and the README table cannot disagree.
 */
export type KeyType = 'string' | 'integer' | 'boolean' | 'json';

export interface ConfigKey {
  readonly key: string;
  readonly type: KeyType;
  readonly description: string;
  /** A value, or a function for defaults that depend on the machine. */
  readonly default: string | number | boolean | (() => string | number | boolean);
  /** How --help and the README describe a computed default. */
  readonly defaultText?: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly (string | number)[];
  /** Never printed back (status, logs, errors). */
  readonly secret?: boolean;
  /** A string key's shape, and how to say it in an error. */
  readonly pattern?: { readonly regex: RegExp; readonly rule: string };
  /**
   * A json key's reader (a list of jobs, issue 18): the value from the file, or JSON text from a flag or
   * the environment, parsed; every problem is pushed as `<where>: <what is wrong, with the value>`.
   */
  readonly parse?: (value: unknown, where: string, problems: string[]) => unknown;
  /** How --help and the README say a json key's type. */
  readonly typeText?: string;
}

/**
 * A check across keys (thermal limits in order, a period cron can say). It runs
 * in the same pass as the per-key checks, once every key it reads is valid, and
 * returns its problems as `<key>: <what is wrong, with the value>`.
 */
export interface CrossCheck<C> {
  readonly keys: readonly (keyof C & string)[];
  check(c: C): string[];
}

/** A json key is typed by its reader; a key with choices as one of them; otherwise by its type. */
type ValueOf<K extends ConfigKey> = K extends { readonly parse: (...a: never[]) => infer T } ? T
  : K extends { readonly choices: readonly (infer C)[] } ? C
  : K['type'] extends 'integer' ? number : K['type'] extends 'boolean' ? boolean : string;

/** The resolved config of a key list: one field per key, typed by the key's type. */
export type ConfigOf<Keys extends readonly ConfigKey[]> = { -readonly [K in Keys[number] as K['key']]: ValueOf<K> };

export const envName = (key: string) => `REASOND_${key.toUpperCase()}`;
export const flagName = (key: string) => key.replace(/_/g, '-');
export const defaultOf = (k: ConfigKey) => (typeof k.default === 'function' ? k.default() : k.default);

/** The `config` key every daemon has: which JSON file to read, if any. */
export const configFileKey = (defaultFile: string) =>
  ({ key: 'config', type: 'string', default: '', defaultText: `${defaultFile} when it exists`, description: 'JSON config file with any of these keys (snake_case)' }) as const;
