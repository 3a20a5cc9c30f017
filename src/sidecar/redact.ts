import { isObject } from '../core/given.js';

const HIDDEN = '(hidden)';

/**
 * Environment values are secrets: the API shows their names only. The state
 * file (mode 0600) keeps them, since a restart may have to launch again.
 */
export function redact(containers: unknown): unknown {
  const one = (c: unknown): unknown => {
    if (!isObject(c) || c['environment'] === undefined) return c;
    const env = c['environment'];
    let hidden: unknown = HIDDEN;
    if (Array.isArray(env)) {
      hidden = env.map((e) => (Array.isArray(e) ? [e[0], HIDDEN] : typeof e === 'string' && e.includes('=') ? `${e.slice(0, e.indexOf('='))}=${HIDDEN}` : HIDDEN));
    } else if (isObject(env)) {
      hidden = Object.fromEntries(Object.keys(env).map((k) => [k, HIDDEN]));
    }
    return { ...c, environment: hidden };
  };
  return Array.isArray(containers) ? containers.map(one) : one(containers);
}
