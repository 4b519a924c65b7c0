/** The runtime's start failures in Docker's words, so that clients map them to exit codes (127, 126). */
/** Docker's wording for runtime start failures, so the CLI maps exit codes (127, 126). */
export function translateStartError(msg: string, argv0: string | undefined): string {
  let m = msg.trim().split('\n').filter(Boolean).pop() ?? msg.trim();
  // runc logs with logrus: time="…" level=error msg="runc run failed: …"
  const lr = /msg="((?:[^"\\]|\\.)*)"/.exec(m);
  if (lr) m = lr[1]!.replace(/\\(.)/g, '$1');
  m = m.replace(/^runc (run|create) failed: /, '').replace(/^unable to start container process: /, '');
  const runcExec = /^exec: "(.*)": (executable file not found in \$PATH|permission denied|stat .*)$/.exec(m);
  if (runcExec) return `failed to create task for container: failed to create shim task: OCI runtime create failed: unable to start container process: ${m}: unknown`;
  const prefix = 'failed to create task for container: failed to create shim task: OCI runtime create failed: unable to start container process';
  const nf = /executable file `(.*)` not found in \$PATH/.exec(m);
  if (nf) {
    const exe = nf[1]!;
    if (exe.includes('/')) return `${prefix}: exec: "${exe}": stat ${exe}: no such file or directory: unknown`;
    return `${prefix}: exec: "${exe}": executable file not found in $PATH: unknown`;
  }
  if (/open executable: (Permission denied|Operation not permitted)/i.test(m) || /exec.*permission denied/i.test(m)) {
    return `${prefix}: exec: "${argv0 ?? ''}": permission denied: unknown`;
  }
  if (/chdir.*No such file or directory/i.test(m)) {
    return `${prefix}: chdir to cwd set in config.json failed: no such file or directory: unknown`;
  }
  return `${prefix}: ${m.replace(/^(crun|runc): /, '')}: unknown`;
}
