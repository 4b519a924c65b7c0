/**
 * Registry errors (Distribution API v2 `{"errors":[{"code","message","detail"}]}`) and their
 * translation into the engine's typed errors with Docker's wording.
 */
import { BerthError, NotFoundError, UnauthorizedError, UnavailableError, SystemError } from '../errors.js';
import { familiarName, familiarString } from '../../wire/reference.js';
import type { Reference } from '../images/types.js';
import { NetworkError } from './http.js';

export interface RegistryErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/** An HTTP answer from a registry that was not a success. */
export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: RegistryErrorEntry[],
    readonly url: string,
    readonly method = 'GET',
  ) {
    super(RegistryHttpError.render(status, errors, url, method));
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

/** A layer or config whose bytes do not match their digest. */
export class DigestMismatchError extends BerthError {
  constructor(message: string) {
    super('SYSTEM', message);
    this.name = 'DigestMismatchError';
  }
}

/**
 * Docker's pull error wording (moby distribution/errors.go TranslatePullError and pull_v2.go):
 * - manifest unknown for a tag/digest → `manifest for busybox:nosuch not found: manifest unknown: manifest unknown`
 * - denied / name unknown / unauthorized → `pull access denied for x, repository does not exist or may require 'docker login': …`
 * - no HTTP answer → the Go-style network message.
 */
export function translatePullError(err: unknown, ref: Reference): Error {
  if (err instanceof BerthError) return err;
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
  if (err instanceof NetworkError) return new UnavailableError(err.message);
  if (err instanceof TokenError) return new UnauthorizedError(err.message);
  return new SystemError(err instanceof Error ? err.message : String(err), err);
}

/** The token endpoint refused us (bad credentials) or answered nonsense. */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}
