import { randomBytes } from 'node:crypto';
import { STRATEGIES, type Plan, type RequestFacts } from './strategies/index.js';
import type { VersionState } from './version.js';

const EMPTY: readonly VersionState[] = Object.freeze([]);

function randomId(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Routes one request: a pure, synchronous function of the routing snapshot
 * (newest first), the request facts and the time. Rolled-back versions are
 * not eligible: no strategy sees them, unless no other version is left. Versions with no routable server are
 * moved behind the others; the mode of the newest version that can serve
 * decides (if the newest is down or rolled back, traffic has gone back and
 * the next one's mode applies; a promoted newest is routed as INSTANT).
 */
export function route(snapshot: readonly VersionState[], facts: RequestFacts, now: number, newId: () => string = randomId): Plan {
  let up: readonly VersionState[] = snapshot;
  let down: readonly VersionState[] = EMPTY;
  let rolledBack = false;
  for (let i = 0; i < snapshot.length; i++) {
    const v = snapshot[i]!;
    if (!v.up(now) || !v.eligible) {
      // Slow path only when something is down or rolled back: split once.
      let eligible: readonly VersionState[] = snapshot.filter((x) => x.eligible);
      rolledBack = eligible.length !== snapshot.length;
      // Every version left is rolled back (the others were removed): serving
      // from one is better than refusing everyone.
      if (eligible.length === 0) eligible = snapshot;
      up = eligible.filter((x) => x.up(now));
      down = eligible.filter((x) => !x.up(now));
      break;
    }
  }
  const decider = up[0] ?? down[0];
  if (decider === undefined) {
    return { targets: EMPTY, fanOut: 1, mode: 'INSTANT', reason: 'no-version', sessionMaxAge: undefined, newTransitionId: undefined, gradual: undefined };
  }
  const mode = decider.standing.state === 'promoted' ? 'INSTANT' : decider.spec.transition.mode;
  const plan = STRATEGIES[mode]({ up, down, facts, newId });
  return rolledBack ? replaceRolledBackSession(plan, snapshot, facts) : plan;
}

/**
 * A client whose SESSION cookie names a rolled-back version is served by
 * another one whatever the mode; its cookie is rewritten on this answer so
 * it does not return to the rolled-back version if that is resumed.
 */
function replaceRolledBackSession(plan: Plan, snapshot: readonly VersionState[], facts: RequestFacts): Plan {
  const id = facts.sessionCookie;
  if (id === undefined || plan.sessionMaxAge !== undefined) return plan;
  const held = snapshot.find((v) => v.uuid === id);
  if (held === undefined || held.eligible) return plan;
  return { ...plan, sessionMaxAge: held.spec.transition.sessionTimeout };
}
