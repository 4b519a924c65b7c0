/**
 * Typed engine errors. Each carries the user-facing message (Docker's wording where Docker has one)
 * and a stable `code`. The API layer maps `code` to an HTTP status in one place (api/errors.ts);
 * the engine never knows about HTTP.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_PARAMETER'
  | 'NOT_MODIFIED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'SYSTEM';

export class BerthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'BerthError';
  }
}

export class NotFoundError extends BerthError {
  constructor(message: string) { super('NOT_FOUND', message); }
}
export class ConflictError extends BerthError {
  constructor(message: string) { super('CONFLICT', message); }
}
export class InvalidParameterError extends BerthError {
  constructor(message: string) { super('INVALID_PARAMETER', message); }
}
export class NotModifiedError extends BerthError {
  constructor(message = '') { super('NOT_MODIFIED', message); }
}
export class UnauthorizedError extends BerthError {
  constructor(message: string) { super('UNAUTHORIZED', message); }
}
export class UnavailableError extends BerthError {
  constructor(message: string) { super('UNAVAILABLE', message); }
}
export class NotImplementedError extends BerthError {
  constructor(message: string) { super('NOT_IMPLEMENTED', message); }
}
export class SystemError extends BerthError {
  constructor(message: string, cause?: unknown) { super('SYSTEM', message, { cause }); }
}

export function isBerthError(e: unknown): e is BerthError {
  return e instanceof BerthError;
}
