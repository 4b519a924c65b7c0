/**
 * Test isolation: with BERTH_OUTBOUND=loopback in its environment, berthd opens no connection and
 * asks no DNS for a host other than loopback (registries, build contexts, ADD and import URLs).
 * The test daemons run with it, so a fuzzed or mistyped name (`10.0.0.0/x`, `foo.example/x`)
 * never sends traffic off the machine. Unset (the default), nothing is limited.
 */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$/i;

/** The host a URL or git remote (`git@host:path`) names, or undefined when there is none. */
function hostOf(target: string): string | undefined {
  const scp = /^[^@/]+@([^:/]+):/.exec(target);
  if (scp) return scp[1];
  try {
    return new URL(target).hostname;
  } catch {
    return undefined;
  }
}

/** Why `target` may not be reached, or undefined when it may. */
export function outboundRefusal(target: string): string | undefined {
  if (process.env.BERTH_OUTBOUND !== 'loopback') return undefined;
  const host = hostOf(target);
  if (host !== undefined && LOOPBACK.test(host)) return undefined;
  return `dial tcp ${host ?? target}: outbound connections are limited to loopback (BERTH_OUTBOUND=loopback)`;
}
