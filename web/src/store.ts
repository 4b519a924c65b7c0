/**
 * The dashboard's live state. One `/events` stream (the last hour as history, then live) drives
 * every update: an event refreshes the one list it concerns (debounced), nothing polls.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, jsonLines } from './api';
import type { ContainerSummary, EventMessage, ImageSummary, Network, Volume } from './types';

export interface State {
  containers: ContainerSummary[];
  images: ImageSummary[];
  volumes: Volume[];
  networks: Network[];
  events: EventMessage[];
  connected: boolean;
  loaded: { containers: boolean; images: boolean; volumes: boolean; networks: boolean };
  error?: string;
}

type Kind = 'containers' | 'images' | 'volumes' | 'networks';

const MAX_EVENTS = 2000;

let state: State = {
  containers: [], images: [], volumes: [], networks: [], events: [], connected: false,
  loaded: { containers: false, images: false, volumes: false, networks: false },
};
const listeners = new Set<() => void>();

function set(patch: Partial<State>): void {
  state = { ...state, ...patch };
  for (const l of listeners) l();
}

export function getState(): State { return state; }

/** The part of the state `select` picks; the component re-renders only when that part changes. */
export function useStore<T>(select: (s: State) => T): T {
  const value = select(state);
  const [, force] = useState(0);
  const seen = useRef(value);
  seen.current = value;
  const pick = useRef(select);
  pick.current = select;
  useEffect(() => {
    const l = () => { if (!Object.is(pick.current(state), seen.current)) force((n) => n + 1); };
    listeners.add(l);
    return () => { listeners.delete(l); };
  }, []);
  return value;
}

const loaders: Record<Kind, () => Promise<unknown[]>> = {
  containers: () => getJson<ContainerSummary[]>('/containers/json', { all: 1 }),
  images: () => getJson<ImageSummary[]>('/images/json'),
  volumes: async () => (await getJson<{ Volumes: Volume[] | null }>('/volumes')).Volumes ?? [],
  networks: () => getJson<Network[]>('/networks'),
};

const timers: Partial<Record<Kind, ReturnType<typeof setTimeout>>> = {};

export async function refresh(kind: Kind): Promise<void> {
  try {
    const list = await loaders[kind]();
    set({ [kind]: list, loaded: { ...state.loaded, [kind]: true } } as Partial<State>);
  } catch (e) {
    set({ error: (e as Error).message });
  }
}

/** Refresh `kind` soon: a burst of events (a compose up, a pull) costs one request. */
function schedule(kind: Kind): void {
  if (timers[kind]) return;
  timers[kind] = setTimeout(() => { delete timers[kind]; void refresh(kind); }, 80);
}

/** What each event type makes stale. */
function onEvent(e: EventMessage): void {
  switch (e.Type) {
    case 'container':
      if (e.Action.startsWith('exec_')) return;
      // "In use" of images and volumes is worked out from the containers list: nothing else to reload.
      schedule('containers');
      break;
    case 'image': schedule('images'); break;
    case 'volume': schedule('volumes'); break;
    case 'network': schedule('networks'); if (e.Action === 'connect' || e.Action === 'disconnect') schedule('containers'); break;
    default: break;
  }
}

let started = false;
let queued: EventMessage[] = [];
let flushTimer: ReturnType<typeof setTimeout> | undefined;

/** Events arrive in bursts (the history, a compose up): appended in one update per burst. */
function flushEvents(): void {
  flushTimer = undefined;
  const all = [...state.events, ...queued];
  queued = [];
  set({ events: all.length > MAX_EVENTS ? all.slice(-MAX_EVENTS) : all });
}

/** Load the lists once, then follow the events stream (reconnecting from the last event seen). */
export function start(): void {
  if (started) return;
  started = true;
  for (const k of Object.keys(loaders) as Kind[]) void refresh(k);
  let since = Math.floor(Date.now() / 1000) - 3600;
  let lastNano = 0;
  let first = true;
  const follow = async (): Promise<void> => {
    for (;;) {
      try {
        const history = first;
        set({ connected: true });
        await jsonLines<EventMessage>('/events', { since }, (e) => {
          // A reconnect asks again from the last second seen: skip what we have.
          if (e.timeNano <= lastNano) return;
          lastNano = e.timeNano;
          since = e.time;
          queued.push(e);
          flushTimer ??= setTimeout(flushEvents, 50);
          // History is already reflected in the lists just loaded.
          if (!history || e.time >= startedAt) onEvent(e);
        });
      } catch { /* the daemon restarted or the network blinked */ }
      first = false;
      set({ connected: false });
      await new Promise((r) => setTimeout(r, 1000));
      for (const k of Object.keys(loaders) as Kind[]) void refresh(k);
    }
  };
  const startedAt = Math.floor(Date.now() / 1000);
  void follow();
}
