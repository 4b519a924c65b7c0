// Compose's global output flags: --ansi, --progress and --parallel (and their COMPOSE_* variables),
// checked as Compose v2 checks them, then kept per command context so that the progress lines
// (state.ts), the log colours and the fan-out of container operations obey them.
import type { Ctx } from '../../context.js';
import { ComposeError } from './errors.js';

export type AnsiMode = 'never' | 'always' | 'auto';
/** How progress lines print: plain text lines, JSON objects, or not at all. */
export type ProgressMode = 'plain' | 'json' | 'quiet';

export interface ComposeUI {
  ansi: AnsiMode;
  /** NO_COLOR set: no colours whatever --ansi says. */
  noColor: boolean;
  progress: ProgressMode;
  /** Most container operations at once; 0: no limit given. */
  parallel: number;
}

/** The flags as given: undefined where the flag was not on the command line. */
export interface UIFlags {
  ansi?: string;
  progress?: string;
  parallel?: number;
}

export const DEFAULT_UI: ComposeUI = { ansi: 'auto', noColor: false, progress: 'plain', parallel: 0 };

export function resolveUI(flags: UIFlags, env: Record<string, string | undefined>): ComposeUI {
  const ansi = flags.ansi ?? env.COMPOSE_ANSI ?? 'auto';
  if (ansi !== 'never' && ansi !== 'always' && ansi !== 'auto') throw new ComposeError(`unsupported --ansi value "${ansi}": use "never", "always" or "auto"`);
  const wanted = flags.progress ?? env.COMPOSE_PROGRESS ?? 'auto';
  let progress: ProgressMode;
  switch (wanted) {
    case '':
    case 'auto':
    case 'plain':
      if (wanted === 'plain' && ansi === 'always') throw new ComposeError("can't use --progress plain while ANSI support is forced");
      progress = 'plain';
      break;
    case 'tty':
      if (ansi === 'never') throw new ComposeError("can't use --progress tty while ANSI support is disabled");
      throw new ComposeError('--progress tty is not supported by Berth (it prints progress as plain lines: use --progress plain, json or quiet)');
    case 'quiet':
    case 'none':
      progress = 'quiet';
      break;
    case 'json':
      progress = 'json';
      break;
    default:
      throw new ComposeError(`unsupported --progress value "${wanted}"`);
  }
  let parallel = flags.parallel;
  if (parallel === undefined && env.COMPOSE_PARALLEL_LIMIT !== undefined) {
    const v = env.COMPOSE_PARALLEL_LIMIT;
    if (!/^[+-]?\d+$/.test(v.trim())) throw new ComposeError(`COMPOSE_PARALLEL_LIMIT must be an integer (found: "${v}")`);
    parallel = Number(v);
  }
  return { ansi, noColor: !!env.NO_COLOR, progress, parallel: parallel !== undefined && parallel > 0 ? parallel : 0 };
}

const settings = new WeakMap<Ctx, ComposeUI>();

export function setUI(ctx: Ctx, ui: ComposeUI): void {
  settings.set(ctx, ui);
}

export function uiOf(ctx: Ctx): ComposeUI {
  return settings.get(ctx) ?? DEFAULT_UI;
}

/** Whether to colour output on stdout: --ansi always, or auto on a terminal; never with NO_COLOR. */
export function useColor(ctx: Ctx): boolean {
  const ui = uiOf(ctx);
  if (ui.noColor || ui.ansi === 'never') return false;
  return ui.ansi === 'always' || !!ctx.out.isTTY;
}

/** How many container operations to run at once: --parallel when given, else the command's own bound. */
export function parallelLimit(ctx: Ctx, fallback: number): number {
  const n = uiOf(ctx).parallel;
  return n > 0 ? n : fallback;
}
