import { login } from '../../engine/auth/login.js';
import type { AuthConfig } from '../../engine/images/types.js';
import { InvalidParameterError } from '../../engine/errors.js';
import { checkBody, struct } from '../body.js';
import { sendJson, type Router } from '../router.js';

/** api/types/registry.AuthConfig (email is deprecated and ignored by dockerd too). */
const AUTH_CONFIG = struct('AuthConfig', {
  username: 'string', password: 'string', auth: 'string', email: 'string',
  serveraddress: 'string', identitytoken: 'string', registrytoken: 'string',
});

/**
 * The request body with its keys lower-cased: Go's encoding/json matches field names without
 * regard to case, so `{"Username":…}` is the same credential as `{"username":…}`.
 */
function authBody(raw: unknown): AuthConfig {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidParameterError('invalid JSON: the request body must be an object');
  const lower = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), v]));
  checkBody(lower, AUTH_CONFIG);
  const { username, password, auth, serveraddress, identitytoken, registrytoken } = lower as AuthConfig;
  return { username, password, auth, serveraddress, identitytoken, registrytoken };
}

/** POST /auth: check credentials against a registry (dockerd's system router postAuth). */
export function registerAuthRoutes(router: Router): void {
  router.add('POST', '/auth', async (ctx) => {
    const auth = authBody(await ctx.json<unknown>());
    const d = ctx.engine.distribution.opts;
    sendJson(ctx.res, 200, await login(auth, { insecure: d.insecure, hubEndpoint: d.hubEndpoint, timeoutMs: d.timeoutMs }));
  });
}
