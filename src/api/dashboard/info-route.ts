import { NotFoundError } from '../../wire/errors.js';
import { sendJson, type Router } from '../router.js';

/** What `berth dashboard` shows: where the dashboard is, and the link that logs a browser in. */
export interface DashboardInfo { URL: string; LoginURL: string }

/**
 * `GET /berth/dashboard` (a Berth extension, on the daemon's socket, whose users are already
 * root-equivalent): the dashboard's login URL, or a 404 saying how to turn it on.
 */
export function registerDashboardInfoRoute(router: Router, info: () => DashboardInfo | undefined): void {
  router.add('GET', '/berth/dashboard', (ctx) => {
    const i = info();
    if (!i) throw new NotFoundError('the dashboard is off: start berthd with --dashboard 127.0.0.1:PORT (or "dashboard": "127.0.0.1:PORT" in daemon.json)');
    sendJson(ctx.res, 200, i);
  });
}
