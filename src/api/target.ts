/**
 * The request target, read as Go's net/http and dockerd read it: the path and the query split by
 * hand (no URL resolution: `..`, `%2e%2e` and `//` are not folded into another route), percent
 * escapes decoded to bytes and then UTF-8, and a broken escape (`%zz`, a lone `%`) or a `;` in the
 * query refused with Go's message as a 400 rather than thrown from deep inside.
 */
import { InvalidParameterError } from '../wire/errors.js';

/** Split `/v1.45/containers/json?all=1` into the still-escaped path and the parsed query. */
export function splitTarget(rawUrl: string): { path: string; query: URLSearchParams } {
  let target = rawUrl;
  if (!target.startsWith('/')) {
    // The absolute form (`http://host/path`) is legal HTTP/1.1; anything else (`*`) names no resource.
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*(.*)$/i.exec(target);
    if (!m) throw new InvalidParameterError(`invalid request target ${JSON.stringify(rawUrl)}`);
    target = m[1] || '/';
  }
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  return { path, query: parseQuery(q < 0 ? '' : target.slice(q + 1)) };
}

/** Go's url.ParseQuery: `&`-separated, `+` is a space, the first broken escape is an error. */
export function parseQuery(raw: string): URLSearchParams {
  const out = new URLSearchParams();
  for (const part of raw.split('&')) {
    if (part === '') continue;
    if (part.includes(';')) throw new InvalidParameterError('invalid semicolon separator in query');
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    out.append(unescape(key.replace(/\+/g, ' ')), unescape(value.replace(/\+/g, ' ')));
  }
  return out;
}

/** Percent-decoding to bytes, read as UTF-8 (invalid sequences become U+FFFD, as a Go string prints). */
export function unescape(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new InvalidParameterError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      bytes.push(...Buffer.from(s[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
