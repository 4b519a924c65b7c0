import { useStore } from '../store';
import { nameOf } from '../util';
import { LogView } from './LogView';

export function LogsPage(props: { ids: string[] }) {
  const containers = useStore((s) => s.containers);
  const names = props.ids.map((id) => { const c = containers.find((x) => x.Id === id); return c ? nameOf(c) : id.slice(0, 12); });
  return (
    <section class="fill">
      <h1>Logs <span class="muted">{names.join(', ')}</span></h1>
      <LogView ids={props.ids} />
    </section>
  );
}
