import { useState } from 'preact/hooks';
import { ApiError, call, postJson, send } from '../api';
import { download, execCollect } from '../exec';
import { listTar } from '../tar';
import { useStore } from '../store';
import type { ContainerSummary } from '../types';
import { nameOf } from '../util';

/** The containers that mount volume `name`, with where. */
function users(containers: ContainerSummary[], name: string): Array<{ c: ContainerSummary; dest: string }> {
  const out = [];
  for (const c of containers) for (const m of c.Mounts ?? []) if (m.Type === 'volume' && m.Name === name && m.Destination) out.push({ c, dest: m.Destination });
  return out;
}

/** The volume as a tar from `GET /volumes/{name}/archive`; undefined when this berthd has no such endpoint. */
async function archive(name: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    return new Uint8Array(await (await call('GET', `/volumes/${encodeURIComponent(name)}/archive`)).arrayBuffer());
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && /page not found/.test(e.message)) return undefined;
    throw e;
  }
}

/**
 * Browse and export: through the daemon's `GET /volumes/{name}/archive` when it has one; else
 * through a running container that mounts the volume (`find` and `tar` run by exec there).
 */
function VolumeDetail(props: { name: string }) {
  const containers = useStore((s) => s.containers);
  const using = users(containers, props.name);
  const runner = using.find((u) => u.c.State === 'running');
  const [files, setFiles] = useState<string[] | undefined>();
  const [msg, setMsg] = useState<string | undefined>();
  const browse = async () => {
    setMsg(undefined);
    const tar = await archive(props.name);
    if (tar) {
      setFiles(listTar(tar).map((e) => `${e.path.replace(/^\.?\/?/, '/').replace(/\/$/, '')}${e.type === 'dir' ? '/' : ''}${e.type === 'file' ? `  (${e.size} B)` : ''}`).filter((p) => p !== '/').sort());
      return;
    }
    if (!runner) { setMsg('Browsing needs a running container that mounts this volume (this berthd has no volume archive endpoint).'); return; }
    const r = await execCollect(runner.c.Id, ['find', runner.dest, '-mindepth', '1', '-maxdepth', '6']);
    const text = new TextDecoder().decode(r.output);
    setFiles(text.split('\n').filter(Boolean).map((p) => p.slice(runner.dest.length) || '/').sort());
  };
  const exportTar = async () => {
    setMsg(undefined);
    const tar = await archive(props.name);
    if (tar) { download(tar, `${props.name}.tar`); return; }
    if (!runner) { setMsg('Export needs a running container that mounts this volume (this berthd has no volume archive endpoint).'); return; }
    const r = await execCollect(runner.c.Id, ['tar', '-c', '-f', '-', '-C', runner.dest, '.']);
    if (r.exit !== 0) { setMsg(`tar exited with ${r.exit}`); return; }
    download(r.output, `${props.name}.tar`);
  };
  return (
    <div class="detail" data-testid="volume-detail">
      <h2>{props.name}</h2>
      <div>Used by: {using.length ? using.map((u) => <a key={u.c.Id} href={`#/containers/${u.c.Id}/logs`}>{nameOf(u.c)} ({u.dest}) </a>) : <span class="muted">no container</span>}</div>
      <div class="toolbar">
        <button onClick={() => void browse().catch((e: Error) => setMsg(e.message))} data-action="browse">Browse files</button>
        <button onClick={() => void exportTar().catch((e: Error) => setMsg(e.message))} data-action="export">Export (tar)</button>
      </div>
      {msg && <div class="banner warn">{msg}</div>}
      {files && <ul class="files" data-testid="volume-files">{files.length ? files.map((f) => <li key={f} class="mono">{f}</li>) : <li class="muted">(empty)</li>}</ul>}
    </div>
  );
}

export function VolumesPage(props: { name?: string }) {
  const volumes = useStore((s) => s.volumes);
  const containers = useStore((s) => s.containers);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    await postJson('/volumes/create', name.trim() ? { Name: name.trim() } : {}).then(() => setName(''), (err: Error) => setError(err.message));
  };
  return (
    <section>
      <h1>Volumes</h1>
      <form class="toolbar" onSubmit={create}>
        <input name="volume-name" placeholder="New volume name (empty: random)" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit" data-action="create-volume">Create</button>
      </form>
      {error && <div class="banner error">{error} <button class="link" onClick={() => setError(undefined)}>dismiss</button></div>}
      <table data-testid="volumes">
        <thead><tr><th>Name</th><th>Driver</th><th>Created</th><th>In use by</th><th>Actions</th></tr></thead>
        <tbody>
          {volumes.map((v) => {
            const u = users(containers, v.Name);
            return (
              <tr key={v.Name} data-volume={v.Name}>
                <td><a href={`#/volumes/${encodeURIComponent(v.Name)}`}>{v.Name}</a></td>
                <td>{v.Driver}</td>
                <td>{v.CreatedAt ?? ''}</td>
                <td>{u.map((x) => nameOf(x.c)).join(', ') || <span class="muted">-</span>}</td>
                <td><button class="danger" data-action="delete" onClick={() => void send('DELETE', `/volumes/${encodeURIComponent(v.Name)}`).catch((e: Error) => setError(e.message))}>Delete</button></td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {props.name && <VolumeDetail name={props.name} />}
    </section>
  );
}
