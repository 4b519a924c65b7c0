/**
 * HostConfig.LogConfig: which log drivers Berth has and which of their options it honours. Both
 * `json-file` and `local` are served by the one log store (the shim's rotated files, read by
 * runtime/logfile.ts); `none` keeps no log at all (attach still streams), and `logs` then says
 * what dockerd says. Other drivers do not exist here and are refused as dockerd refuses a driver
 * that is not registered.
 */
import { InvalidParameterError, NotImplementedError } from '../../wire/errors.js';
import type { HostConfig } from './types.js';

export type LogDriver = 'json-file' | 'local' | 'none';

/** Options each driver accepts here; the stores' own options beyond these are refused by name. */
const OPTIONS: Record<LogDriver, readonly string[]> = {
  'json-file': ['max-size', 'max-file', 'compress'],
  local: ['max-size', 'max-file', 'compress'],
  none: [],
};

/** Options dockerd's drivers know that Berth does not apply (line attributes, compression). */
const UNAPPLIED: Record<string, string> = {
  labels: 'per-line attributes', 'labels-regex': 'per-line attributes', env: 'per-line attributes',
  'env-regex': 'per-line attributes', tag: 'per-line attributes',
};

export function logConfigOf(hc: Partial<HostConfig>): { Type: string; Config: Record<string, string> } {
  const lc = (hc.LogConfig ?? {}) as { Type?: string; Config?: Record<string, string> | null };
  return { Type: lc.Type || 'json-file', Config: lc.Config ?? {} };
}

/** The driver of a validated record. */
export function logDriver(hc: Partial<HostConfig>): LogDriver {
  return logConfigOf(hc).Type as LogDriver;
}

/** Create-time checks: a driver Berth has, options it honours (400 naming what is not). */
export function validateLogConfig(hc: Partial<HostConfig>): void {
  const lc = hc.LogConfig as { Type?: unknown; Config?: unknown } | undefined | null;
  if (lc !== undefined && lc !== null) {
    if (typeof lc !== 'object' || Array.isArray(lc)) throw new InvalidParameterError('invalid JSON: field LogConfig must be an object');
    if (lc.Type !== undefined && lc.Type !== null && typeof lc.Type !== 'string') throw new InvalidParameterError('invalid JSON: field LogConfig.Type must be a string');
    if (lc.Config !== undefined && lc.Config !== null
      && (typeof lc.Config !== 'object' || Array.isArray(lc.Config) || Object.values(lc.Config).some((v) => typeof v !== 'string'))) {
      throw new InvalidParameterError('invalid JSON: field LogConfig.Config must be an object of strings');
    }
  }
  const { Type, Config } = logConfigOf(hc);
  if (!(Type in OPTIONS)) throw new InvalidParameterError(`logger: no log driver named '${Type}' is registered`);
  for (const [k, v] of Object.entries(Config)) {
    if (!OPTIONS[Type as LogDriver].includes(k)) {
      if (UNAPPLIED[k] && Type === 'json-file') throw new InvalidParameterError(`log opt '${k}' is not supported by Berth (${UNAPPLIED[k]})`);
      throw new InvalidParameterError(`unknown log opt '${k}' for ${Type} log driver`);
    }
    if (k === 'compress') {
      if (!['true', 'false', '1', '0'].includes(v)) throw new InvalidParameterError(`error reading compress log option: strconv.ParseBool: parsing "${v}": invalid syntax`);
      if (v === 'true' || v === '1') throw new InvalidParameterError('log opt \'compress\' is not supported by Berth: rotated logs are kept uncompressed');
    }
  }
}

/** `logs` of a container whose driver keeps nothing: dockerd's 501. */
export function assertReadableLogs(hc: Partial<HostConfig>): void {
  if (logDriver(hc) === 'none') throw new NotImplementedError('configured logging driver does not support reading');
}
