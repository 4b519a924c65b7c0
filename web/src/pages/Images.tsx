import { useMemo, useState } from 'preact/hooks';
import { ApiError, getJson, send } from '../api';
import { go } from '../router';
import { useStore } from '../store';
import type { ImageSummary, SearchResult } from '../types';
import { ago, humanSize, shortId } from '../util';
import { PullPanel } from './Pull';
import { RunDialog } from './RunDialog';

interface Row { image: ImageSummary; ref: string; repo: string; tag: string; inUse: number }

function rowsOf(images: ImageSummary[], usedBy: Map<string, number>): Row[] {
  const rows: Row[] = [];
  for (const image of images) {
    const tags = image.RepoTags?.length ? image.RepoTags : ['<none>:<none>'];
    for (const ref of tags) {
      const at = ref.lastIndexOf(':');
      rows.push({ image, ref, repo: ref.slice(0, at), tag: ref.slice(at + 1), inUse: usedBy.get(image.Id) ?? 0 });
    }
  }
  return rows.sort((a, b) => a.ref.localeCompare(b.ref));
}

export function ImagesPage() {
  const images = useStore((s) => s.images);
  const containers = useStore((s) => s.containers);
  const loaded = useStore((s) => s.loaded.images);
  const [filter, setFilter] = useState('');
  const [term, setTerm] = useState('');
  const [results, setResults] = useState<SearchResult[] | undefined>();
  const [searchError, setSearchError] = useState<string | undefined>();
  const [pulls, setPulls] = useState<string[]>([]);
  const [runImage, setRunImage] = useState<string | undefined>();
  const [deleteError, setDeleteError] = useState<{ ref: string; id: string; message: string } | undefined>();

  const usedBy = useMemo(() => {
    const m = new Map<string, number>();
    for (const c of containers) m.set(c.ImageID, (m.get(c.ImageID) ?? 0) + 1);
    return m;
  }, [containers]);
  const rows = rowsOf(images, usedBy).filter((r) => !filter || r.ref.includes(filter) || r.image.Id.includes(filter));

  const search = async (e: Event) => {
    e.preventDefault();
    if (!term.trim()) return;
    setSearchError(undefined);
    setResults(undefined);
    try {
      setResults(await getJson<SearchResult[]>('/images/search', { term: term.trim(), limit: 25 }));
    } catch (err) {
      setSearchError(err instanceof ApiError && err.status === 404 && /page not found/.test(err.message)
        ? 'this berthd has no registry search (GET /images/search); pull by name with the button above'
        : (err as Error).message);
    }
  };
  const pull = (ref: string) => setPulls((p) => (p.includes(ref) ? p : [...p, ref]));
  const remove = async (r: Row) => {
    setDeleteError(undefined);
    try {
      await send('DELETE', `/images/${encodeURIComponent(r.ref === '<none>:<none>' ? r.image.Id : r.ref)}`);
    } catch (err) {
      setDeleteError({ ref: r.ref, id: r.image.Id, message: err instanceof ApiError ? err.message : String(err) });
    }
  };

  return (
    <section>
      <h1>Images</h1>
      <form class="toolbar" onSubmit={search}>
        <input name="search" placeholder="Search registries, e.g. nginx" value={term} onInput={(e) => setTerm(e.currentTarget.value)} />
        <button type="submit">Search</button>
        <button type="button" disabled={!term.trim()} data-action="pull-term" onClick={() => pull(term.trim())}>Pull {term.trim() || 'image'}</button>
      </form>
      {searchError && <div class="banner warn">Search: {searchError}</div>}
      {results && (
        <table class="results" data-testid="search-results">
          <thead><tr><th>Name</th><th>Description</th><th>Stars</th><th /></tr></thead>
          <tbody>
            {results.length === 0 && <tr><td colSpan={4}>No image matches “{term}”.</td></tr>}
            {results.map((r) => (
              <tr key={r.name} data-result={r.name}>
                <td>{r.name}{r.is_official && <span class="badge">official</span>}</td>
                <td>{r.description}</td>
                <td>{r.star_count}</td>
                <td><button onClick={() => pull(r.name)} data-action="pull">Pull</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pulls.map((ref) => <PullPanel key={ref} image={ref} onClose={() => setPulls((p) => p.filter((x) => x !== ref))} />)}
      {deleteError && (
        <div class="banner error" data-testid="delete-error">
          {deleteError.message}{' '}
          <a href={`#/containers?image=${encodeURIComponent(deleteError.id)}`} data-action="in-use">In use</a>
          <button class="link" onClick={() => setDeleteError(undefined)}>dismiss</button>
        </div>
      )}
      <div class="toolbar">
        <input placeholder="Filter local images" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        <span class="muted">{images.length} images</span>
      </div>
      <table data-testid="images">
        <thead><tr><th>Name</th><th>Tag</th><th>Image ID</th><th>Created</th><th>Size</th><th>Status</th><th>Actions</th></tr></thead>
        <tbody>
          {!loaded && <tr><td colSpan={7}>Loading…</td></tr>}
          {rows.map((r) => (
            <tr key={`${r.image.Id}/${r.ref}`} data-image={r.ref}>
              <td>{r.repo}</td>
              <td>{r.tag}</td>
              <td class="mono">{shortId(r.image.Id)}</td>
              <td>{ago(r.image.Created)}</td>
              <td>{humanSize(r.image.Size)}</td>
              <td>{r.inUse ? <a href={`#/containers?image=${encodeURIComponent(r.image.Id)}`} class="inuse" data-action="in-use">In use ({r.inUse})</a> : <span class="muted">Unused</span>}</td>
              <td class="actions">
                <button onClick={() => setRunImage(r.ref === '<none>:<none>' ? r.image.Id : r.ref)} data-action="run">Run</button>
                <button class="danger" onClick={() => void remove(r)} data-action="delete">Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {runImage && <RunDialog image={runImage} onClose={() => setRunImage(undefined)} onStarted={(id) => { setRunImage(undefined); go(`containers/${id}/logs`); }} />}
    </section>
  );
}
