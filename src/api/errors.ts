import type { ServerResponse } from 'node:http';
import { isBerthError, type ErrorCode } from '../wire/errors.js';

/** The one place where engine error codes become HTTP statuses. */
const STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_PARAMETER: 400,
  NOT_MODIFIED: 304,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNAVAILABLE: 503,
  NOT_IMPLEMENTED: 501,
  SYSTEM: 500,
};

export function statusOf(err: unknown): number {
  if (isBerthError(err)) return STATUS[err.code];
  if (err instanceof SyntaxError) return 400;
  return 500;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Every 5xx is a bug and leaves a trace: the daemon's log (stderr) gets the status, the request
 * line and the stack (and its cause's).
 */
export function logServerError(status: number, requestLine: string, err: unknown): void {
  if (status < 500) return;
  const stack = (e: unknown) => (e instanceof Error ? e.stack ?? `${e.name}: ${e.message}` : String(e));
  let text = stack(err);
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause !== undefined) text += `\ncaused by: ${stack(cause)}`;
  process.stderr.write(`${new Date().toISOString()} berthd: ${status} on ${requestLine}: ${text}\n`);
}

/** The request line of a log entry: method and URL as the client sent them. */
export function requestLine(req: { method?: string; url?: string }): string {
  return `${req.method ?? '?'} ${req.url ?? '?'}`;
}

/** Answer with the error's status and `{"message"}`; a 5xx is logged with the request line first. */
export function sendError(res: ServerResponse, err: unknown, request: string): void {
  const status = statusOf(err);
  logServerError(status, request, err);
  if (res.headersSent) {
    // Too late for a status: cut the response so the client sees it incomplete.
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304).end();
    return;
  }
  const body = JSON.stringify({ message: messageOf(err) }) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The error frame a hijacked connection gets when the failure comes before the 101 (a 5xx is logged). */
export function hijackErrorResponse(err: unknown, request: string): string {
  const status = statusOf(err);
  logServerError(status, request, err);
  const body = JSON.stringify({ message: messageOf(err) }) + '\n';
  return `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function statusText(status: number): string {
  return ({ 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 304: 'Not Modified', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable', 401: 'Unauthorized', 403: 'Forbidden' } as Record<number, string>)[status] ?? 'Error';
}
