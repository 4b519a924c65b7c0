/**
 * A private Debian dockerd for tests that compare with Docker, started by bench/lib.sh (its own
 * socket, data and exec roots, containerd namespaces, no bridge or iptables; docker.io installed
 * first if missing, as the bench does). The bash process that started it holds it: closing its
 * stdin ends the bash, whose EXIT trap stops dockerd and its containerd by PID, unmounts and
 * removes the temp folder. If dockerd cannot start, start() rejects with the reason: a test
 * that needs Docker fails rather than passes without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface BenchDockerd {
  /** unix:// host of the dockerd. */
  host: string;
  stop(): Promise<void>;
}

export async function startBenchDockerd(): Promise<BenchDockerd> {
  const lib = join(process.cwd(), 'bench', 'lib.sh');
  // PORT: a closed port for --registry-mirror (nothing is pulled through it); the registry
  // clean-up then finds nothing of its own to stop.
  const script = `source ${JSON.stringify(lib)}; bench_init; PORT=1; bench_docker_start || { echo "FAILED $DOCKER_WHY"; exit 3; }; PORT=""; echo "HOST unix://$T/docker.sock"; cat >/dev/null`;
  const child: ChildProcess = spawn('bash', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  const lines = createInterface({ input: child.stdout! });
  const host = await new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => {
      if (l.startsWith('HOST ')) resolve(l.slice(5));
      else if (l.startsWith('FAILED ')) reject(new Error(`dockerd could not be started: ${l.slice(7)}`));
    });
    void exited.then((code) => reject(new Error(`dockerd set-up exited ${code}: ${stderr.slice(-2000)}`)));
  });
  return {
    host,
    async stop() {
      child.stdin!.end();
      await exited;
    },
  };
}
