import { useEffect, useState } from 'preact/hooks';
import { getJson, postJson } from '../api';

interface PortRow { host: string; container: string }
interface EnvRow { key: string; value: string }
interface VolRow { source: string; target: string }

interface ImageInspect { Config?: { ExposedPorts?: Record<string, object> | null; Volumes?: Record<string, object> | null } }

/**
 * "Run" with optional settings, as Docker Desktop's dialog: a name, host ports for the image's
 * exposed ports (0: a free port is chosen), environment variables, volumes (a volume name or a
 * host path, then the path in the container). Empty rows are ignored.
 */
export function RunDialog(props: { image: string; onClose: () => void; onStarted: (id: string) => void }) {
  const [name, setName] = useState('');
  const [ports, setPorts] = useState<PortRow[]>([]);
  const [env, setEnv] = useState<EnvRow[]>([{ key: '', value: '' }]);
  const [vols, setVols] = useState<VolRow[]>([{ source: '', target: '' }]);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void getJson<ImageInspect>(`/images/${encodeURIComponent(props.image)}/json`).then((i) => {
      const exposed = Object.keys(i.Config?.ExposedPorts ?? {});
      setPorts(exposed.length ? exposed.map((p) => ({ host: '', container: p })) : [{ host: '', container: '' }]);
      const v = Object.keys(i.Config?.Volumes ?? {});
      if (v.length) setVols(v.map((t) => ({ source: '', target: t })));
    }).catch((e: Error) => setError(e.message));
  }, [props.image]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const exposed: Record<string, object> = {};
      const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
      for (const p of ports) {
        if (!p.container.trim() || p.host.trim() === '') continue;
        const key = p.container.includes('/') ? p.container.trim() : `${p.container.trim()}/tcp`;
        exposed[key] = {};
        (bindings[key] ??= []).push({ HostIp: '', HostPort: p.host.trim() });
      }
      const body = {
        Image: props.image,
        Env: env.filter((x) => x.key.trim()).map((x) => `${x.key.trim()}=${x.value}`),
        ExposedPorts: exposed,
        HostConfig: {
          PortBindings: bindings,
          Binds: vols.filter((v) => v.source.trim() && v.target.trim()).map((v) => `${v.source.trim()}:${v.target.trim()}`),
        },
      };
      const created = await postJson<{ Id: string }>('/containers/create', body, name.trim() ? { name: name.trim() } : {});
      await postJson(`/containers/${created.Id}/start`);
      props.onStarted(created.Id);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="modal" role="dialog" aria-label={`Run ${props.image}`}>
      <form class="dialog" onSubmit={submit} data-testid="run-dialog">
        <h2>Run a new container</h2>
        <div class="muted mono">{props.image}</div>
        <h3>Optional settings</h3>
        <label>Container name <input name="name" value={name} placeholder="a random name if empty" onInput={(e) => setName(e.currentTarget.value)} /></label>
        <h4>Ports <span class="muted">(host port 0: a free port is chosen)</span></h4>
        <Pairs rows={ports} set={setPorts} keys={['host', 'container']} sep=":" names={['host-port', 'container-port']} placeholders={['Host port', 'Container port']} add="+ port" />
        <h4>Volumes</h4>
        <Pairs rows={vols} set={setVols} keys={['source', 'target']} sep=":" names={['volume-source', 'volume-target']} placeholders={['Volume name or host path', 'Container path']} add="+ volume" />
        <h4>Environment variables</h4>
        <Pairs rows={env} set={setEnv} keys={['key', 'value']} sep="=" names={['env-key', 'env-value']} placeholders={['Variable', 'Value']} add="+ variable" />
        {error && <div class="banner error">{error}</div>}
        <div class="buttons">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy} data-action="run-submit">Run</button>
        </div>
      </form>
    </div>
  );
}

/** Rows of two inputs (host port : container port, name = value …), with a button for one more. */
function Pairs<T extends Record<K, string>, K extends string>(props: {
  rows: T[]; set: (rows: T[]) => void; keys: [K, K]; sep: string; names: [string, string]; placeholders: [string, string]; add: string;
}) {
  const [a, b] = props.keys;
  const update = (i: number, k: K, v: string) => props.set(props.rows.map((x, j) => (j === i ? { ...x, [k]: v } : x)));
  return (
    <>
      {props.rows.map((r, i) => (
        <div class="row" key={i}>
          <input name={`${props.names[0]}-${i}`} placeholder={props.placeholders[0]} value={r[a]} onInput={(e) => update(i, a, e.currentTarget.value)} />
          <span>{props.sep}</span>
          <input name={`${props.names[1]}-${i}`} placeholder={props.placeholders[1]} value={r[b]} onInput={(e) => update(i, b, e.currentTarget.value)} />
        </div>
      ))}
      <button type="button" class="link" onClick={() => props.set([...props.rows, { [a]: '', [b]: '' } as T])}>{props.add}</button>
    </>
  );
}
