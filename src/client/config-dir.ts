// Where docker/cli keeps its files: the config folder and the default TLS certificate folder.
// Kept apart from tls.ts and credentials.ts so that the CLI's global flag table (every command)
// loads only node:os and node:path, not node:fs.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** docker/cli's config folder: $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

/** docker/cli's default folder of ca.pem, cert.pem, key.pem: $DOCKER_CERT_PATH, else the config folder. */
export function defaultCertPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CERT_PATH || dockerConfigDir(env);
}
