// Hash routes: #/images, #/containers?image=ID, #/containers/ID/logs, #/logs?ids=A,B …
import { useEffect, useState } from 'preact/hooks';

export interface Route { parts: string[]; query: URLSearchParams }

function parse(): Route {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, q] = h.split('?', 2);
  return { parts: path ? path.split('/').map(decodeURIComponent) : [], query: new URLSearchParams(q ?? '') };
}

export function useRoute(): Route {
  const [r, setR] = useState(parse);
  useEffect(() => {
    const on = () => setR(parse());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

export function go(path: string): void { location.hash = `#/${path}`; }
