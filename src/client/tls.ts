// TLS settings of a tcp:// daemon connection, as docker/cli reads them: --tls, --tlsverify,
// --tlscacert, --tlscert, --tlskey, with DOCKER_CERT_PATH, DOCKER_TLS_VERIFY and DOCKER_TLS.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readNamedFile } from '../util/read-named.js';
import { defaultCertPath } from './config-dir.js';

export { defaultCertPath };

/** What the flags and the environment ask for (paths; nothing read yet). */
export interface TlsSettings {
  /** Verify the daemon's certificate against `caFile` (and its name); false with bare `--tls`. */
  verify: boolean;
  caFile: string;
  /** The client's certificate and key; left out when they are the defaults and do not exist. */
  certFile?: string;
  keyFile?: string;
}

/** The connection's TLS material, read from the settings' files. */
export interface ClientTls {
  verify: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface TlsFlags {
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/**
 * docker/cli's rules: TLS is on with --tls (or DOCKER_TLS), with --tlsverify given at all, or with
 * DOCKER_TLS_VERIFY; the daemon's certificate is verified unless only --tls asked for TLS. A
 * default certificate or key that does not exist is left out (the daemon then refuses us, if it
 * verifies clients); a file named by a flag must exist.
 */
export function tlsSettings(flags: TlsFlags, env: NodeJS.ProcessEnv = process.env): TlsSettings | undefined {
  const verify = flags.tlsverify ?? !!env.DOCKER_TLS_VERIFY;
  const on = (flags.tls ?? !!env.DOCKER_TLS) || flags.tlsverify !== undefined || verify;
  if (!on) return undefined;
  const dir = defaultCertPath(env);
  const orDefault = (given: string | undefined, name: string): string | undefined => {
    if (given !== undefined) return given;
    const path = join(dir, name);
    return existsSync(path) ? path : undefined;
  };
  return {
    verify,
    caFile: flags.tlscacert ?? join(dir, 'ca.pem'),
    certFile: orDefault(flags.tlscert, 'cert.pem'),
    keyFile: orDefault(flags.tlskey, 'key.pem'),
  };
}

/** Read the files the settings name. Errors name the file, as docker/cli's. */
export function loadClientTls(s: TlsSettings): ClientTls {
  const read = readNamedFile;
  if ((s.certFile === undefined) !== (s.keyFile === undefined)) {
    throw new Error('Could not load X509 key pair: both a TLS certificate and a key are needed');
  }
  return {
    verify: s.verify,
    ca: s.verify ? read('CA certificate', s.caFile) : undefined,
    cert: s.certFile !== undefined ? read('TLS certificate', s.certFile) : undefined,
    key: s.keyFile !== undefined ? read('TLS key', s.keyFile) : undefined,
  };
}
