/** `reasond doctor` (issue 8): a table of checks, each with the fix an operator should try. */
import type { AgentConfig } from '../../agent/config.js';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  status: Verdict;
  /** What was found, with the values. */
  detail: string;
  /** Replaces the check's general fix when the finding calls for a more precise one. */
  fix?: string;
  /** Figures later checks read (the model's size for the memory check). */
  data?: Record<string, number | string>;
}

export interface ProviderProbe {
  name: string;
  loads: boolean;
  error?: string;
}

/** Everything the checks read from the machine, handed in so tests can build any situation. */
export interface DoctorContext {
  config: AgentConfig;
  nodeVersion: string;
  arch: string;
  /** "/" on a board; a fixture tree (proc/, sys/) in tests. */
  sysRoot: string;
  now: () => number;
  onnx: {
    version(): Promise<string>;
    /** Opens the model with each execution provider the build has. */
    providers(modelPath: string): Promise<ProviderProbe[]>;
  };
  /** Resolves once connected with the configured URL, TLS files and credentials; rejects with the reason. */
  probeBroker(config: AgentConfig): Promise<void>;
  /** Free bytes on the file system holding the path. */
  freeBytes(path: string): Promise<number>;
}

export interface Check {
  name: string;
  check(ctx: DoctorContext, earlier: Map<string, CheckResult>): Promise<CheckResult>;
  fix: string;
}
