// Go text/tabwriter semantics as used by docker/cli (minwidth, tabwidth, padding, padchar ' ', no flags).
// Cells are tab-terminated; the text after the last tab in a line is not part of a column.
// A line without tabs ends the current column block (Go flushes on such a line).

export interface TabwriterOptions {
  minwidth?: number;
  padding?: number;
}

function runeLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function tabwrite(text: string, opts: TabwriterOptions = {}): string {
  const minwidth = opts.minwidth ?? 10;
  const padding = opts.padding ?? 3;
  const endsWithNewline = text.endsWith('\n');
  const rawLines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  const lines = rawLines.map((l) => l.split('\t'));
  let out = '';

  const formatBlock = (block: string[][]): void => {
    const widths: number[] = [];
    const res: string[] = new Array(block.length).fill('');
    const format = (line0: number, line1: number): void => {
      const column = widths.length;
      for (let t = line0; t < line1; t++) {
        if (column >= block[t].length - 1) continue;
        // column block begins at t
        emit(line0, t);
        line0 = t;
        let width = minwidth;
        for (; t < line1; t++) {
          const line = block[t];
          if (column >= line.length - 1) break;
          const w = runeLen(line[column]) + padding;
          if (w > width) width = w;
        }
        widths.push(width);
        format(line0, t);
        widths.pop();
        line0 = t;
        t--; // the for loop increments
      }
      emit(line0, line1);
    };
    const emit = (from: number, to: number): void => {
      for (let k = from; k < to; k++) {
        if (res[k] !== '') continue;
        const line = block[k];
        let s = '';
        for (let j = 0; j < line.length; j++) {
          const c = line[j];
          s += c;
          if (j < widths.length) s += ' '.repeat(Math.max(0, widths[j] - runeLen(c)));
        }
        res[k] = s + '\n';
      }
    };
    format(0, block.length);
    out += res.join('');
  };

  let start = 0;
  for (let k = 0; k < lines.length; k++) {
    if (lines[k].length === 1) {
      if (k > start) formatBlock(lines.slice(start, k));
      out += lines[k][0] + '\n';
      start = k + 1;
    }
  }
  if (start < lines.length) formatBlock(lines.slice(start));
  if (!endsWithNewline && out.endsWith('\n')) out = out.slice(0, -1);
  return out;
}
