// Daemon address resolution, separate from index.ts so the CLI can resolve without loading node:http.
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** Flag, then BERTH_HOST, then DOCKER_HOST (unix:// or tcp://), then the default socket. */
export function resolveHost(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.BERTH_HOST) return env.BERTH_HOST;
  if (env.DOCKER_HOST && /^(unix|tcp):\/\//.test(env.DOCKER_HOST)) return env.DOCKER_HOST;
  return DEFAULT_HOST;
}
