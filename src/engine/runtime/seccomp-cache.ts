/**
 * Compiled seccomp filters, kept so crun does not compile the same profile at every start.
 *
 * crun turns `linux.seccomp` into BPF with libseccomp on every `crun run` (tens of ms for the
 * default profile, more on a loaded host); Debian's crun is built without its own on-disk cache
 * (that needs libgcrypt). What crun compiled for a container stays in its state folder
 * (`<crun root>/<id>/seccomp.bpf`, root-only, never visible to the container) while the container
 * exists. After a start we read it once per distinct `linux.seccomp` object and hand it to later
 * starts through crun's `run.oci.seccomp_bpf_data` annotation (base64 of the raw filter), which
 * makes crun load exactly that filter instead of compiling the section again. The filter applied
 * is byte for byte the one crun made for the same section, so no protection changes; the cache
 * lives in memory only (a new daemon, a new crun or a new kernel starts it afresh).
 *
 * Not cached: runc (it does not read the annotation), a spec whose annotations already speak to
 * crun's seccomp handling (`run.oci.seccomp*`: the user's own BPF, receivers, plugins, the
 * unknown-syscall switch), and a profile with a listener.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';
/** A BPF program is at most 4096 instructions of 8 bytes (BPF_MAXINSNS). */
const MAX_BPF_BYTES = 4096 * 8;
/** Distinct profiles remembered (each a few KiB); the oldest goes first. */
const MAX_ENTRIES = 64;

interface SpecView {
  annotations?: Record<string, string>;
  linux?: { seccomp?: { listenerPath?: string; [field: string]: unknown } };
}

export class SeccompCache {
  private readonly filters = new Map<string, string>();

  /** The key of a spec's seccomp section, or undefined when it must be compiled by crun every time. */
  keyOf(spec: SpecView, runtimeBin: string): string | undefined {
    const seccomp = spec.linux?.seccomp;
    if (!seccomp || seccomp.listenerPath) return undefined;
    if (Object.keys(spec.annotations ?? {}).some((k) => k.startsWith('run.oci.seccomp'))) return undefined;
    return createHash('sha256').update(runtimeBin).update('\0').update(JSON.stringify(seccomp)).digest('hex');
  }

  /** Put the compiled filter into the spec when we have it; returns whether it did. */
  apply(spec: SpecView, key: string | undefined): boolean {
    const bpf = key ? this.filters.get(key) : undefined;
    if (!bpf) return false;
    spec.annotations = { ...(spec.annotations ?? {}), [BPF_ANNOTATION]: bpf };
    return true;
  }

  /** After crun started container `id` (its state under `stateDir`): keep the filter it compiled. */
  async learn(key: string, stateDir: string, id: string): Promise<void> {
    if (this.filters.has(key)) return;
    const bpf = await readFile(join(stateDir, id, 'seccomp.bpf')).catch(() => undefined);
    // A filter is whole instructions; anything else (a container already gone, a torn read) is not kept.
    if (!bpf || bpf.length === 0 || bpf.length % 8 !== 0 || bpf.length > MAX_BPF_BYTES) return;
    if (this.filters.size >= MAX_ENTRIES) this.filters.delete(this.filters.keys().next().value!);
    this.filters.set(key, bpf.toString('base64'));
  }

  get size(): number { return this.filters.size; }
}
