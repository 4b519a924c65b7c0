/** The Engine API versions this daemon speaks, and the engine version it reports: the one place. */
export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.50';
export const ENGINE_VERSION = '28.2.2-berth';
