import { randomBytes } from 'node:crypto';
import { STRATEGIES, type Plan, type RequestFacts } from './strategies/index.js';
import type { VersionState } from './version.js';

const EMPTY: readonly VersionState[] = Object.freeze([]);

function randomId(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Routes one request: a pure, synchronous function of the routing snapshot
 * (newest first), the request facts and the time. Versions with no routable
 * server are moved behind the others; the mode of the newest version that
 * can serve decides (if the newest is down, traffic has rolled back and the
 * next one's mode applies).
 */
export function route(snapshot: readonly VersionState[], facts: RequestFacts, now: number, newId: () => string = randomId): Plan {
  let up: readonly VersionState[] = snapshot;
  let down: readonly VersionState[] = EMPTY;
  for (let i = 0; i < snapshot.length; i++) {
    if (!snapshot[i]!.up(now)) {
      // Slow path only when something is down: split once.
      up = snapshot.filter((v) => v.up(now));
      down = snapshot.filter((v) => !v.up(now));
      break;
    }
  }
  const decider = up[0] ?? down[0];
  if (decider === undefined) {
    return { targets: EMPTY, fanOut: 1, mode: 'INSTANT', reason: 'no-version', sessionMaxAge: undefined, newTransitionId: undefined, gradual: undefined };
  }
  return STRATEGIES[decider.spec.transition.mode]({ up, down, facts, newId });
}
