import { compareVersions } from '../util/version.js';

export { compareVersions };
export { ENGINE_VERSION, MAX_API_VERSION, MIN_API_VERSION } from '../wire/api-version.js';

export function versionAtLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}
