// berth login / logout: credentials checked by the daemon (POST /auth) and kept in the client's
// config.json (src/client/credentials.ts), as docker/cli's registry commands do.
import type { CommandDef, Ctx } from '../context.js';
import { PROG, StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import {
  configPath, convertToHostname, eraseCredentials, getCredentials, INDEX_SERVER, storeCredentials, type Credentials,
} from '../../client/credentials.js';
import { SUMMARY } from '../summaries.js';

interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Lines typed on the terminal. One reader for every prompt, so what was typed ahead of a prompt
 * (both answers at once) is kept for the next one.
 */
class TerminalInput {
  private buf = '';
  private waiting: ((line: string | null) => void) | undefined;
  private ended = false;

  constructor(private readonly stdin: NodeJS.ReadStream) {
    stdin.on('data', (d: Buffer) => { this.buf += d.toString('utf8'); this.deliver(); });
    stdin.on('end', () => { this.ended = true; this.deliver(); });
  }

  private deliver(): void {
    if (!this.waiting) return;
    // Raw mode: Enter is \r; ^C and ^D arrive as bytes, erase as DEL.
    if (this.buf.includes('\u0003')) return this.answer(null, this.buf.length);
    const m = /\r\n|\r|\n|\u0004/.exec(this.buf);
    if (m) return this.answer(this.buf.slice(0, m.index), m.index + m[0].length);
    if (this.ended) this.answer(this.buf, this.buf.length);
  }

  private answer(raw: string | null, consumed: number): void {
    const w = this.waiting!;
    this.waiting = undefined;
    this.buf = this.buf.slice(consumed);
    this.stdin.pause();
    if (raw === null) return w(null);
    let line = '';
    for (const ch of raw) line = ch === '\u007f' || ch === '\b' ? line.slice(0, -1) : line + ch;
    w(line);
  }

  /** Ask, then the next line; `secret`: read with echo off (raw mode), as prompt.DisableInputEcho. */
  async line(secret: boolean, ask: () => void): Promise<string> {
    const raw = secret && this.stdin.isTTY;
    // Echo off before the prompt shows: nothing typed in answer to it is echoed.
    if (raw) this.stdin.setRawMode(true);
    try {
      ask();
      const line = await new Promise<string | null>((resolve) => {
        this.waiting = resolve;
        this.stdin.resume();
        this.deliver();
      });
      if (line === null) throw new StatusError(130);
      return line;
    } finally {
      if (raw) this.stdin.setRawMode(false);
    }
  }
}

let terminal: TerminalInput | undefined;

async function prompt(ctx: Ctx, question: string, secret: boolean): Promise<string> {
  terminal ??= new TerminalInput(process.stdin);
  return terminal.line(secret, () => ctx.out.write(question));
}

/** command.PromptUserForCredentials: asks for what the flags did not give. */
async function promptCredentials(ctx: Ctx, user: string, password: string, defaultUser: string, server: string): Promise<Credentials> {
  let u = user.trim();
  if (!u) {
    if (server === INDEX_SERVER) {
      ctx.out.write("Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.\n");
    }
    u = (await prompt(ctx, defaultUser ? `Username (${defaultUser}): ` : 'Username: ', false)).trim() || defaultUser;
    if (!u) throw new StatusError(1, 'Error: Non-null Username Required');
  }
  let pw = password.trim();
  if (!pw) {
    pw = await prompt(ctx, 'Password: ', true);
    ctx.out.write('\n');
    if (!pw) throw new StatusError(1, 'Error: Password Required');
  }
  return { username: u, password: pw, serveraddress: server };
}

let warnedUnencrypted = false;

/** Store, with docker's warning when a password (not a token) goes into the file. */
async function store(ctx: Ctx, c: Credentials): Promise<void> {
  try {
    await storeCredentials(c, ctx.configDir);
  } catch (e) {
    throw new StatusError(1, (e as Error).message);
  }
  if (c.password && !warnedUnencrypted) {
    warnedUnencrypted = true;
    ctx.err.write(`\nWARNING! Your credentials are stored unencrypted in '${configPath(ctx.configDir)}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`);
  }
}

async function authenticate(ctx: Ctx, c: Credentials): Promise<AuthResponse> {
  const client = await ctx.client();
  const body: Record<string, string> = { username: c.username, password: c.password, serveraddress: c.serveraddress };
  if (c.identitytoken) body.identitytoken = c.identitytoken;
  return client.json<AuthResponse>('POST', '/auth', { body });
}

async function runLogin(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  let user = f.username as string;
  let password = f.password as string;
  if (password) {
    ctx.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (f['password-stdin']) throw new StatusError(1, '--password and --password-stdin are mutually exclusive');
  }
  if (f['password-stdin']) {
    if (!user) throw new StatusError(1, 'Must provide --username with --password-stdin');
    password = (await readAll(process.stdin)).replace(/\n$/, '').replace(/\r$/, '');
  }
  const arg = p.args[0] ?? '';
  const server = arg && arg !== 'docker.io' ? arg : INDEX_SERVER;
  const isDefault = server === INDEX_SERVER;
  const key = isDefault ? server : convertToHostname(server);

  // With no flags, the stored credentials are tried first.
  let stored: Credentials | undefined;
  if (!user && !password) stored = await getCredentials(key, ctx.configDir).catch(() => undefined);
  let status: string | undefined;
  if (stored && stored.username && stored.password) {
    ctx.out.write(`Authenticating with existing credentials... [Username: ${stored.username}]\nTo login with a different account, run '${PROG} logout' followed by '${PROG} login'\n\n`);
    const c: Credentials = { username: stored.username, password: stored.password, serveraddress: key };
    try {
      const res = await authenticate(ctx, c);
      if (res.IdentityToken) Object.assign(c, { password: '', identitytoken: res.IdentityToken });
      await store(ctx, c);
      status = res.Status;
    } catch (e) {
      const api = e as { name?: string; statusCode?: number; message?: string };
      if (api.name === 'ApiError' && api.statusCode === 401) ctx.err.write('Stored credentials invalid or expired\n');
      else ctx.err.write(`Login did not succeed, error: Error response from daemon: ${api.message ?? String(e)}\n`);
    }
  }
  if (status === undefined) {
    if ((!user || !password) && !process.stdin.isTTY) throw new StatusError(1, 'Error: Cannot perform an interactive login from a non TTY device');
    const c = await promptCredentials(ctx, user, password, stored?.username ?? '', key);
    user = c.username;
    const res = await authenticate(ctx, c);
    if (res.IdentityToken) Object.assign(c, { password: '', identitytoken: res.IdentityToken });
    await store(ctx, c);
    status = res.Status;
  }
  if (status) ctx.out.write(status + '\n');
  return 0;
}

async function runLogout(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const arg = p.args[0] ?? '';
  const isDefault = !arg;
  const server = arg || INDEX_SERVER;
  const host = isDefault ? server : convertToHostname(server);
  // Older files may hold the address in any of these forms.
  const keys = isDefault ? [server] : [...new Set([server, host, `http://${host}`, `https://${host}`])];
  ctx.out.write(`Removing login credentials for ${host}\n`);
  try {
    await eraseCredentials(keys, ctx.configDir);
  } catch (e) {
    ctx.err.write(`WARNING: could not erase credentials:\n${server}: ${(e as Error).message}\n`);
  }
  return 0;
}

export const commands: Record<string, CommandDef> = {
  login: {
    spec: {
      use: '[OPTIONS] [SERVER]',
      short: SUMMARY.login,
      flags: [
        { name: 'password', short: 'p', type: 'string', usage: 'Password or personal access token' },
        { name: 'password-stdin', type: 'bool', usage: 'Read the password or token from STDIN' },
        { name: 'username', short: 'u', type: 'string', usage: 'User name' },
      ],
      maxArgs: 1,
    },
    run: runLogin,
  },
  logout: {
    spec: { use: '[SERVER]', short: SUMMARY.logout, flags: [], maxArgs: 1 },
    run: runLogout,
  },
};
