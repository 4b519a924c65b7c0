/**
 * Small test images made on the fly and pushed (skopeo) to a test registry: layers of named files,
 * gzip- or zstd-compressed (zstd by Debian's `zstd` command), as an OCI image layout.
 *
 *   const img = await pushTestImage(reg.host, 'bigblob', [{ files: { 'data/r': randomBytes(4 << 20) } }]);
 *   img.layers[0].digest, .size, .diffID
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';

const execFileP = promisify(execFile);

export type TestFile = Buffer | string | { data: Buffer; mode: number };

export interface TestLayer {
  files: Record<string, TestFile>;
  compression?: 'gzip' | 'zstd';
}

export interface PushedImage {
  ref: string;
  manifestDigest: string;
  layers: Array<{ digest: string; size: number; diffID: string; mediaType: string }>;
}

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function tarOf(files: Record<string, TestFile>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  const dirs = new Set<string>();
  for (const name of Object.keys(files).sort()) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) { dirs.add(d); pack.entry({ name: d + '/', type: 'directory', mode: 0o755, mtime: new Date(0) }); }
    }
    const f = files[name]!;
    const { data, mode } = typeof f === 'string' ? { data: Buffer.from(f), mode: 0o644 } : Buffer.isBuffer(f) ? { data: f, mode: 0o644 } : f;
    pack.entry({ name, mode, mtime: new Date(0) }, data);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function zstdCompress(data: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 30 });
}

export async function pushTestImage(host: string, name: string, layers: TestLayer[]): Promise<PushedImage> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-oci-'));
  try {
    const blobs = join(dir, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const put = async (b: Buffer) => { const d = sha(b); await writeFile(join(blobs, d.slice(7)), b); return d; };
    const out: PushedImage['layers'] = [];
    for (const l of layers) {
      const tar = await tarOf(l.files);
      const zstd = l.compression === 'zstd';
      const comp = zstd ? zstdCompress(tar) : gzipSync(tar);
      const mediaType = zstd ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.oci.image.layer.v1.tar+gzip';
      out.push({ digest: await put(comp), size: comp.length, diffID: sha(tar), mediaType });
    }
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z',
      config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: out.map((l) => l.diffID) }, history: [],
    }));
    const configDigest = await put(config);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: out.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }));
    const manifestDigest = await put(manifest);
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(dir, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': name } }],
    }));
    await execFileP('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${dir}:${name}`, `docker://${host}/library/${name}:latest`]);
    return { ref: name, manifestDigest, layers: out };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
