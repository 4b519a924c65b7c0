import { UsageError } from './config.js';

/** Where the dashboard listens: always the IPv4 loopback address (see parseDashboardAddress). */
export interface DashboardAddress { host: '127.0.0.1'; port: number }

/**
 * `--dashboard` / daemon.json `dashboard`: `127.0.0.1:PORT`, `localhost:PORT` or a bare `PORT`
 * (0: any free port). Any other host is refused: the dashboard drives the Engine API, which is
 * root-equivalent, so it is served to this machine only.
 */
export function parseDashboardAddress(v: unknown): DashboardAddress {
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string') throw new UsageError(`invalid dashboard address ${JSON.stringify(v)}: want 127.0.0.1:PORT`);
  const m = /^(?:(127\.0\.0\.1|localhost):)?(\d{1,5})$/.exec(text.trim());
  if (!m) {
    throw new UsageError(`invalid dashboard address ${JSON.stringify(text)}: the dashboard listens on 127.0.0.1 only (it drives the Engine API, which is root-equivalent); want 127.0.0.1:PORT`);
  }
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError(`invalid dashboard address ${JSON.stringify(text)}: port out of range`);
  return { host: '127.0.0.1', port };
}
