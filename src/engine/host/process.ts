import { readFileSync } from 'node:fs';

/**
 * The process is gone or a zombie: a container whose init this is has exited, even while its
 * record still says running (the exit is being recorded). Lets a runtime failure in that window
 * be told apart from a real one.
 */
export function processGone(pid: number): boolean {
  if (!(pid > 0)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}
