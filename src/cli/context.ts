// Shared command plumbing: the invocation context and error types. Kept tiny: loaded at start-up.
import type { EngineClient } from '../client/index.js';
import type { CommandSpec, ParsedFlags } from './flags.js';

export const PROG = 'berth';
export const CLI_VERSION = '0.1.0';
export const GIT_COMMIT = 'unknown';

export interface Ctx {
  host: string;
  /** -D, or --log-level debug: stack traces with errors. */
  debug: boolean;
  /** --config: the client config folder (config.json's registry auths); else DOCKER_CONFIG or ~/.docker. */
  configDir?: string;
  /** The EngineClient, created on first use (imports node:http lazily). */
  client(): Promise<EngineClient>;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

export interface CommandDef {
  spec: CommandSpec;
  run(ctx: Ctx, p: ParsedFlags, spec: CommandSpec): Promise<number | void>;
}

/** An error with an exit status; `message` is printed as is (possibly empty). */
export class StatusError extends Error {
  readonly status: number;
  constructor(status: number, message = '') {
    super(message);
    this.name = 'StatusError';
    this.status = status;
  }
}
