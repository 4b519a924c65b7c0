import { go } from '../router';
import { useStore } from '../store';
import type { ContainerSummary } from '../types';
import { healthOf, nameOf } from '../util';
import { PortLinks, StateBadge } from './Containers';

const PROJECT = 'com.docker.compose.project';
const SERVICE = 'com.docker.compose.service';
const DEPENDS = 'com.docker.compose.depends_on';

/** `db:service_healthy:false,cache:service_started:false` → [db (healthy), cache]. */
function dependencies(c: ContainerSummary): string[] {
  const v = c.Labels?.[DEPENDS];
  if (!v) return [];
  return v.split(',').filter(Boolean).map((d) => {
    const [svc, cond] = d.split(':');
    return cond && cond !== 'service_started' ? `${svc} (${cond.replace(/^service_/, '')})` : svc;
  });
}

function byProject(containers: ContainerSummary[]): Map<string, ContainerSummary[]> {
  const m = new Map<string, ContainerSummary[]>();
  for (const c of containers) {
    const p = c.Labels?.[PROJECT];
    if (p) (m.get(p) ?? m.set(p, []).get(p)!).push(c);
  }
  return m;
}

export function ComposePage(props: { project?: string }) {
  const containers = useStore((s) => s.containers);
  const projects = [...byProject(containers)].sort(([a], [b]) => a.localeCompare(b))
    .filter(([p]) => !props.project || p === props.project);
  return (
    <section>
      <h1>Compose projects</h1>
      {projects.length === 0 && <div class="muted">No compose project: containers made by `berth compose up` (label {PROJECT}) show here.</div>}
      {projects.map(([p, list]) => {
        const running = list.filter((c) => c.State === 'running').length;
        const unhealthy = list.filter((c) => healthOf(c.Status) === 'unhealthy').length;
        return (
          <div class="project" key={p} data-project={p}>
            <h2><a href={`#/compose/${encodeURIComponent(p)}`}>{p}</a> <span class="muted">{running}/{list.length} running{unhealthy ? `, ${unhealthy} unhealthy` : ''}</span>
              <button class="link" onClick={() => go(`logs?ids=${list.map((c) => c.Id).join(',')}`)}>logs of all services</button></h2>
            <table>
              <thead><tr><th>Service</th><th>Container</th><th>Status</th><th>Depends on</th><th>Ports</th></tr></thead>
              <tbody>
                {[...list].sort((a, b) => (a.Labels?.[SERVICE] ?? '').localeCompare(b.Labels?.[SERVICE] ?? '')).map((c) => (
                  <tr key={c.Id} data-service={c.Labels?.[SERVICE]}>
                    <td>{c.Labels?.[SERVICE]}</td>
                    <td><a href={`#/containers/${c.Id}/logs`}>{nameOf(c)}</a></td>
                    <td><StateBadge c={c} /></td>
                    <td>{dependencies(c).join(', ') || <span class="muted">-</span>}</td>
                    <td><PortLinks ports={c.Ports} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
    </section>
  );
}
