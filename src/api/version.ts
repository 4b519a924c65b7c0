import { compareVersions } from '../util/version.js';

export { compareVersions };
/** Engine API versions this daemon speaks. */
export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.50';
export const ENGINE_VERSION = '28.2.2-berth';


export function versionAtLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}
