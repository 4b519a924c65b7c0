import { render } from 'preact';
import './style.css';
import { useRoute } from './router';
import { start, useStore } from './store';
import { ImagesPage } from './pages/Images';
import { ContainersPage } from './pages/Containers';
import { ContainerPage } from './pages/Container';
import { LogsPage } from './pages/Logs';
import { VolumesPage } from './pages/Volumes';
import { NetworksPage } from './pages/Networks';
import { ComposePage } from './pages/Compose';
import { EventsPage } from './pages/Events';

const NAV: Array<[string, string]> = [
  ['containers', 'Containers'], ['images', 'Images'], ['volumes', 'Volumes'], ['networks', 'Networks'],
  ['compose', 'Compose'], ['events', 'Events'],
];

function Page() {
  const r = useRoute();
  const [top, id] = r.parts;
  switch (top) {
    case 'images': return <ImagesPage />;
    case 'containers': return id ? <ContainerPage id={id} tab={r.parts[2] ?? 'logs'} /> : <ContainersPage image={r.query.get('image') ?? undefined} />;
    case 'logs': return <LogsPage ids={(r.query.get('ids') ?? '').split(',').filter(Boolean)} />;
    case 'volumes': return <VolumesPage name={id} />;
    case 'networks': return <NetworksPage id={id} />;
    case 'compose': return <ComposePage project={id} />;
    case 'events': return <EventsPage />;
    default: return <ContainersPage />;
  }
}

function App() {
  const r = useRoute();
  const connected = useStore((s) => s.connected);
  const error = useStore((s) => s.error);
  const current = r.parts[0] ?? 'containers';
  return (
    <div class="layout">
      <nav class="side">
        <div class="brand">Berth</div>
        {NAV.map(([k, label]) => (
          <a key={k} href={`#/${k}`} class={current === k || (k === 'containers' && current === 'logs') ? 'active' : ''} data-nav={k}>{label}</a>
        ))}
        <div class={`conn ${connected ? 'on' : 'off'}`} title="events stream">{connected ? '● live' : '○ reconnecting'}</div>
      </nav>
      <main>
        {error && <div class="banner error">{error}</div>}
        <Page />
      </main>
    </div>
  );
}

start();
render(<App />, document.getElementById('app')!);
