// One berth command line run in this process through cli.ts's main(), its output captured
// (unit tests: no daemon is needed for what they run).
import { Writable } from 'node:stream';
import { main } from '../../src/cli/cli.js';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function berthInProcess(args: string[]): Promise<InProcessResult> {
  const sink = () => {
    const w = new Writable({ write(chunk, _enc, cb) { w.text += String(chunk); cb(); } }) as Writable & { text: string };
    w.text = '';
    return w;
  };
  const out = sink();
  const err = sink();
  const code = await main(args, { out: out as unknown as NodeJS.WriteStream, err: err as unknown as NodeJS.WriteStream });
  return { code, stdout: out.text, stderr: err.text };
}
