import { useEffect, useState } from 'preact/hooks';
import { jsonLines } from '../api';
import type { PullProgress } from '../types';

interface Layer { id: string; status: string; progress?: string; current?: number; total?: number }

/** `docker pull` as it goes: one row per layer with its status and a progress bar. */
export function PullPanel(props: { image: string; onClose: () => void }) {
  const [layers, setLayers] = useState<Layer[]>([]);
  const [lines, setLines] = useState<string[]>([]);
  const [state, setState] = useState<'pulling' | 'done' | 'failed'>('pulling');
  useEffect(() => {
    const ctl = new AbortController();
    const byId = new Map<string, Layer>();
    const [name, tag] = splitRef(props.image);
    void jsonLines<PullProgress>('/images/create', { fromImage: name, tag }, (p) => {
      if (p.error || p.errorDetail) { setLines((l) => [...l, p.errorDetail?.message ?? p.error ?? '']); setState('failed'); return; }
      if (p.id && p.status && !/^Pulling from /.test(p.status) && p.id !== tag) {
        byId.set(p.id, { id: p.id, status: p.status, progress: p.progress, current: p.progressDetail?.current, total: p.progressDetail?.total });
        setLayers([...byId.values()]);
      } else if (p.status) {
        setLines((l) => [...l, p.id ? `${p.id}: ${p.status}` : p.status!]);
      }
    }, { method: 'POST', signal: ctl.signal })
      .then(() => setState((s) => (s === 'failed' ? s : 'done')))
      .catch((e: Error) => { if (e.name !== 'AbortError') { setLines((l) => [...l, e.message]); setState('failed'); } });
    return () => ctl.abort();
  }, [props.image]);
  return (
    <div class={`pull ${state}`} data-pull={props.image} data-state={state}>
      <div class="pull-head">
        <strong>Pull {props.image}</strong> <span class="muted">{state}</span>
        <button class="link" onClick={props.onClose}>close</button>
      </div>
      {layers.map((l) => (
        <div class="layer" key={l.id} data-layer={l.id}>
          <span class="mono">{l.id}</span>
          <span class="status">{l.status} <span class="muted">{l.total ? l.progress?.replace(/^.*\]\s*/, '') : ''}</span></span>
          <progress max={l.total ?? 1} value={l.total ? l.current ?? 0 : /complete|exists/i.test(l.status) ? 1 : 0} />
        </div>
      ))}
      {lines.map((s, i) => <div class="line" key={i}>{s}</div>)}
    </div>
  );
}

/** `nginx` → [nginx, latest]; `host:5000/a/b:1` → [host:5000/a/b, 1]; digests stay in the name. */
export function splitRef(ref: string): [string, string | undefined] {
  if (ref.includes('@')) return [ref, undefined];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}
