/**
 * Registry errors (Distribution API v2 `{"errors":[{"code","message","detail"}]}`) and their
 * translation into the engine's typed errors with Docker's wording.
 */
import { BerthError, NotFoundError, UnauthorizedError, UnavailableError, SystemError, type ErrorCode } from '../errors.js';

export { DigestMismatchError } from '../errors.js';
import { familiarName, familiarString } from '../../wire/reference.js';
import type { Reference } from '../images/types.js';

export interface RegistryErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/** The code of a registry's HTTP failure: its auth answers as such, overload as unavailable, the rest a 500. */
function registryStatusCode(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'UNAVAILABLE';
  return 'SYSTEM';
}

/** An HTTP answer from a registry that was not a success. */
export class RegistryHttpError extends BerthError {
  constructor(
    readonly status: number,
    readonly errors: RegistryErrorEntry[],
    readonly url: string,
    readonly method = 'GET',
  ) {
    super(registryStatusCode(status), RegistryHttpError.render(status, errors, url, method));
    this.name = 'RegistryHttpError';
  }

  /** errcode.Error's text: `<code lowercased, _ → space>: <message>`. */
  static entryText(e: RegistryErrorEntry): string {
    const code = e.code.toLowerCase().replace(/_/g, ' ');
    return e.message ? `${code}: ${e.message}` : code;
  }

  static render(status: number, errors: RegistryErrorEntry[], url: string, method: string): string {
    if (errors.length === 1) return RegistryHttpError.entryText(errors[0]!);
    if (errors.length > 1) return 'errors:\n' + errors.map((e) => RegistryHttpError.entryText(e)).join('\n');
    const m = method.charAt(0) + method.slice(1).toLowerCase();
    if (status === 401) return `${m} "${url}": unauthorized: authentication required`;
    if (status === 404) return `${m} "${url}": not found`;
    return `${m} "${url}": unexpected status code ${status}`;
  }

  get firstCode(): string | undefined {
    return this.errors[0]?.code;
  }
}

/** Parse an error response body; tolerant of non-JSON bodies. */
export function parseRegistryErrors(body: Buffer): RegistryErrorEntry[] {
  try {
    const v = JSON.parse(body.toString('utf8')) as { errors?: unknown; details?: unknown };
    if (Array.isArray(v.errors)) {
      return v.errors
        .filter((e): e is { code?: unknown; message?: unknown; detail?: unknown } => typeof e === 'object' && e !== null)
        .map((e) => ({ code: String(e.code ?? 'UNKNOWN'), message: String(e.message ?? ''), detail: e.detail }));
    }
  } catch {
    /* not JSON */
  }
  return [];
}

/**
 * Docker's pull error wording (moby distribution/errors.go TranslatePullError and pull_v2.go):
 * - manifest unknown for a tag/digest → `manifest for busybox:nosuch not found: manifest unknown: manifest unknown`
 * - denied / name unknown / unauthorized → `pull access denied for x, repository does not exist or may require 'docker login': …`
 * - no HTTP answer → the Go-style network message.
 */
export function translatePullError(err: unknown, ref: Reference): Error {
  if (err instanceof RegistryHttpError) {
    const code = err.firstCode;
    if (code === 'MANIFEST_UNKNOWN' || (err.status === 404 && !code)) {
      return new NotFoundError(`manifest for ${familiarString(ref)} not found: ${code ? err.message : 'manifest unknown: manifest unknown'}`);
    }
    if (code === 'DENIED' || code === 'NAME_UNKNOWN' || code === 'UNAUTHORIZED' || err.status === 401 || err.status === 403) {
      const cause = code ? err.message : 'denied: requested access to the resource is denied';
      const e = new NotFoundError(`pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${cause}`);
      return e;
    }
    if (code === 'TOOMANYREQUESTS' || err.status === 429) return new UnavailableError(err.message);
    return new SystemError(err.message, err);
  }
  // Refused or missing credentials fail a pull as dockerd fails it: not as a 401, which clients
  // take as "log in and retry" (the docker CLI's privilege prompt), but with the registry's reason.
  if (err instanceof UnauthorizedError) return new SystemError(err.message, err);
  // Typed already: a network failure (503), a digest mismatch…
  if (err instanceof BerthError) return err;
  return new SystemError(err instanceof Error ? err.message : String(err), err);
}

/** The token endpoint refused us (bad credentials) or answered nonsense: a 401, as dockerd. */
export class TokenError extends UnauthorizedError {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}
