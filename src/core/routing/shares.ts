import type { VersionState } from './version.js';

/**
 * Routing's share of new clients per version, as `status()` reports it: the
 * newest routable version that is up takes 100, or, in GRADUAL (not
 * promoted), its percentage with the rest going to the next one up. A version
 * missing from the map has 0. `isUp`: some server proven reachable.
 */
export function routingShares(snapshot: readonly VersionState[], isUp: (v: VersionState) => boolean): Map<VersionState, number> {
  const up = snapshot.filter((v) => v.eligible && isUp(v));
  const shares = new Map<VersionState, number>();
  const first = up[0];
  if (first !== undefined) {
    if (first.spec.transition.mode === 'GRADUAL' && first.standing.state !== 'promoted' && up[1] !== undefined) {
      shares.set(first, first.percentage);
      shares.set(up[1], 100 - first.percentage);
    } else {
      shares.set(first, 100);
    }
  }
  return shares;
}

/** "Up" as status and retirement mean it: some server proven reachable (a probing one gets traffic, but is not proof). */
export const upAt = (now: number) => (v: VersionState): boolean => v.servers.some((s) => s.health(now) === 'healthy');
