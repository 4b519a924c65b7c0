import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { postJson } from '../api';

/** A shell in the container: xterm.js over the dashboard's exec WebSocket, resized with the pane. */
export function TerminalView(props: { id: string }) {
  const el = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('connecting');
  const [session, setSession] = useState(0);
  useEffect(() => {
    const term = new Terminal({ cursorBlink: true, fontSize: 13, fontFamily: 'ui-monospace, monospace', theme: { background: '#10141a' } });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el.current!);
    fit.fit();
    let ws: WebSocket | undefined;
    let closed = false;
    const enc = new TextEncoder();
    void (async () => {
      // bash when the image has one, else sh: Docker Desktop's choice.
      const cmd = ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi'];
      const { Id } = await postJson<{ Id: string }>(`/containers/${props.id}/exec`, {
        Cmd: cmd, Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true, Env: ['TERM=xterm-256color'],
      });
      if (closed) return;
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/exec/${Id}/ws?h=${term.rows}&w=${term.cols}`);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => { setStatus('connected'); term.focus(); };
      ws.onmessage = (m) => {
        if (typeof m.data === 'string') {
          try {
            const j = JSON.parse(m.data) as { exit?: number | null };
            if ('exit' in j) { setStatus(`exited (${j.exit ?? '?'})`); return; }
          } catch { /* an error message */ }
          term.write(m.data);
        } else term.write(new Uint8Array(m.data as ArrayBuffer));
      };
      ws.onclose = () => setStatus((s) => (s.startsWith('exited') ? s : 'disconnected'));
      term.onData((d) => ws?.readyState === WebSocket.OPEN && ws.send(enc.encode(d)));
      term.onResize(({ rows, cols }) => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ resize: [rows, cols] })));
    })().catch((e: Error) => { setStatus('failed'); term.write(`\r\n${e.message}\r\n`); });
    const ro = new ResizeObserver(() => { try { fit.fit(); } catch { /* hidden */ } });
    ro.observe(el.current!);
    return () => { closed = true; ro.disconnect(); ws?.close(); term.dispose(); };
  }, [props.id, session]);
  return (
    <div class="terminal-pane">
      <div class="toolbar">
        <span class="muted" data-testid="terminal-status">{status}</span>
        <button onClick={() => { setStatus('connecting'); setSession((n) => n + 1); }}>New session</button>
      </div>
      <div class="terminal" ref={el} data-testid="terminal" />
    </div>
  );
}
