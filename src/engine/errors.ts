/**
 * The engine's error vocabulary: the typed, coded errors of ../wire/errors.ts (shared with the
 * reference parser, which sits below the engine), plus the errors only the engine raises.
 * The API maps each `code` to an HTTP status in one place (api/errors.ts).
 */
export * from '../wire/errors.js';
