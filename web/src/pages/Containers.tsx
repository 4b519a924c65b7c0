import { useState } from 'preact/hooks';
import { send } from '../api';
import { go } from '../router';
import { useStore } from '../store';
import type { ContainerSummary, Port } from '../types';
import { ago, healthOf, nameOf, shortId } from '../util';

/** Published ports as links to http://127.0.0.1:PORT (one per host port, IPv4/IPv6 duplicates merged). */
export function PortLinks(props: { ports: Port[] }) {
  const seen = new Set<string>();
  const links = props.ports.filter((p) => p.PublicPort).filter((p) => {
    const k = `${p.PublicPort}/${p.PrivatePort}/${p.Type}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return (
    <span class="ports">
      {links.map((p) => (
        <a key={`${p.PublicPort}-${p.PrivatePort}`} href={`http://127.0.0.1:${p.PublicPort}/`} target="_blank" rel="noopener noreferrer" data-port={p.PrivatePort}>
          {p.PublicPort}:{p.PrivatePort}
        </a>
      ))}
    </span>
  );
}

export function StateBadge(props: { c: ContainerSummary }) {
  const health = healthOf(props.c.Status);
  return (
    <span>
      <span class={`state ${props.c.State}`} data-state={props.c.State}>{props.c.State}</span>
      {health && <span class={`health ${health.replace(/\W+/g, '-')}`} data-health={health}>{health}</span>}
    </span>
  );
}

export function ContainerActions(props: { c: ContainerSummary; onError: (m: string) => void }) {
  const c = props.c;
  const act = (method: string, path: string, query?: Record<string, string | number>) => () =>
    void send(method, path, query).catch((e: Error) => props.onError(e.message));
  const running = c.State === 'running';
  const paused = c.State === 'paused';
  return (
    <span class="actions">
      {running || paused
        ? <button onClick={act('POST', `/containers/${c.Id}/stop`)} data-action="stop">Stop</button>
        : <button onClick={act('POST', `/containers/${c.Id}/start`)} data-action="start">Start</button>}
      <button onClick={act('POST', `/containers/${c.Id}/restart`)} data-action="restart">Restart</button>
      {running && <button onClick={act('POST', `/containers/${c.Id}/pause`)} data-action="pause">Pause</button>}
      {paused && <button onClick={act('POST', `/containers/${c.Id}/unpause`)} data-action="unpause">Resume</button>}
      <button class="danger" onClick={act('DELETE', `/containers/${c.Id}`, { force: 1, v: 0 })} data-action="delete">Delete</button>
    </span>
  );
}

export function ContainersPage(props: { image?: string }) {
  const all = useStore((s) => s.containers);
  const images = useStore((s) => s.images);
  const loaded = useStore((s) => s.loaded.containers);
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<string[]>([]);
  const [error, setError] = useState<string | undefined>();
  const image = props.image ? images.find((i) => i.Id === props.image) : undefined;
  const list = all
    .filter((c) => !props.image || c.ImageID === props.image)
    .filter((c) => !filter || nameOf(c).includes(filter) || c.Image.includes(filter) || c.Id.startsWith(filter))
    .sort((a, b) => b.Created - a.Created);
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const removeSelected = async () => {
    for (const id of selected) await send('DELETE', `/containers/${id}`, { force: 1 }).catch((e: Error) => setError(e.message));
    setSelected([]);
  };
  return (
    <section>
      <h1>Containers</h1>
      {props.image && (
        <div class="banner info" data-testid="in-use-banner">
          Containers using image <strong>{image?.RepoTags?.[0] ?? shortId(props.image)}</strong> ({list.length}){' '}
          <a href="#/containers">show all</a>
        </div>
      )}
      {error && <div class="banner error">{error} <button class="link" onClick={() => setError(undefined)}>dismiss</button></div>}
      <div class="toolbar">
        <input placeholder="Search containers" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        <button disabled={!selected.length} onClick={() => go(`logs?ids=${selected.join(',')}`)} data-action="logs-selected">Logs of selected</button>
        <button class="danger" disabled={!selected.length} onClick={() => void removeSelected()} data-action="delete-selected">Delete selected</button>
        <span class="muted">{list.length} containers</span>
      </div>
      <table data-testid="containers">
        <thead><tr><th /><th>Name</th><th>Image</th><th>Status</th><th>Port(s)</th><th>Created</th><th>Actions</th></tr></thead>
        <tbody>
          {!loaded && <tr><td colSpan={7}>Loading…</td></tr>}
          {loaded && list.length === 0 && <tr><td colSpan={7} class="muted">No containers.</td></tr>}
          {list.map((c) => (
            <tr key={c.Id} data-container={nameOf(c)}>
              <td><input type="checkbox" checked={selected.includes(c.Id)} onChange={() => toggle(c.Id)} aria-label={`select ${nameOf(c)}`} /></td>
              <td><a href={`#/containers/${c.Id}/logs`} data-action="open">{nameOf(c)}</a><div class="muted mono">{shortId(c.Id)}</div></td>
              <td class="mono">{c.Image}</td>
              <td><StateBadge c={c} /><div class="muted">{c.Status}</div></td>
              <td><PortLinks ports={c.Ports} /></td>
              <td>{ago(c.Created)}</td>
              <td><ContainerActions c={c} onError={setError} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
