import { useState } from 'preact/hooks';
import { useStore } from '../store';

const TYPES = ['all', 'container', 'image', 'volume', 'network'];

/** The last hour's events, then live ones, as the one events stream brings them (newest first). */
export function EventsPage() {
  const events = useStore((s) => s.events);
  const connected = useStore((s) => s.connected);
  const [type, setType] = useState('all');
  const [q, setQ] = useState('');
  const list = events.filter((e) => type === 'all' || e.Type === type)
    .filter((e) => !q || `${e.Action} ${e.Actor.ID} ${JSON.stringify(e.Actor.Attributes)}`.includes(q))
    .slice(-500).reverse();
  return (
    <section>
      <h1>Events <span class="muted">{connected ? 'live' : 'reconnecting'}</span></h1>
      <div class="toolbar">
        <select value={type} onChange={(e) => setType(e.currentTarget.value)}>{TYPES.map((t) => <option key={t}>{t}</option>)}</select>
        <input placeholder="Search events" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <span class="muted">{events.length} events since {events[0] ? new Date(events[0].time * 1000).toLocaleTimeString() : '-'}</span>
      </div>
      <table data-testid="events">
        <thead><tr><th>Time</th><th>Type</th><th>Action</th><th>Object</th></tr></thead>
        <tbody>
          {list.map((e) => (
            <tr key={`${e.timeNano}-${e.Actor.ID}-${e.Action}`} data-event={`${e.Type} ${e.Action}`}>
              <td class="mono">{new Date(Math.floor(e.timeNano / 1e6)).toLocaleTimeString()}</td>
              <td>{e.Type}</td>
              <td>{e.Action}</td>
              <td>{e.Actor.Attributes.name ?? e.Actor.ID.slice(0, 24)}{e.Actor.Attributes.image && <span class="muted"> ({e.Actor.Attributes.image})</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
