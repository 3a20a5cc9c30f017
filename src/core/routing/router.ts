import { newSessionId, parseSessionCookie, type SessionCookie } from './session-cookie.js';
import { STRATEGIES, type Decision, type Plan, type RequestFacts } from './strategies/index.js';
import type { VersionState } from './version.js';

const EMPTY: readonly VersionState[] = Object.freeze([]);

/**
 * Routes one request: a pure, synchronous function of the routing snapshot
 * (newest first), the request facts and the time. Rolled-back versions are
 * not eligible: no strategy sees them, unless no other version is left. Versions with no routable server are
 * moved behind the others; the mode of the newest version that can serve
 * decides (if the newest is down or rolled back, traffic has gone back and
 * the next one's mode applies; a promoted newest is routed as INSTANT).
 *
 * The session cookie names the version routing would choose were every
 * version with servers up (`Plan.sessionVersion`): a client that falls back
 * because its version failed once, or is ejected for a while, keeps its
 * session there and returns when it answers again. A rolled-back or removed
 * version is not eligible, so its sessions move to the version that serves
 * them (and stay there if it is resumed).
 */
export function route(snapshot: readonly VersionState[], facts: RequestFacts, now: number, newId: () => string = newSessionId): Plan {
  const session = parseSessionCookie(facts.sessionCookie);
  let eligible: readonly VersionState[] = snapshot;
  let up: readonly VersionState[] = snapshot;
  let down: readonly VersionState[] = EMPTY;
  for (let i = 0; i < snapshot.length; i++) {
    const v = snapshot[i]!;
    if (!v.up(now) || !v.eligible) {
      // Slow path only when something is down or rolled back: split once.
      eligible = snapshot.filter((x) => x.eligible);
      // Every version left is rolled back (the others were removed): serving
      // from one is better than refusing everyone.
      if (eligible.length === 0) eligible = snapshot;
      up = eligible.filter((x) => x.up(now));
      down = eligible.filter((x) => !x.up(now));
      break;
    }
  }
  if (up.length === 0 && down.length === 0) {
    return {
      targets: EMPTY, fanOut: 1, mode: 'INSTANT', reason: 'no-version', newTransitionId: undefined, gradual: undefined,
      session, sessionLifetime: undefined, sessionVersion: undefined,
    };
  }
  if (down.length === 0) return withSession(decide(up, down, facts, session, newId), session, up[0]!);
  // Both decisions below must give a new client the same transition id.
  let made: string | undefined;
  const once = (): string => (made ??= newId());
  const plan = decide(up, down, facts, session, once);
  const ready = eligible.filter((x) => x.servers.length > 0);
  if (ready.length <= up.length) return withSession(plan, session, up[0] ?? down[0]!);
  const intended = decide(ready, EMPTY, facts, session, once);
  return withSession(plan, session, ready[0]!, intended.targets[0]);
}

/** The plan of `d`, its session cookie lasting `decider`'s `sessionTimeout` and naming `named` (default: `d`'s choice). */
function withSession(d: Decision, session: SessionCookie | undefined, decider: VersionState, named = d.targets[0]): Plan {
  return {
    targets: d.targets, fanOut: d.fanOut, mode: d.mode, reason: d.reason, newTransitionId: d.newTransitionId, gradual: d.gradual,
    session, sessionLifetime: decider.spec.transition.sessionTimeout, sessionVersion: named,
  };
}

function decide(up: readonly VersionState[], down: readonly VersionState[], facts: RequestFacts, session: SessionCookie | undefined, newId: () => string): Decision {
  const decider = (up[0] ?? down[0])!;
  const mode = decider.standing.state === 'promoted' ? 'INSTANT' : decider.spec.transition.mode;
  return STRATEGIES[mode]({ up, down, facts, session, newId });
}
