/**
 * Restart policies (`--restart always|unless-stopped|on-failure[:N]`), as dockerd applies them:
 * after an exit with a growing delay, and when the daemon starts. A user's stop cancels them.
 */
import { InvalidParameterError } from '../../wire/errors.js';
import type { ContainerRecord, RestartPolicy } from './types.js';

/** dockerd's checks of a restart policy (create and update), with its messages. */
export function validateRestartPolicy(p: Partial<RestartPolicy> | null | undefined): void {
  const name = p?.Name ?? '';
  const count = p?.MaximumRetryCount ?? 0;
  if (typeof name !== 'string') throw new InvalidParameterError('invalid JSON: field RestartPolicy.Name must be a string');
  if (!Number.isInteger(count)) throw new InvalidParameterError('invalid JSON: field RestartPolicy.MaximumRetryCount must be an integer');
  switch (name) {
    case 'always': case 'unless-stopped': case 'no':
      if (count !== 0) {
        throw new InvalidParameterError(`invalid restart policy: maximum retry count can only be used with 'on-failure'${count < 0 ? ' and cannot be negative' : ''}`);
      }
      return;
    case 'on-failure':
      if (count < 0) throw new InvalidParameterError('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      return; // as dockerd: an empty name takes any count, for older clients
    default:
      throw new InvalidParameterError(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/**
 * At daemon start: `always`; `unless-stopped` unless the user stopped it; `on-failure` after a
 * failure the user did not cause, within its count (a container caught in its back-off too).
 */
export function restartsOnBoot(rec: ContainerRecord): boolean {
  const p = rec.HostConfig.RestartPolicy;
  if (p?.Name === 'always') return true;
  if (rec.StoppedByUser) return false;
  if (p?.Name === 'unless-stopped') return true;
  return p?.Name === 'on-failure' && rec.State.ExitCode !== 0 && (!p.MaximumRetryCount || rec.RestartCount < p.MaximumRetryCount);
}

/** After an exit the user did not ask for: `on-failure` only on a non-zero code, up to its count. */
export function restartsAfterExit(rec: ContainerRecord): boolean {
  if (rec.StoppedByUser) return false;
  const p = rec.HostConfig.RestartPolicy;
  if (p?.Name === 'always' || p?.Name === 'unless-stopped') return true;
  if (p?.Name === 'on-failure') {
    return rec.State.ExitCode !== 0 && (!p.MaximumRetryCount || rec.RestartCount < p.MaximumRetryCount);
  }
  return false;
}

/** The wait before restart number `count` (1, 2, …): doubling from 200 ms, at most a minute. */
export function restartDelayMs(count: number): number {
  return Math.min(100 * 2 ** Math.min(count, 10), 60_000);
}
