import { postJson } from './api';

/** Run `cmd` in a running container (no TTY) over the exec WebSocket; collect its output. */
export async function execCollect(container: string, cmd: string[]): Promise<{ output: Uint8Array<ArrayBuffer>; exit: number | null }> {
  const { Id } = await postJson<{ Id: string }>(`/containers/${container}/exec`, { Cmd: cmd, Tty: false, AttachStdout: true, AttachStderr: true });
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${location.host}/api/exec/${Id}/ws`);
    ws.binaryType = 'arraybuffer';
    const parts: Uint8Array[] = [];
    let exit: number | null = null;
    ws.onmessage = (m) => {
      if (typeof m.data === 'string') {
        try { exit = (JSON.parse(m.data) as { exit: number | null }).exit; } catch { parts.push(new TextEncoder().encode(m.data)); }
      } else parts.push(new Uint8Array(m.data as ArrayBuffer));
    };
    ws.onerror = () => reject(new Error('the exec connection failed'));
    ws.onclose = () => {
      const total = parts.reduce((n, p) => n + p.length, 0);
      const output = new Uint8Array(total);
      let at = 0;
      for (const p of parts) { output.set(p, at); at += p.length; }
      resolve({ output, exit });
    };
  });
}

/** Save bytes as a file through a temporary link. */
export function download(data: BlobPart, name: string, type = 'application/x-tar'): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
