// The healthcheck flags of `run` and `create` (docker/cli's --health-* and --no-healthcheck) and
// Berth's --health-on-failure, turned into the create body's Healthcheck and HostConfig field.
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { parseGoDuration } from './common.js';
import { FlagValueError } from './create-flags.js';

export const HEALTH_FLAGS: FlagSpec[] = [
  { name: 'health-cmd', type: 'string', usage: "Command that checks the container's health" },
  { name: 'health-interval', type: 'string', typeName: 'duration', usage: 'Time between checks (ms|s|m|h) (default 0s)' },
  { name: 'health-on-failure', type: 'string', usage: 'What to do when the container turns unhealthy: none, kill, restart or stop (Berth only)' },
  { name: 'health-retries', type: 'int', usage: 'Failures in a row before the container counts as unhealthy' },
  { name: 'health-start-interval', type: 'string', typeName: 'duration', usage: 'Time between checks while the start period lasts (ms|s|m|h) (default 0s)' },
  { name: 'health-start-period', type: 'string', typeName: 'duration', usage: 'Time the container gets to start up before failed checks count toward --health-retries (ms|s|m|h) (default 0s)' },
  { name: 'health-timeout', type: 'string', typeName: 'duration', usage: 'Longest one check may run (ms|s|m|h) (default 0s)' },
  { name: 'no-healthcheck', type: 'bool', usage: 'Turn off the HEALTHCHECK the image defines' },
];

export interface HealthFromFlags {
  Healthcheck?: { Test: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  HealthOnFailure?: string;
}

/** Nanoseconds of a --health-* duration flag (0 when not given). */
function durationNs(f: ParsedFlags['flags'], name: string): number {
  const raw = (f[name] as string) || '';
  if (!raw) return 0;
  const ms = raw.startsWith('-') ? (parseGoDuration(raw.slice(1)) ?? NaN) * -1 : parseGoDuration(raw);
  if (ms === null || Number.isNaN(ms)) throw new FlagValueError(`invalid argument "${raw}" for "--${name}" flag: time: invalid duration "${raw}"`);
  if (ms < 0) throw new FlagValueError(`--${name} cannot be negative`);
  return Math.round(ms * 1e6);
}

export function healthFromFlags(f: ParsedFlags['flags']): HealthFromFlags {
  const out: HealthFromFlags = {};
  if (f['health-on-failure']) out.HealthOnFailure = f['health-on-failure'] as string;
  const cmd = (f['health-cmd'] as string) || '';
  const retries = (f['health-retries'] as number) || 0;
  if (retries < 0) throw new FlagValueError('--health-retries cannot be negative');
  const hc = {
    Test: cmd ? ['CMD-SHELL', cmd] : null,
    Interval: durationNs(f, 'health-interval'),
    Timeout: durationNs(f, 'health-timeout'),
    StartPeriod: durationNs(f, 'health-start-period'),
    StartInterval: durationNs(f, 'health-start-interval'),
    Retries: retries,
  };
  const any = cmd !== '' || hc.Interval || hc.Timeout || hc.StartPeriod || hc.StartInterval || hc.Retries;
  if (f['no-healthcheck']) {
    if (any) throw new FlagValueError('--no-healthcheck conflicts with --health-* options');
    out.Healthcheck = { Test: ['NONE'] };
  } else if (any) {
    out.Healthcheck = hc;
  }
  return out;
}
