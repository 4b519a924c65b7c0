// `berth dashboard [--open]`: print the link that opens berthd's web dashboard (and open it).
import type { CommandDef, Ctx } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { SUMMARY } from '../summaries.js';

interface DashboardInfo { URL: string; LoginURL: string }

async function runDashboard(ctx: Ctx, p: ParsedFlags): Promise<void> {
  const client = await ctx.client();
  const info = await client.json<DashboardInfo>('GET', '/berth/dashboard');
  // The link carries the per-install token once: the page keeps it in an HttpOnly cookie.
  ctx.out.write(`${info.LoginURL}\n`);
  if (p.flags.open) {
    const { spawn } = await import('node:child_process');
    const child = spawn('xdg-open', [info.LoginURL], { stdio: 'ignore', detached: true });
    child.on('error', () => ctx.err.write('could not start xdg-open: open the link above in a browser on this machine\n'));
    child.unref();
  }
}

export const commands: Record<string, CommandDef> = {
  dashboard: {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY.dashboard,
      flags: [{ name: 'open', type: 'bool', usage: 'Open the dashboard in the default browser' }],
      maxArgs: 0,
    },
    run: runDashboard,
  },
};
