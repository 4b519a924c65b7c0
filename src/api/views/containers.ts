import type { ContainerDetails } from '../../engine/containers/service.js';
import type { ContainerRecord } from '../../engine/containers/types.js';
import type { PortMapJson } from '../../engine/network/types.js';
import type { ContainerInspect, ContainerSummary, Port } from '../../wire/types.js';
import { humanDuration } from '../../util/humanize.js';
import { publicMounts } from './mounts.js';

/** `Up 2 minutes` / `Exited (0) 3 seconds ago` / `Created`, as dockerd renders State for listings. */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.State;
  switch (s.Status) {
    case 'running': {
      const up = `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
      if (!s.Health) return up;
      return `${up} (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})`;
    }
    case 'paused': return `Up ${humanDuration(now - Date.parse(s.StartedAt))} (Paused)`;
    case 'restarting': return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
    case 'exited': return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    default: return 'Created';
  }
}

/** dockerd's Command column: path, then args, single-quoted when they hold a space. */
function command(rec: ContainerRecord): string {
  if (rec.Args.length === 0) return rec.Path;
  return `${rec.Path} ${rec.Args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
}

/**
 * The list's `Ports`: one row per published binding (host address and port), one per exposed but
 * unpublished port, from the record's NetworkSettings.Ports map (`"80/tcp": [{HostIp, HostPort}]`).
 */
export function portRows(ports: PortMapJson | undefined): Port[] {
  const out: Port[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const [port, proto = 'tcp'] = key.split('/');
    if (!bindings?.length) out.push({ PrivatePort: Number(port), Type: proto });
    for (const b of bindings ?? []) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
  }
  return out;
}

/** One item of GET /containers/json. */
export function containerSummary(rec: ContainerRecord, imageName: string, sizes?: { SizeRw: number; SizeRootFs: number }): ContainerSummary {
  return {
    Id: rec.Id,
    Names: [`/${rec.Name}`],
    Image: imageName,
    ImageID: rec.ImageID,
    Command: command(rec),
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: portRows(rec.NetworkSettings?.Ports),
    ...sizes,
    Labels: rec.Config.Labels ?? {},
    State: rec.State.Status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode },
    NetworkSettings: { Networks: rec.NetworkSettings?.Networks ?? {} },
    Mounts: publicMounts(rec.MountPoints),
  };
}

/** GET /containers/{id}/json. */
export function containerInspect({ record: rec, dir, execIds }: ContainerDetails): ContainerInspect {
  const s = rec.State;
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: {
      Status: s.Status,
      Running: s.Status === 'running' || s.Status === 'paused',
      Paused: s.Status === 'paused',
      Restarting: s.Status === 'restarting',
      OOMKilled: s.OOMKilled,
      Dead: s.Status === 'dead',
      Pid: s.Pid,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
      ...(s.Health ? { Health: s.Health } : {}),
    },
    Image: rec.ImageID,
    ResolvConfPath: `${dir}/resolv.conf`,
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    LogPath: `${dir}/container.log`,
    Name: `/${rec.Name}`,
    RestartCount: rec.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length ? execIds : null,
    HostConfig: {
      Binds: null, ContainerIDFile: '', LogConfig: { Type: 'json-file', Config: {} },
      PortBindings: {}, VolumeDriver: '', VolumesFrom: null,
      ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: 'host', Dns: [], DnsOptions: [],
      DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: 'private', Cgroup: '', Links: null,
      OomScoreAdj: 0, PidMode: '', PublishAllPorts: false, SecurityOpt: null, UTSMode: '',
      UsernsMode: '', Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '',
      BlkioWeight: 0, CpuPeriod: 0, CpuQuota: 0, CpusetCpus: '', CpusetMems: '', Devices: [],
      MemoryReservation: 0, MemorySwap: 0, PidsLimit: null, Ulimits: [], Mounts: [],
      MaskedPaths: [], ReadonlyPaths: [],
      ...rec.HostConfig,
    },
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: rec.LowerDirs.join(':'),
        UpperDir: `${dir}/upper`,
        MergedDir: `${dir}/rootfs`,
        WorkDir: `${dir}/work`,
      },
    },
    Mounts: publicMounts(rec.MountPoints),
    Config: {
      ...rec.Config,
      ExposedPorts: rec.Config.ExposedPorts,
    },
    NetworkSettings: {
      Bridge: '', SandboxID: '', SandboxKey: '', HairpinMode: false, LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0, Ports: {}, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
      EndpointID: '', Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '',
      IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '', Networks: {},
      ...(rec.NetworkSettings ?? {}),
    },
  };
}
