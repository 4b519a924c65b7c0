/**
 * Teardown steps that must not stop the steps after them (release the network, unmount, remove a
 * folder): a failure is not thrown, but it is not swallowed either. It goes to the daemon's log as
 * a process warning, naming what failed.
 */
export function logFailure(what: string): (e: unknown) => void {
  return (e) => { process.emitWarning(`berthd: ${what}: ${e instanceof Error ? e.message : String(e)}`); };
}
