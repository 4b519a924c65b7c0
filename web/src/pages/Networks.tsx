import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api';
import { useStore } from '../store';

export function NetworksPage(props: { id?: string }) {
  const networks = useStore((s) => s.networks);
  const [detail, setDetail] = useState<unknown>();
  useEffect(() => {
    setDetail(undefined);
    if (props.id) getJson(`/networks/${props.id}`).then(setDetail, (e: Error) => setDetail({ error: e.message }));
  }, [props.id]);
  return (
    <section>
      <h1>Networks</h1>
      <table data-testid="networks">
        <thead><tr><th>Name</th><th>ID</th><th>Driver</th><th>Scope</th><th>Subnet</th></tr></thead>
        <tbody>
          {[...networks].sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => (
            <tr key={n.Id} data-network={n.Name}>
              <td><a href={`#/networks/${n.Id}`}>{n.Name}</a></td>
              <td class="mono">{n.Id.slice(0, 12)}</td>
              <td>{n.Driver}</td>
              <td>{n.Scope}</td>
              <td class="mono">{(n.IPAM?.Config ?? []).map((c) => c.Subnet).filter(Boolean).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {detail !== undefined && <pre class="json" data-testid="network-inspect">{JSON.stringify(detail, null, 2)}</pre>}
    </section>
  );
}
