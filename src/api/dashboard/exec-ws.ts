/**
 * The dashboard's terminal: one WebSocket per exec session (made by POST /containers/{id}/exec
 * with Tty). Binary messages are the terminal's bytes both ways; a text message
 * `{"resize":[rows,cols]}` resizes the pty; `{"exit":N}` is sent when the process ends.
 */
import type { WebSocket } from 'ws';
import type { Engine } from '../../engine/engine.js';
import { messageOf } from '../errors.js';

interface ClientMessage { resize?: [number, number] }

function size(q: URLSearchParams): [number, number] | undefined {
  const h = Number(q.get('h'));
  const w = Number(q.get('w'));
  return Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0 && h < 1000 && w < 1000 ? [h, w] : undefined;
}

export async function bridgeExec(engine: Engine, execId: string, query: URLSearchParams, ws: WebSocket): Promise<void> {
  const exec = engine.exec;
  let session;
  try {
    exec.check(execId);
    session = await exec.start(execId, { detach: false, consoleSize: size(query) });
  } catch (err) {
    ws.send(`${messageOf(err)}\r\n`);
    ws.close(1011, 'exec failed');
    return;
  }
  if (!session) { ws.close(1000); return; }
  const s = session;
  let gone = false;
  ws.on('close', () => { gone = true; s.detach(); });
  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) { s.writeStdin(buf); return; }
    let msg: ClientMessage;
    try { msg = JSON.parse(buf.toString('utf8')) as ClientMessage; } catch { return; }
    const r = msg.resize;
    if (Array.isArray(r) && r.length === 2 && r.every((n) => Number.isInteger(n) && n > 0 && n < 1000)) {
      try { exec.resize(execId, r[0], r[1]); } catch { /* ended meanwhile */ }
    }
  });
  for await (const rec of s.output) {
    if (gone) break;
    ws.send(rec.data, { binary: true });
    // Backpressure: a slow browser stops the pump rather than filling the daemon's memory.
    while (!gone && ws.bufferedAmount > 1 << 20) await new Promise((res) => setTimeout(res, 20));
  }
  if (gone) return;
  const status = await s.exited.catch(() => undefined);
  ws.send(JSON.stringify({ exit: status?.exitCode ?? null }));
  ws.close(1000);
}
