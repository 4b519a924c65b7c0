/**
 * `berth system check [--repair]` (POST /berth/system/check): runs every check (the stores first,
 * then the host objects), and with repair fixes what each finding's step can, then checks again,
 * since one repair can uncover the next problem (a corrupt config blob removed → its image is
 * broken → removing the image frees its layers). At most four passes; the last check decides
 * what remains. One check at a time.
 */
import { brokenContainers } from './containers.js';
import { corruptBlobs, corruptDigests } from './content.js';
import { orphanCgroups } from './cgroups.js';
import { brokenImages } from './images.js';
import { staleRules } from './iptables.js';
import { unreferencedLayers, wholeLayers } from './layers.js';
import { leftoverMounts } from './mounts.js';
import { orphanNamespaces } from './netns.js';
import { REPAIRS } from './repair.js';
import { tempLeftovers } from './temp-files.js';
import { orphanVeths } from './veths.js';
import type { CheckReport, CheckSources, CheckState, Finding } from './types.js';

export type { CheckReport, CheckSources, Finding, FindingKind } from './types.js';

const MAX_PASSES = 4;

export class SystemCheck {
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly src: CheckSources) {}

  run(opts: { repair: boolean }): Promise<CheckReport> {
    const next = this.running.then(() => this.runNow(opts.repair));
    this.running = next.catch(() => undefined);
    return next;
  }

  private async runNow(repair: boolean): Promise<CheckReport> {
    const state: CheckState = { released: new Set(), hashes: new Map() };
    let found = await this.findAll(state);
    if (!repair) return { Repair: false, Findings: found, Remaining: found.length };
    const all: Finding[] = [];
    const seen = new Set<string>();
    for (let pass = 0; pass < MAX_PASSES && found.length; pass++) {
      const fresh = found.filter((f) => !seen.has(key(f)));
      if (!fresh.length) break; // what is left could not be repaired
      for (const f of fresh) {
        seen.add(key(f));
        try {
          await REPAIRS[f.Kind](f, this.src, state);
          f.Repaired = true;
        } catch (e) {
          f.Repaired = false;
          f.Error = (e as Error).message;
        }
        all.push(f);
      }
      found = await this.findAll(state);
    }
    for (const f of found) {
      if (seen.has(key(f))) continue;
      all.push({ ...f, Repaired: false, Error: 'found after the last repair pass: run the check again' });
    }
    // The last check decides: a problem still there was not repaired, whatever its step said;
    // one that is gone was (another repair may have taken it along, as a removed container its mount).
    const left = new Set(found.map(key));
    for (const f of all) {
      if (left.has(key(f))) {
        if (f.Repaired) { f.Repaired = false; f.Error ??= 'still there after the repair'; }
      } else if (!f.Repaired) {
        f.Repaired = true;
        delete f.Error;
      }
    }
    return { Repair: true, Findings: all, Remaining: found.length };
  }

  /** Every check, in the order their repairs should run (dependents before what they depend on). */
  private async findAll(state: CheckState): Promise<Finding[]> {
    const src = this.src;
    const blobs = await corruptBlobs(src, state);
    const layers = await wholeLayers(src);
    const whole = new Set(layers.keys());
    return [
      ...await brokenContainers(src, whole),
      ...await brokenImages(src, whole, corruptDigests(blobs)),
      ...await unreferencedLayers(src, state, layers),
      ...blobs,
      ...await leftoverMounts(src),
      ...await orphanNamespaces(src),
      ...await orphanVeths(src),
      ...await staleRules(src),
      ...await orphanCgroups(src),
      ...await tempLeftovers(src),
    ];
  }
}

function key(f: Finding): string {
  return `${f.Kind} ${f.Object}`;
}
