/** Docker's signal names (moby/sys/signal): "SIGTERM", "TERM", "term", "15", "RTMIN+3", … */
import { InvalidParameterError } from '../errors.js';

const SIGNALS: Record<string, number> = {
  ABRT: 6, ALRM: 14, BUS: 7, CHLD: 17, CLD: 17, CONT: 18, FPE: 8, HUP: 1, ILL: 4, INT: 2, IO: 29,
  IOT: 6, KILL: 9, PIPE: 13, POLL: 29, PROF: 27, PWR: 30, QUIT: 3, SEGV: 11, STKFLT: 16, STOP: 19,
  SYS: 31, TERM: 15, TRAP: 5, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, USR1: 10, USR2: 12,
  VTALRM: 26, WINCH: 28, XCPU: 24, XFSZ: 25,
};
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** Parse a signal as Docker does; throws InvalidParameterError "Invalid signal: X". */
export function parseSignal(sig: string | number): number {
  const raw = String(sig).trim();
  const bad = (): never => { throw new InvalidParameterError(`Invalid signal: ${raw}`); };
  if (raw === '') bad();
  if (/^[0-9]+$/.test(raw)) {
    const n = Number(raw);
    if (n === 0 || n > SIGRTMAX) bad();
    return n;
  }
  const name = raw.toUpperCase().replace(/^SIG/, '');
  if (name in SIGNALS) return SIGNALS[name]!;
  const rt = /^RT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const off = rt[3] ? Number(rt[3]) * (rt[2] === '-' ? -1 : 1) : 0;
    const n = base + off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  return bad();
}

/** Canonical name for a signal number ("SIGTERM"), for events and messages. */
export function signalName(n: number): string {
  for (const [k, v] of Object.entries(SIGNALS)) if (v === n && k !== 'CLD' && k !== 'IOT' && k !== 'POLL') return `SIG${k}`;
  if (n >= SIGRTMIN && n <= SIGRTMAX) return n === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${n - SIGRTMIN}`;
  return String(n);
}
