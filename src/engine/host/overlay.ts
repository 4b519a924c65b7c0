/** How overlayfs marks deletions in an upper or layer directory (read by the layer diff and the in-root resolver). */
import type { Stats } from 'node:fs';
import { getAttribute } from '@napi-rs/xattr';

/** The xattr that makes a directory hide everything below it in lower layers. */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

/** A whiteout: a character device 0:0 hides the same name in lower layers. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Whether a directory is opaque (`trusted.overlay.opaque=y`). */
export async function isOpaque(path: string): Promise<boolean> {
  try {
    const v = await getAttribute(path, OVERLAY_OPAQUE_XATTR);
    return v !== null && v.toString() === 'y';
  } catch {
    return false; // no xattr support or none set: not opaque
  }
}
