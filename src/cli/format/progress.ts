// Render a JSON-message stream (pull/push/load) like moby's jsonmessage.DisplayJSONMessagesStream.
import type { JSONMessage, JSONProgress } from '../../client/jsonstream.js';
import { humanSize } from '../../util/units.js';

export class JSONMessageError extends Error {
  readonly code?: number;
  constructor(message: string, code?: number) {
    super(message);
    this.name = 'JSONMessageError';
    this.code = code;
  }
}

function goDuration(ms: number): string {
  const totalSec = Math.floor(ms / 1000);
  if (totalSec === 0) return '0s';
  const h = Math.floor(totalSec / 3600);
  const m = Math.floor((totalSec % 3600) / 60);
  const s = totalSec % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

function pad8(s: string): string {
  return s.length >= 8 ? s : ' '.repeat(8 - s.length) + s;
}

/** JSONProgress.String(): "[=====>    ]  1.2MB/4.5MB 3s". */
export function progressString(p: JSONProgress | undefined, width = 200, now = Date.now()): string {
  if (!p) return '';
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : pad8(humanSize(current));
  let percentage = Math.trunc((current / total) * 100) / 2;
  percentage = Math.trunc(percentage);
  if (percentage > 50) percentage = 50;
  let pbBox = '';
  let numbersBox = '';
  let timeLeftBox = '';
  if (width > 110) pbBox = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  if (p.hidecounts) {
    /* nothing */
  } else if (!p.units) {
    numbersBox = current > total ? pad8(humanSize(current)) : `${pad8(humanSize(current))}/${humanSize(total)}`;
  } else {
    numbersBox = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  if (current > 0 && p.start && p.start > 0 && percentage < 50) {
    const fromStart = now - p.start * 1000;
    const perEntry = fromStart / current;
    const left = (total - current) * perEntry;
    if (width > 50) timeLeftBox = ' ' + goDuration(left);
  }
  return pbBox + numbersBox + timeLeftBox;
}

export interface Output {
  write(s: string): unknown;
}

/** Incremental renderer: call write() per message; throws JSONMessageError on an error message. */
export class ProgressRenderer {
  private ids = new Map<string, number>();
  private readonly out: Output;
  private readonly isTerminal: boolean;
  private readonly width: number;
  constructor(out: Output, isTerminal: boolean, width = 200) {
    this.out = out;
    this.isTerminal = isTerminal;
    this.width = width;
  }

  write(jm: JSONMessage): void {
    // aux messages (a push's digest, a build's image ID) are data for callers, not lines to print
    if (jm.aux !== undefined && jm.aux !== null) return;
    let diff = 0;
    const hasProgress = jm.progressDetail !== undefined && jm.progressDetail !== null;
    if (jm.id && (hasProgress || jm.progress)) {
      let line = this.ids.get(jm.id);
      if (line === undefined) {
        line = this.ids.size;
        this.ids.set(jm.id, line);
        if (this.isTerminal) this.out.write('\n');
      }
      diff = this.ids.size - line;
      if (this.isTerminal && diff > 0) this.out.write(`\x1b[${diff}A`);
    } else {
      this.ids = new Map();
    }
    this.display(jm, hasProgress);
    if (jm.id && this.isTerminal && diff > 0) this.out.write(`\x1b[${diff}B`);
  }

  private display(jm: JSONMessage, hasProgress: boolean): void {
    if (jm.errorDetail && jm.errorDetail.message) throw new JSONMessageError(jm.errorDetail.message, jm.errorDetail.code);
    if (jm.error) throw new JSONMessageError(jm.error);
    let endl = '';
    const prog = hasProgress ? progressString(jm.progressDetail, this.width) : '';
    if (this.isTerminal && !jm.stream && hasProgress) {
      this.out.write('\x1b[2K');
      endl = '\r';
      this.out.write(endl);
    } else if (hasProgress && prog !== '') {
      return; // no progress bars when not a terminal
    }
    let s = '';
    if (jm.id) s += `${jm.id}: `;
    if (jm.from) s += `(from ${jm.from}) `;
    if (hasProgress && this.isTerminal) s += `${jm.status ?? ''} ${prog}${endl}`;
    else if (jm.progress) s += `${jm.status ?? ''} ${jm.progress}${endl}`;
    else if (jm.stream) s += `${jm.stream}${endl}`;
    else s += `${jm.status ?? ''}${endl}\n`;
    this.out.write(s);
  }
}
