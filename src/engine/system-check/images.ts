/** Image check: every image needs its config blob and each of its layers, whole. */
import { access } from 'node:fs/promises';
import { relative } from 'node:path';
import type { CheckSources, Finding } from './types.js';

const REPAIR = 'remove the image as `rmi -f` does (left while a running container uses it); pull it again';

/** Images whose config blob is gone or corrupt, or one of whose layers is not whole on disk. */
export async function brokenImages(src: CheckSources, wholeLayers: ReadonlySet<string>, corrupt: ReadonlySet<string>): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const img of src.images()) {
    const configPath = src.content.path(img.id);
    const configThere = !corrupt.has(img.id) && await access(configPath).then(() => true, () => false);
    if (!configThere) {
      out.push({
        Kind: 'image-missing-config', Object: img.id, Path: relative(src.root, configPath),
        Problem: `the config blob of ${describe(img.repoTags)} is ${corrupt.has(img.id) ? 'corrupt' : 'missing'}`, Repair: REPAIR,
      });
      continue;
    }
    const missing = img.chainIDs.filter((c) => !wholeLayers.has(c));
    if (missing.length) {
      out.push({
        Kind: 'image-missing-layer', Object: img.id, Path: relative(src.root, src.layers.dir + '/' + missing[0]!.slice(7)),
        Problem: `${describe(img.repoTags)} lacks ${missing.length} of its ${img.chainIDs.length} layers (first: ${missing[0]})`, Repair: REPAIR,
      });
    }
  }
  return out;
}

function describe(tags: string[]): string {
  return tags.length ? `image ${tags[0]}` : 'the image';
}
