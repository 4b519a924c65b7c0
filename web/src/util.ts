export function humanSize(bytes: number): string {
  if (!(bytes >= 0)) return '-';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(v >= 10 ? 1 : 2)}${units[i]}`;
}

export function ago(seconds: number): string {
  const d = Math.max(0, Date.now() / 1000 - seconds);
  if (d < 60) return `${Math.floor(d)} seconds ago`;
  if (d < 3600) return `${Math.floor(d / 60)} minutes ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} hours ago`;
  return `${Math.floor(d / 86400)} days ago`;
}

export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

export const nameOf = (c: { Names: string[] }): string => (c.Names[0] ?? '').replace(/^\//, '');

/** The health word in a container's status ("Up 3 minutes (healthy)"). */
export function healthOf(status: string): string | undefined {
  return /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1];
}
