import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call, getJson, logDecoder, readStream } from '../api';
import type { ContainerInspect } from '../types';

interface Line { n: number; container: string; stream: 'stdout' | 'stderr'; time: string; text: string }

const MAX_LINES = 5000;
const COLORS = ['#4fc3f7', '#aed581', '#ffb74d', '#f06292', '#ba68c8', '#4db6ac'];

/** Text with each match of `q` (case-insensitive) wrapped in <mark>. */
function Highlight(props: { text: string; q: string }) {
  if (!props.q) return <>{props.text}</>;
  const out = [];
  const lower = props.text.toLowerCase();
  const q = props.q.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(q); i >= 0; i = lower.indexOf(q, at)) {
    out.push(props.text.slice(at, i), <mark key={i}>{props.text.slice(i, i + q.length)}</mark>);
    at = i + q.length;
  }
  out.push(props.text.slice(at));
  return <>{out}</>;
}

/** Live logs of one or several containers, merged by time, with search and highlight. */
export function LogView(props: { ids: string[] }) {
  const [lines, setLines] = useState<Line[]>([]);
  const [q, setQ] = useState('');
  const [onlyMatches, setOnlyMatches] = useState(false);
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  const key = props.ids.join(',');

  useEffect(() => {
    setLines([]);
    const ctl = new AbortController();
    let n = 0;
    let pending: Line[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const add = pending;
      pending = [];
      setLines((old) => {
        const merged = [...old, ...add];
        if (props.ids.length > 1) merged.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.n - b.n));
        return merged.length > MAX_LINES ? merged.slice(-MAX_LINES) : merged;
      });
    };
    for (const id of props.ids) {
      void (async () => {
        const info = await getJson<ContainerInspect>(`/containers/${id}/json`);
        const name = info.Name.replace(/^\//, '');
        const res = await call('GET', `/containers/${id}/logs`, { query: { follow: 1, stdout: 1, stderr: 1, timestamps: 1, tail: 1000 }, signal: ctl.signal });
        await readStream(res, logDecoder(info.Config.Tty ?? false, (raw, stream) => {
          const sp = raw.indexOf(' ');
          pending.push({ n: n++, container: name, stream, time: raw.slice(0, sp), text: raw.slice(sp + 1) });
          timer ??= setTimeout(flush, 50);
        }));
      })().catch((e: Error) => {
        if (e.name === 'AbortError') return;
        pending.push({ n: n++, container: id.slice(0, 12), stream: 'stderr', time: '', text: `(logs: ${e.message})` });
        timer ??= setTimeout(flush, 50);
      });
    }
    return () => { ctl.abort(); if (timer) clearTimeout(timer); };
  }, [key]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);

  const names = useMemo(() => [...new Set(lines.map((l) => l.container))], [lines]);
  const lq = q.toLowerCase();
  const matches = q ? lines.filter((l) => l.text.toLowerCase().includes(lq)).length : 0;
  const shown = onlyMatches && q ? lines.filter((l) => l.text.toLowerCase().includes(lq)) : lines;
  return (
    <div class="logs">
      <div class="toolbar">
        <input name="log-search" placeholder="Search logs" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <label><input type="checkbox" checked={onlyMatches} onChange={() => setOnlyMatches(!onlyMatches)} /> only matching lines</label>
        <label><input type="checkbox" checked={follow} onChange={() => setFollow(!follow)} /> follow</label>
        {q && <span class="muted" data-testid="match-count">{matches} matching lines</span>}
      </div>
      <div class="logbox" ref={box} data-testid="logs">
        {shown.map((l) => (
          <div class={`logline ${l.stream}`} key={l.n}>
            {props.ids.length > 1 && <span class="who" style={{ color: COLORS[names.indexOf(l.container) % COLORS.length] }}>{l.container}</span>}
            <span class="time">{l.time.replace('T', ' ').slice(0, 23)}</span>
            <span class="text"><Highlight text={l.text} q={q} /></span>
          </div>
        ))}
      </div>
    </div>
  );
}
