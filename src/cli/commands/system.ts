// System commands: version, info, check (Berth's own), df.
import type { CommandDef, Ctx } from '../context.js';
import { CLI_VERSION, GIT_COMMIT, StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { renderTemplate } from '../format/template.js';
import { bytesSize } from '../../util/units.js';
import { errorText, INSPECT_FORMAT_FLAG } from './common.js';
import type { SystemCheckFinding } from '../../client/index.js';
import { SUMMARY } from '../summaries.js';

/** docker/cli reformatDate: RFC3339 build times are shown in time.ANSIC ("Thu May  7 21:09:36 2026"). */
function reformatDate(s: string): string {
  const ms = Date.parse(s);
  if (!s || Number.isNaN(ms)) return s;
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

/** `--format TEMPLATE` of version and info: escaped \t and \n in the template mean tab and newline. */
function renderFormat(format: string, data: unknown): string {
  return renderTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'), data);
}

function pad(label: string, width: number): string {
  return label.length >= width ? label : label + ' '.repeat(width - label.length);
}

async function runVersion(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  let serverErr: unknown;
  let server: Awaited<ReturnType<typeof client.version>> | undefined;
  try {
    await client.ping(true);
    server = await client.version();
  } catch (e) {
    serverErr = e;
  }
  const clientInfo = {
    Platform: { Name: '' },
    Version: CLI_VERSION,
    ApiVersion: client.apiVersion,
    DefaultAPIVersion: client.clientVersion,
    NodeVersion: process.version,
    GitCommit: GIT_COMMIT,
    BuildTime: '',
    Os: process.platform,
    Arch: process.arch === 'x64' ? 'amd64' : process.arch,
    Context: 'default',
  };
  const format = p.flags.format as string;
  if (format) {
    const data = { Client: clientInfo, Server: server ?? null };
    if (format === 'json') ctx.out.write(JSON.stringify(data) + '\n');
    else ctx.out.write(renderFormat(format, data) + '\n');
    if (serverErr) throw new StatusError(1, errorText(serverErr));
    return 0;
  }
  let s = 'Client:\n';
  const api =
    clientInfo.ApiVersion !== clientInfo.DefaultAPIVersion
      ? `${clientInfo.ApiVersion} (downgraded from ${clientInfo.DefaultAPIVersion})`
      : clientInfo.ApiVersion;
  s += ` Version:           ${clientInfo.Version}\n`;
  s += ` API version:       ${api}\n`;
  s += ` Node version:      ${clientInfo.NodeVersion}\n`;
  s += ` Git commit:        ${clientInfo.GitCommit}\n`;
  s += ` OS/Arch:           ${clientInfo.Os}/${clientInfo.Arch}\n`;
  s += ` Context:           ${clientInfo.Context}\n`;
  if (server) {
    s += `\nServer:${server.Platform?.Name ? ' ' + server.Platform.Name : ''}\n`;
    const comps = server.Components ?? [
      {
        Name: 'Engine',
        Version: server.Version,
        Details: {
          ApiVersion: server.ApiVersion,
          MinAPIVersion: server.MinAPIVersion ?? '',
          GoVersion: server.GoVersion,
          GitCommit: server.GitCommit,
          BuildTime: server.BuildTime ?? '',
          Os: server.Os,
          Arch: server.Arch,
          Experimental: String(server.Experimental ?? false),
        },
      },
    ];
    for (const c of comps) {
      s += ` ${c.Name}:\n`;
      const d = c.Details ?? {};
      if (c.Name === 'Engine') {
        s += `  Version:          ${server.Version}\n`;
        s += `  API version:      ${d.ApiVersion ?? server.ApiVersion} (minimum version ${d.MinAPIVersion ?? server.MinAPIVersion ?? ''})\n`;
        s += `  Go version:       ${d.GoVersion ?? server.GoVersion}\n`;
        s += `  Git commit:       ${d.GitCommit ?? server.GitCommit}\n`;
        s += `  Built:            ${reformatDate(d.BuildTime ?? server.BuildTime ?? '')}\n`;
        s += `  OS/Arch:          ${d.Os ?? server.Os}/${d.Arch ?? server.Arch}\n`;
        s += `  Experimental:     ${d.Experimental ?? String(server.Experimental ?? false)}\n`;
      } else {
        s += `  Version:          ${c.Version}\n`;
        for (const k of Object.keys(d).sort()) s += `${pad(`  ${k}:`, 20)}${d[k]}\n`;
      }
    }
  }
  ctx.out.write(s);
  if (serverErr) throw new StatusError(1, errorText(serverErr));
  return 0;
}

type Info = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function renderInfo(info: Info, debug: boolean): string {
  const L: string[] = [];
  const line = (indent: number, k: string, v: unknown) => L.push(`${' '.repeat(indent)}${k}: ${v ?? ''}`);
  line(1, 'Containers', info.Containers ?? 0);
  line(2, 'Running', info.ContainersRunning ?? 0);
  line(2, 'Paused', info.ContainersPaused ?? 0);
  line(2, 'Stopped', info.ContainersStopped ?? 0);
  line(1, 'Images', info.Images ?? 0);
  line(1, 'Server Version', info.ServerVersion ?? '');
  line(1, 'Storage Driver', info.Driver ?? '');
  for (const [k, v] of (info.DriverStatus ?? []) as Array<[string, string]>) line(2, k, v);
  if (info.SystemStatus) for (const [k, v] of info.SystemStatus as Array<[string, string]>) line(1, k, v);
  line(1, 'Logging Driver', info.LoggingDriver ?? '');
  line(1, 'Cgroup Driver', info.CgroupDriver ?? '');
  line(1, 'Cgroup Version', info.CgroupVersion ?? '');
  if (info.Plugins) {
    L.push(' Plugins:');
    line(2, 'Volume', (info.Plugins.Volume ?? []).join(' '));
    line(2, 'Network', (info.Plugins.Network ?? []).join(' '));
    if (info.Plugins.Authorization && info.Plugins.Authorization.length) line(2, 'Authorization', info.Plugins.Authorization.join(' '));
    line(2, 'Log', (info.Plugins.Log ?? []).join(' '));
  }
  line(1, 'Swarm', info.Swarm?.LocalNodeState ?? 'inactive');
  const runtimes = Object.keys(info.Runtimes ?? {});
  if (runtimes.length) line(1, 'Runtimes', runtimes.join(' '));
  line(1, 'Default Runtime', info.DefaultRuntime ?? '');
  if (info.InitBinary !== undefined) line(1, 'Init Binary', info.InitBinary);
  if (info.ContainerdCommit) line(1, 'containerd version', info.ContainerdCommit.ID ?? '');
  if (info.RuncCommit) line(1, 'runc version', info.RuncCommit.ID ?? '');
  if (info.InitCommit) line(1, 'init version', info.InitCommit.ID ?? '');
  if (Array.isArray(info.SecurityOptions) && info.SecurityOptions.length) {
    L.push(' Security Options:');
    for (const o of info.SecurityOptions as string[]) {
      const kv: Record<string, string> = {};
      for (const part of o.split(',')) {
        const i = part.indexOf('=');
        kv[part.slice(0, i)] = part.slice(i + 1);
      }
      const name = kv.name ?? o;
      L.push(`  ${name}`);
      for (const k of Object.keys(kv)) {
        if (k === 'name') continue;
        L.push(`   ${k[0].toUpperCase() + k.slice(1)}: ${kv[k]}`);
      }
    }
  }
  line(1, 'Kernel Version', info.KernelVersion ?? '');
  line(1, 'Operating System', info.OperatingSystem ?? '');
  line(1, 'OSType', info.OSType ?? '');
  line(1, 'Architecture', info.Architecture ?? '');
  line(1, 'CPUs', info.NCPU ?? 0);
  line(1, 'Total Memory', bytesSize(info.MemTotal ?? 0));
  line(1, 'Name', info.Name ?? '');
  line(1, 'ID', info.ID ?? '');
  line(1, 'Docker Root Dir', info.DockerRootDir ?? '');
  line(1, 'Debug Mode', !!info.Debug);
  if (info.Debug || debug) {
    line(2, 'File Descriptors', info.NFd ?? 0);
    line(2, 'Goroutines', info.NGoroutines ?? 0);
    line(2, 'System Time', info.SystemTime ?? '');
    line(2, 'EventsListeners', info.NEventsListener ?? 0);
  }
  if (info.HttpProxy) line(1, 'HTTP Proxy', info.HttpProxy);
  if (info.HttpsProxy) line(1, 'HTTPS Proxy', info.HttpsProxy);
  if (info.NoProxy) line(1, 'No Proxy', info.NoProxy);
  if (info.Labels && info.Labels.length) {
    L.push(' Labels:');
    for (const l of info.Labels) L.push(`  ${l}`);
  }
  line(1, 'Experimental', !!info.ExperimentalBuild);
  const insecure: string[] = [];
  const reg = info.RegistryConfig;
  if (reg) {
    for (const name of Object.keys(reg.IndexConfigs ?? {})) if (reg.IndexConfigs[name].Secure === false) insecure.push(name);
    for (const c of reg.InsecureRegistryCIDRs ?? []) insecure.push(c);
    if (insecure.length) {
      L.push(' Insecure Registries:');
      for (const i of insecure) L.push(`  ${i}`);
    }
    const mirrors = reg.Mirrors ?? [];
    if (mirrors.length) {
      L.push(' Registry Mirrors:');
      for (const m of mirrors) L.push(`  ${m}`);
    }
  }
  line(1, 'Live Restore Enabled', !!info.LiveRestoreEnabled);
  if (info.ProductLicense) line(1, 'Product License', info.ProductLicense);
  return L.join('\n') + '\n';
}

async function runInfo(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const format = p.flags.format as string;
  let info: Info | undefined;
  let err: unknown;
  try {
    info = (await client.info()) as Info;
  } catch (e) {
    err = e;
  }
  if (format) {
    if (err) throw new StatusError(1, errorText(err));
    if (format === 'json') ctx.out.write(JSON.stringify({ ...info, ClientInfo: { Debug: ctx.debug, Version: CLI_VERSION, Context: 'default' } }) + '\n');
    else ctx.out.write(renderFormat(format, info) + '\n');
    return 0;
  }
  let s = `Client:\n Version:    ${CLI_VERSION}\n Context:    default\n Debug Mode: ${ctx.debug}\n`;
  if (info) s += '\nServer:\n' + renderInfo(info, ctx.debug) + '\n';
  ctx.out.write(s);
  if (info && Array.isArray(info.Warnings) && info.Warnings.length) ctx.err.write(info.Warnings.join('\n') + '\n');
  if (err) {
    ctx.out.write('\nServer:\n');
    throw new StatusError(1, `ERROR: ${errorText(err)}\nerrors pretty printing info`);
  }
  return 0;
}

/** One line per finding: what, where, what --repair does (or did). */
function checkLine(f: SystemCheckFinding, repair: boolean): string {
  const head = `${f.Kind}: ${f.Problem} (${f.Path})`;
  if (!repair) return `${head}; --repair will ${f.Repair}`;
  return f.Repaired ? `repaired ${head}: ${f.Repair}` : `NOT repaired ${head}: ${f.Error ?? 'unknown reason'}`;
}

async function runCheck(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const format = (p.flags.format as string) ?? '';
  if (format && format !== 'json') throw new StatusError(1, `invalid --format ${JSON.stringify(format)}: only "json" is supported`);
  const client = await ctx.client();
  const repair = !!p.flags.repair;
  const report = await client.systemCheck({ repair });
  if (format === 'json') {
    ctx.out.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    for (const f of report.Findings) ctx.out.write(checkLine(f, repair) + '\n');
    const n = report.Remaining;
    if (repair) ctx.out.write(n ? `${n} problem(s) remain\n` : report.Findings.length ? 'all problems repaired\n' : 'no problems found\n');
    else ctx.out.write(n ? `${n} problem(s) found; run with --repair to fix them\n` : 'no problems found\n');
  }
  return report.Remaining ? 1 : 0;
}

export const commands: Record<string, CommandDef> = {
  check: {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY['system check'],
      flags: [
        { name: 'repair', type: 'bool', usage: 'Fix what is safe to fix (never a running container\'s state)' },
        { name: 'format', type: 'string', usage: 'Format the output: "json" for a JSON document' },
      ],
      maxArgs: 0,
    },
    run: runCheck,
  },
  version: {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY.version,
      flags: [INSPECT_FORMAT_FLAG],
      maxArgs: 0,
    },
    run: runVersion,
  },
  info: {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY.info,
      aliases: ['system info', 'info'],
      flags: [INSPECT_FORMAT_FLAG],
      maxArgs: 0,
    },
    run: runInfo,
  },
};
