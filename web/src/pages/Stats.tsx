import { useEffect, useState } from 'preact/hooks';
import { jsonLines } from '../api';
import type { Stats } from '../types';
import { humanSize } from '../util';

interface Point { cpu: number; mem: number; limit: number }

const WINDOW = 60;

/** CPU % as docker stats computes it: container time over system time, times the CPUs. */
function cpuPercent(s: Stats): number {
  const cpu = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sys = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  return sys > 0 && cpu > 0 ? (cpu / sys) * (s.cpu_stats?.online_cpus ?? 1) * 100 : 0;
}

function memUsage(s: Stats): number {
  const usage = s.memory_stats?.usage ?? 0;
  const cache = s.memory_stats?.stats?.total_inactive_file ?? s.memory_stats?.stats?.inactive_file ?? 0;
  return Math.max(0, usage - cache);
}

function Graph(props: { values: number[]; max: number; label: string; value: string; color: string }) {
  const w = 300;
  const h = 80;
  const max = Math.max(props.max, 1e-9);
  const pts = props.values.map((v, i) => `${(i * w) / (WINDOW - 1)},${h - (Math.min(v, max) / max) * h}`).join(' ');
  return (
    <figure class="graph" data-graph={props.label}>
      <figcaption>{props.label} <strong>{props.value}</strong></figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none">
        <polyline points={pts} fill="none" stroke={props.color} stroke-width="2" />
      </svg>
    </figure>
  );
}

/** Live CPU and memory graphs from one `stats?stream=1` stream (a point a second). */
export function StatsView(props: { id: string }) {
  const [points, setPoints] = useState<Point[]>([]);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const ctl = new AbortController();
    setPoints([]);
    void jsonLines<Stats>(`/containers/${props.id}/stats`, { stream: 1 }, (s) => {
      setPoints((p) => [...p.slice(-(WINDOW - 1)), { cpu: cpuPercent(s), mem: memUsage(s), limit: s.memory_stats?.limit ?? 0 }]);
    }, { signal: ctl.signal }).catch((e: Error) => { if (e.name !== 'AbortError') setError(e.message); });
    return () => ctl.abort();
  }, [props.id]);
  const last = points[points.length - 1];
  return (
    <div class="stats" data-testid="stats">
      {error && <div class="banner error">{error}</div>}
      <Graph values={points.map((p) => p.cpu)} max={Math.max(100, ...points.map((p) => p.cpu))} label="CPU" value={last ? `${last.cpu.toFixed(2)}%` : '…'} color="#4fc3f7" />
      <Graph values={points.map((p) => p.mem)} max={Math.max(1, ...points.map((p) => p.mem)) * 1.25} label="Memory" value={last ? `${humanSize(last.mem)}${last.limit ? ` / ${humanSize(last.limit)}` : ''}` : '…'} color="#aed581" />
      <div class="muted">{points.length} samples</div>
    </div>
  );
}
