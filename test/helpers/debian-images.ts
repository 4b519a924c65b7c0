/**
 * The offline Debian service images (berth-fixtures/debian-base, postgres, redis, nginx) built by
 * scripts/fixtures/debian-images.mjs (cached: the first run on a machine debootstraps, later ones
 * take seconds) and pushed to a test registry, so a daemon using it as its mirror pulls
 * `berth-fixtures/<name>`.
 */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const DEBIAN_IMAGES = ['debian-base', 'postgres', 'redis', 'nginx'] as const;

export async function pushDebianImages(registryHost: string): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'fixtures', 'debian-images.mjs'), '--push', registryHost], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 30 * 60_000,
  });
  return JSON.parse(stdout.trim()) as Record<string, string>;
}

/**
 * The Debian rootfs (same cache) imported into the daemon at `host` as berth-fixtures/debian-base,
 * as a user does it (`debian-images.mjs --import`): the example app's Dockerfiles build FROM it.
 */
export async function importDebianBase(host: string): Promise<void> {
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'fixtures', 'debian-images.mjs'), '--import'], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 30 * 60_000,
    env: { ...process.env, BERTH_HOST: host },
  });
}
