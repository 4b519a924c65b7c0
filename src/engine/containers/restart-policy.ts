/**
 * Restart policies (`--restart always|unless-stopped|on-failure[:N]`), as dockerd applies them:
 * after an exit with a growing delay, and when the daemon starts. A user's stop cancels them.
 */
import type { ContainerRecord } from './types.js';

/** At daemon start: `always`, and `unless-stopped` unless the user stopped it. */
export function restartsOnBoot(rec: ContainerRecord): boolean {
  const p = rec.HostConfig.RestartPolicy?.Name;
  if (p === 'always') return true;
  if (p === 'unless-stopped') return !rec.StoppedByUser;
  return false;
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
