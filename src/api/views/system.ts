/** Views of the system endpoints: /events messages (and /version, /info). */
import type { EngineEvent } from '../../engine/events/bus.js';
import type { EventMessage } from '../../wire/types.js';
import { compareVersions } from '../version.js';

/** One /events message; up to API 1.51 container events also carry the old status/id/from fields. */
export function eventMessage(e: EngineEvent, version: string): EventMessage {
  if (e.Type === 'container' && compareVersions(version, '1.51') <= 0) {
    return { status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes.image, ...e };
  }
  return e;
}
