import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api';
import { useStore } from '../store';
import type { ContainerInspect } from '../types';
import { nameOf, shortId } from '../util';
import { ContainerActions, PortLinks, StateBadge } from './Containers';
import { LogView } from './LogView';
import { StatsView } from './Stats';

/** xterm.js is most of the bundle: loaded when a terminal is first opened, not with the page. */
let terminalModule: Promise<ComponentType<{ id: string }>> | undefined;
function LazyTerminal(props: { id: string }) {
  const [View, setView] = useState<ComponentType<{ id: string }> | undefined>();
  useEffect(() => {
    terminalModule ??= import('./Terminal').then((m) => m.TerminalView);
    void terminalModule.then((v) => setView(() => v));
  }, []);
  return View ? <View id={props.id} /> : <div class="muted">Loading terminal…</div>;
}

const TABS: Array<[string, string]> = [['logs', 'Logs'], ['inspect', 'Inspect'], ['exec', 'Exec'], ['stats', 'Stats']];

function Inspect(props: { id: string; version: string }) {
  const [data, setData] = useState<ContainerInspect | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    getJson<ContainerInspect>(`/containers/${props.id}/json`).then(setData, (e: Error) => setError(e.message));
  }, [props.id, props.version]);
  if (error) return <div class="banner error">{error}</div>;
  return <pre class="json" data-testid="inspect">{data ? JSON.stringify(data, null, 2) : 'Loading…'}</pre>;
}

export function ContainerPage(props: { id: string; tab: string }) {
  const c = useStore((s) => s.containers.find((x) => x.Id === props.id || x.Id.startsWith(props.id)));
  const loaded = useStore((s) => s.loaded.containers);
  const [error, setError] = useState<string | undefined>();
  if (!c) return <section><h1>Container</h1><div class="banner warn">{loaded ? `No such container: ${props.id}` : 'Loading…'}</div><a href="#/containers">Containers</a></section>;
  return (
    <section class="fill">
      <div class="crumbs"><a href="#/containers">Containers</a> / {nameOf(c)}</div>
      <h1 data-testid="container-name">{nameOf(c)} <span class="muted mono">{shortId(c.Id)}</span></h1>
      <div class="toolbar">
        <StateBadge c={c} /> <span class="muted">{c.Image}</span> <PortLinks ports={c.Ports} />
        <span class="spacer" />
        <ContainerActions c={c} onError={setError} />
      </div>
      {error && <div class="banner error">{error} <button class="link" onClick={() => setError(undefined)}>dismiss</button></div>}
      <div class="tabs">
        {TABS.map(([k, label]) => <a key={k} href={`#/containers/${c.Id}/${k}`} class={props.tab === k ? 'active' : ''} data-tab={k}>{label}</a>)}
      </div>
      {props.tab === 'logs' && <LogView ids={[c.Id]} />}
      {props.tab === 'inspect' && <Inspect id={c.Id} version={c.Status} />}
      {props.tab === 'exec' && (c.State === 'running' ? <LazyTerminal id={c.Id} /> : <div class="banner warn">The container is not running: start it to open a terminal.</div>)}
      {props.tab === 'stats' && (c.State === 'running' ? <StatsView id={c.Id} /> : <div class="banner warn">The container is not running.</div>)}
    </section>
  );
}
