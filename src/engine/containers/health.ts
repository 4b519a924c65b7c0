/**
 * Healthchecks as dockerd runs them: the configured command is exec'd in the container every
 * Interval (StartInterval during StartPeriod while still "starting"), its output kept (4 KiB at
 * most) in a log of the last 5 probes, and a status of starting → healthy / unhealthy after
 * Retries failures in a row (failures inside StartPeriod do not count while starting). A status
 * change is a `health_status: <status>` event. Berth adds --health-on-failure: what to do with a
 * container that turned unhealthy (none, kill, restart, stop).
 */
import { InvalidParameterError } from '../../wire/errors.js';
import { logFailure } from '../log-failure.js';
import type { ContainerRecord } from './types.js';

export interface HealthConfig {
  /** ["NONE"], ["CMD", arg…], ["CMD-SHELL", command] */
  Test?: string[] | null;
  /** nanoseconds; 0 means the default */
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthLogEntry { Start: string; End: string; ExitCode: number; Output: string }

export interface HealthState { Status: HealthStatus; FailingStreak: number; Log: HealthLogEntry[] }

/** Berth's HostConfig.HealthOnFailure (podman's --health-on-failure); Docker has no such option. */
export const HEALTH_ON_FAILURE = ['none', 'kill', 'restart', 'stop'] as const;
export type HealthOnFailure = typeof HEALTH_ON_FAILURE[number];

const SECOND = 1e9;
export const DEFAULTS = { interval: 30 * SECOND, timeout: 30 * SECOND, startPeriod: 0, startInterval: 5 * SECOND, retries: 3 };
export const MAX_OUTPUT = 4096;
export const MAX_LOG_ENTRIES = 5;
/** dockerd's containertypes.MinimumDuration (1 ms), the shortest interval, timeout or period. */
const MINIMUM_NS = 1e6;

/** Create-time checks with dockerd's messages; HealthOnFailure is Berth's own. */
export function validateHealth(hc: HealthConfig | null | undefined, onFailure: unknown): void {
  if (onFailure !== undefined && onFailure !== null && onFailure !== ''
    && !HEALTH_ON_FAILURE.includes(onFailure as HealthOnFailure)) {
    throw new InvalidParameterError(`invalid HealthOnFailure '${String(onFailure)}': must be one of ${HEALTH_ON_FAILURE.join(', ')}`);
  }
  if (!hc) return;
  if (typeof hc !== 'object' || Array.isArray(hc)) throw new InvalidParameterError('invalid JSON: field Healthcheck must be an object');
  if (hc.Test !== undefined && hc.Test !== null && (!Array.isArray(hc.Test) || hc.Test.some((t) => typeof t !== 'string'))) {
    throw new InvalidParameterError('invalid JSON: field Healthcheck.Test must be a list of strings');
  }
  for (const f of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const v = hc[f];
    if (v === undefined || v === null) continue;
    if (!Number.isInteger(v)) throw new InvalidParameterError(`invalid JSON: field Healthcheck.${f} must be an integer`);
    if (v !== 0 && v < MINIMUM_NS) throw new InvalidParameterError(`${f} in Healthcheck cannot be less than 1ms`);
  }
  if (hc.Retries !== undefined && hc.Retries !== null) {
    if (!Number.isInteger(hc.Retries)) throw new InvalidParameterError('invalid JSON: field Healthcheck.Retries must be an integer');
    if (hc.Retries < 0) throw new InvalidParameterError('Retries in Healthcheck cannot be negative');
  }
}

/** dockerd's merge at create: the image's HEALTHCHECK fills what the request left unset. */
export function mergeHealthcheck(user: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!image) return user ?? undefined;
  if (!user) return { ...image };
  const out: HealthConfig = { ...user };
  if (!out.Test || out.Test.length === 0) out.Test = image.Test;
  for (const f of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    if (!out[f] && image[f]) out[f] = image[f];
  }
  return out;
}

/** The command a probe runs, or undefined when no check is configured (none, or NONE). */
export function probeCommand(hc: HealthConfig | null | undefined, shell: string[] = ['/bin/sh', '-c']): string[] | undefined {
  const test = hc?.Test;
  if (!test || test.length === 0) return undefined;
  if (test[0] === 'CMD' && test.length > 1) return test.slice(1);
  if (test[0] === 'CMD-SHELL' && test.length > 1) return [...shell, ...test.slice(1)];
  return undefined; // NONE, or a type dockerd does not know either
}

/** One probe's outcome folded into the state, as dockerd's handleProbeResult. */
export function applyProbe(state: HealthState, result: HealthLogEntry, hc: HealthConfig, startedAtMs: number): HealthState {
  const retries = hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULTS.retries;
  const log = [...state.Log, result].slice(-MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  const startPeriodMs = (hc.StartPeriod || DEFAULTS.startPeriod) / 1e6;
  const inStartPeriod = state.Status === 'starting' && Date.parse(result.Start) - startedAtMs < startPeriodMs;
  if (inStartPeriod) return { ...state, Log: log };
  const streak = state.FailingStreak + 1;
  return { Status: streak >= retries ? 'unhealthy' : state.Status, FailingStreak: streak, Log: log };
}

/** Milliseconds until the next probe, as dockerd's monitor computes it. */
export function nextProbeDelayMs(hc: HealthConfig, status: HealthStatus, startedAtMs: number, nowMs: number): number {
  const interval = (hc.Interval || DEFAULTS.interval) / 1e6;
  const startInterval = (hc.StartInterval || DEFAULTS.startInterval) / 1e6;
  const startPeriod = (hc.StartPeriod || DEFAULTS.startPeriod) / 1e6;
  const elapsed = nowMs - startedAtMs;
  if (elapsed >= startPeriod) return interval;
  const remaining = startPeriod - elapsed;
  if (remaining < interval) return remaining;
  return status === 'starting' ? startInterval : interval;
}

/** Go's time.Duration.String() (dockerd prints timeouts with it): 200ms, 1.5s, 1m30s, 2h0m0s. */
export function goDuration(ns: number): string {
  const trim = (v: number) => String(Number(v.toFixed(9)));
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  const h = Math.floor(ns / 3.6e12);
  const m = Math.floor((ns % 3.6e12) / 6e10);
  const sec = `${trim((ns % 6e10) / 1e9)}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  return m > 0 ? `${m}m${sec}` : sec;
}

/** What a probe needs from the exec service. */
export interface ProbeExec {
  create(containerId: string, body: { Cmd: string[]; AttachStdout: boolean; AttachStderr: boolean }): string;
  start(execId: string, opts: { detach: boolean }): Promise<{ output: AsyncIterable<{ data: Buffer }>; exited: Promise<{ exitCode: number }> } | undefined>;
  inspect(execId: string): { Pid: number };
}

/** Run one probe: exit code and output (4 KiB, then "..."); -1 with dockerd's message on a timeout. */
export async function runProbe(exec: ProbeExec, containerId: string, argv: string[], timeoutNs: number): Promise<HealthLogEntry> {
  const start = new Date().toISOString();
  let output = '';
  let truncated = false;
  try {
    const id = exec.create(containerId, { Cmd: argv, AttachStdout: true, AttachStderr: true });
    const session = await exec.start(id, { detach: false });
    if (!session) throw new Error('the health check exec did not attach');
    const reading = (async () => {
      for await (const r of session.output) {
        const room = MAX_OUTPUT - Buffer.byteLength(output);
        if (room <= 0) { truncated = true; continue; }
        const text = r.data.subarray(0, room).toString('utf8');
        if (r.data.length > room) truncated = true;
        output += text;
      }
    })();
    const timeoutMs = timeoutNs / 1e6;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((res) => { timer = setTimeout(() => res('timeout'), timeoutMs); });
    const outcome = await Promise.race([session.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      const pid = exec.inspect(id).Pid;
      try { if (pid > 0) process.kill(pid, 'SIGKILL'); } catch { /* it ended meanwhile */ }
      await session.exited;
      const out = output + (truncated ? '...' : '');
      const d = goDuration(timeoutNs);
      return { Start: start, End: new Date().toISOString(), ExitCode: -1, Output: out ? `Health check exceeded timeout (${d}): ${out}` : `Health check exceeded timeout (${d})` };
    }
    await reading;
    return { Start: start, End: new Date().toISOString(), ExitCode: outcome.exitCode, Output: output + (truncated ? '...' : '') };
  } catch (e) {
    return { Start: start, End: new Date().toISOString(), ExitCode: -1, Output: (e as Error).message };
  }
}

export interface HealthDeps {
  find(id: string): ContainerRecord | undefined;
  save(rec: ContainerRecord): Promise<void>;
  /** `health_status: <status>` */
  publish(rec: ContainerRecord, action: string): void;
  probe(rec: ContainerRecord, argv: string[], timeoutNs: number): Promise<HealthLogEntry>;
  /** --health-on-failure once the container turned unhealthy. */
  act(rec: ContainerRecord, action: Exclude<HealthOnFailure, 'none'>): Promise<void>;
}

/** One monitor per running container with a check; started after start, stopped at exit or pause. */
export class HealthMonitor {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** A generation per container: a probe that ends after a stop (or a new start) is ignored. */
  private readonly generation = new Map<string, number>();

  constructor(private readonly deps: HealthDeps) {}

  /** A (re)started container: status starting, streak 0, log kept; or a restored one: state kept. */
  started(rec: ContainerRecord, restored = false): void {
    const hc = rec.Config.Healthcheck as HealthConfig | undefined;
    if (!probeCommand(hc)) return;
    if (!restored || !rec.State.Health) {
      rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: rec.State.Health?.Log ?? [] };
    }
    this.schedule(rec.Id);
  }

  stopped(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.generation.set(id, (this.generation.get(id) ?? 0) + 1);
  }

  close(): void {
    for (const id of [...this.timers.keys()]) this.stopped(id);
  }

  private schedule(id: string): void {
    const rec = this.deps.find(id);
    const hc = rec?.Config.Healthcheck as HealthConfig | undefined;
    if (!rec || !hc || !rec.State.Health) return;
    clearTimeout(this.timers.get(id));
    const gen = this.generation.get(id) ?? 0;
    const delay = nextProbeDelayMs(hc, rec.State.Health.Status, Date.parse(rec.State.StartedAt), Date.now());
    const t = setTimeout(() => { void this.probeOnce(id, gen); }, Math.max(0, delay));
    t.unref();
    this.timers.set(id, t);
  }

  private async probeOnce(id: string, gen: number): Promise<void> {
    this.timers.delete(id);
    const rec = this.deps.find(id);
    const hc = rec?.Config.Healthcheck as HealthConfig | undefined;
    const argv = probeCommand(hc);
    if (!rec || !hc || !argv || rec.State.Status !== 'running') return;
    const result = await this.deps.probe(rec, argv, hc.Timeout || DEFAULTS.timeout);
    const cur = this.deps.find(id);
    if ((this.generation.get(id) ?? 0) !== gen || !cur || cur.State.Status !== 'running' || !cur.State.Health) return;
    const before = cur.State.Health.Status;
    cur.State.Health = applyProbe(cur.State.Health, result, hc, Date.parse(cur.State.StartedAt));
    await this.deps.save(cur).catch(logFailure(`saving the health of ${id}`));
    const now = cur.State.Health.Status;
    if (now !== before) this.deps.publish(cur, `health_status: ${now}`);
    const action = cur.HostConfig.HealthOnFailure as HealthOnFailure | undefined;
    if (now === 'unhealthy' && before !== 'unhealthy' && action && action !== 'none') {
      await this.deps.act(cur, action).catch(logFailure(`--health-on-failure=${action} for ${id}`));
      if (action !== 'restart') return;
    }
    if ((this.generation.get(id) ?? 0) === gen) this.schedule(id);
  }
}
