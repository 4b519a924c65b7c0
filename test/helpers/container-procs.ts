/**
 * Ending what a test daemon's containers left running, by the PIDs their records hold, but only
 * after checking that each PID is still that container's: a record can outlive its process (a
 * daemon killed before it saw the exit), and on a host with pid_max 32768 the suite's thousands of
 * spawns reuse PIDs within minutes. A blind SIGKILL to a recorded PID once ended whatever process
 * had taken the number (the host's own berthd died twice without a word in its log).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Whether `pid` is the shim of container `id` (its command line names the ID) or a process in its cgroup. */
export function ownedByContainer(pid: number, id: string): boolean {
  if (!(pid > 0) || !/^[0-9a-f]{64}$/.test(id)) return false;
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(id)) return true;
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').some((l) => l.endsWith(`/${id}`));
  } catch {
    return false; // gone
  }
}

/** SIGKILL the init process and the shim that container `id`'s record in `containersDir` names, if still its own. */
export async function killRecordedProcesses(containersDir: string, id: string): Promise<void> {
  let rec: { State?: { Pid?: number; ShimPid?: number } };
  try {
    rec = JSON.parse(await readFile(join(containersDir, id, 'config.v2.json'), 'utf8'));
  } catch {
    return; // no record
  }
  for (const pid of [rec.State?.Pid ?? 0, rec.State?.ShimPid ?? 0]) {
    if (ownedByContainer(pid, id)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}
