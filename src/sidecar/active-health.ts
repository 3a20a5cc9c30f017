import type { ProxyOptions } from '../core/index.js';

/**
 * The sidecar checks its servers by default (the library does not): a TCP
 * connect every 2 s, so a killed server is found and reported down without
 * waiting for a client to fail on it, and a server that comes back is
 * readmitted without a client trying it first. `"health": {"active": false}`
 * turns it off; an `active` object of the config's own replaces it.
 */
export const SIDECAR_ACTIVE_HEALTH = Object.freeze({ interval: 2000, timeout: 1000 });

/** The proxy options with the sidecar's default active check, unless the config says otherwise. */
export function withActiveHealth(opts: ProxyOptions): ProxyOptions {
  if (opts.health !== undefined && 'active' in opts.health) return opts;
  return { ...opts, health: { ...opts.health, active: { ...SIDECAR_ACTIVE_HEALTH } } };
}
