/** stdcopy framing (Engine API multiplexed streams): 8-byte header, then the payload. */
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

export function frame(stream: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32BE(0, 0);
  out[0] = stream;
  out.writeUInt32BE(payload.length, 4);
  payload.copy(out, 8);
  return out;
}
