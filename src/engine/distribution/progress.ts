import { humanSize } from '../../util/units.js';
/**
 * Progress messages of pull (and later push), shaped as Docker's daemon sends them
 * (pkg/jsonmessage JSONProgress rendered by the daemon, whose "terminal" width is 200 columns:
 * bar of 50 cells, then `%8v/%v` sizes, no time-left box since the daemon sends no start time).
 */
import type { JSONMessage, ProgressSink } from '../images/types.js';

/** The pre-rendered `progress` string of a JSON message, as Docker's daemon renders it. */
export { humanSize };

export function renderProgress(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const pct = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  const cur = humanSize(current).padStart(8);
  const numbers = current > total ? cur : `${cur}/${humanSize(total)}`;
  return bar + numbers;
}

/** A per-layer status message with an empty progressDetail, as Docker sends them. */
export function layerStatus(id: string, status: string): JSONMessage {
  return { status, progressDetail: {}, id };
}

export function layerProgress(id: string, status: string, current: number, total: number): JSONMessage {
  const detail: { current?: number; total?: number } = {};
  if (current) detail.current = current;
  if (total) detail.total = total;
  return { status, progressDetail: detail, progress: renderProgress(current, total), id };
}

/**
 * Throttled byte-progress for one layer and one action (Downloading, Extracting): the first update
 * is sent at once, then at most one every `intervalMs`, and the final one (current === total) always.
 */
export class ThrottledProgress {
  private last = 0;
  private sentCurrent = -1;
  constructor(
    private readonly sink: ProgressSink,
    private readonly id: string,
    private readonly action: string,
    private readonly total: number,
    private readonly intervalMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  update(current: number): void {
    const t = this.now();
    const final = this.total > 0 && current >= this.total;
    if (current === this.sentCurrent) return;
    if (this.sentCurrent >= 0 && !final && t - this.last < this.intervalMs) return;
    this.last = t;
    this.sentCurrent = current;
    this.sink(layerProgress(this.id, this.action, current, this.total));
  }
}

/** 12-hex short id of a digest, as stringid.TruncateID. */
export function shortId(digest: string): string {
  const i = digest.indexOf(':');
  return (i >= 0 ? digest.slice(i + 1) : digest).slice(0, 12);
}
