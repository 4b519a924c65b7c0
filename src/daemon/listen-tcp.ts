// The tcp:// listener: mutual TLS only (config.ts refuses any other kind of TCP host).
import { readNamedFile } from '../util/read-named.js';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Server } from 'node:net';
import { UsageError, type TlsFiles } from './config.js';

/** The server's TLS options from its files, checked now so that a bad file stops the start with its name. */
export function loadServerTls(files: TlsFiles): SecureContextOptions {
  const read = (what: string, path: string): Buffer => {
    try {
      return readNamedFile(what, path);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const ca = read('CA certificate', files.caFile);
  const cert = read('TLS certificate', files.certFile);
  const key = read('TLS key', files.keyFile);
  try {
    createSecureContext({ ca });
  } catch (e) {
    throw new UsageError(`failed to append certificates from PEM file ${JSON.stringify(files.caFile)}: ${(e as Error).message}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new UsageError(`could not load X509 key pair (cert: ${JSON.stringify(files.certFile)}, key: ${JSON.stringify(files.keyFile)}): ${(e as Error).message}`);
  }
  return { ca, cert, key };
}

export function listenTcp(server: Server, address: { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => { server.off('error', reject); resolve(); });
  });
}
