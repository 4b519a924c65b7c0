/**
 * Berth's own route (not in the Engine API): POST /berth/system/check[?repair=1] runs
 * `berth system check` in the daemon and answers its report (engine/system-check) as it is:
 * {Repair, Findings: [{Kind, Object, Path, Problem, Repair, Repaired?, Error?}], Remaining}.
 */
import { boolParam, sendJson, type Router } from '../router.js';

export function registerSystemCheckRoutes(router: Router): void {
  router.add('POST', '/berth/system/check', async (ctx) => {
    sendJson(ctx.res, 200, await ctx.engine.check.run({ repair: boolParam(ctx.query, 'repair') }));
  });
}
