import { validateVersion } from '../../../src/core/routing/spec.js';
import { VersionState } from '../../../src/core/routing/version.js';

/** Socket-free routing tests: versions at run time, request facts, a plan's order. */

let seq = 0;

/** The next insertion sequence number (a later one wins a version tie). */
export const nextSeq = (): number => ++seq;

/** A run-time version `v` with id `uuid`, its own server, in `mode` with the transition fields `extra`. */
export function version(v: string, uuid: string, mode = 'INSTANT', extra: Record<string, unknown> = {}): VersionState {
  return new VersionState(validateVersion({ uuid, version: v, servers: [{ hostname: '127.0.0.1', port: 1000 + seq }], upgradeTransition: { mode, ...extra } }), nextSeq());
}

/** The request facts routing reads; a GET without cookies unless told. */
export const facts = (o: Partial<{ method: string; sessionCookie: string; transitionCookie: string }> = {}) => ({
  method: o.method ?? 'GET', sessionCookie: o.sessionCookie, transitionCookie: o.transitionCookie,
});

/** A plan's versions by id, in the order it tries them. */
export const ids = (p: { targets: readonly VersionState[] }): string[] => p.targets.map((v) => v.uuid);
