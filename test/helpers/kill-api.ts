/**
 * Small tools for the kill -9 harness (test/integration/kill-harness.test.ts): a seeded random
 * source, a raw Engine API client over the daemon's unix socket (no CLI process per call: the
 * harness makes thousands), stdcopy and JSON-message decoding, and a registry probe.
 */
import { request } from 'node:http';
import { get as httpGet } from 'node:http';
import { chainIDs } from '../../src/engine/layers/chain.js';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from `envVar` (to rerun a failure), else a fresh one. */
export function harnessSeed(envVar: string): number {
  const given = process.env[envVar];
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${envVar}=${given}: not a non-negative integer`);
    return n >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

export interface ApiResponse { status: number; body: Buffer }

/** One request to the Engine API on a unix socket. Rejects when the connection breaks (a kill). */
export function api(socket: string, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const req = request({
      socketPath: socket, method, path, agent: false,
      headers: { Host: 'berth', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}), ...opts.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('aborted', () => reject(new Error(`${method} ${path}: response aborted`)));
      res.on('error', reject);
      res.on('end', () => {
        if (!res.complete) reject(new Error(`${method} ${path}: response cut short`));
        else resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
      });
    });
    req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The daemon answered, but not with the status expected. */
export class HttpStatusError extends Error {}

/** The JSON body of a response, or an error naming the request when the status is not `want`. */
export function expectJson<T>(r: ApiResponse, want: number, what: string): T {
  if (r.status !== want) throw new HttpStatusError(`${what}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
  return (r.body.length ? JSON.parse(r.body.toString()) : undefined) as T;
}

/**
 * Whether an error is the connection to the daemon breaking or refused (what a kill does to the
 * calls in flight and to those made while it is down), as opposed to an answer or a harness bug.
 */
export function isConnectionError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && ['ECONNRESET', 'ECONNREFUSED', 'ENOENT', 'EPIPE'].includes(code)) return true;
  const msg = e instanceof Error ? e.message : '';
  return /response aborted|response cut short|socket hang up/.test(msg);
}

export interface JsonMessage { status?: string; id?: string; error?: string; errorDetail?: { message?: string } }

/** A pull/push progress stream, one JSON message per line. */
export function jsonMessages(buf: Buffer): JsonMessage[] {
  return buf.toString().split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as JsonMessage);
}

/** The error a progress stream ended with, if any. */
export function streamError(msgs: JsonMessage[]): string | undefined {
  const bad = msgs.find((m) => m.error !== undefined || m.errorDetail !== undefined);
  return bad ? (bad.error ?? bad.errorDetail?.message ?? 'error') : undefined;
}

/** The payload of stdcopy frames (logs of a container without a TTY), both streams in order. */
export function demuxStdcopy(buf: Buffer): string {
  const out: Buffer[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off + 4);
    out.push(buf.subarray(off + 8, off + 8 + len));
    off += 8 + len;
  }
  if (off !== buf.length) throw new Error(`stdcopy stream ends inside a frame (${buf.length - off} bytes left)`);
  return Buffer.concat(out).toString();
}

function getJson(url: string, accept: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers: { Accept: accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Whether the registry holds repo:tag (a manifest GET answers 200). */
export async function registryHas(host: string, repo: string, tag: string): Promise<boolean> {
  return (await getJson(`http://${host}/v2/${repo}/manifests/${tag}`, MANIFEST_ACCEPT)).status === 200;
}

/** The chain IDs (bottom first) of repo:tag's linux/amd64 image in the registry. */
export async function registryChain(host: string, repo: string, tag = 'latest'): Promise<string[]> {
  let m = (await getJson(`http://${host}/v2/${repo}/manifests/${tag}`, MANIFEST_ACCEPT)).json as
    { manifests?: Array<{ digest: string; platform?: { architecture?: string } }>; config?: { digest: string } };
  if (m.manifests) {
    const entry = m.manifests.find((e) => e.platform?.architecture === 'amd64') ?? m.manifests[0]!;
    m = (await getJson(`http://${host}/v2/${repo}/manifests/${entry.digest}`, MANIFEST_ACCEPT)).json as typeof m;
  }
  const config = (await getJson(`http://${host}/v2/${repo}/blobs/${m.config!.digest}`, '*/*')).json as { rootfs: { diff_ids: string[] } };
  return chainIDs(config.rootfs.diff_ids);
}
