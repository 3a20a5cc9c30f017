import type { Strategy } from './types.js';

/**
 * SESSION: a client whose session cookie names a live version stays on it;
 * everyone else starts a session on the newest. The cookie is rewritten on
 * every response with the newest version's `sessionTimeout` as Max-Age, so a
 * session expires after that long idle (sliding), and the client moves on.
 */
export const session: Strategy = ({ up, down, facts }) => {
  const newest = up[0];
  const maxAge = newest?.spec.transition.sessionTimeout;
  const id = facts.sessionCookie;
  const sticky = id === undefined ? undefined : up.find((v) => v.uuid === id);
  if (sticky !== undefined && sticky !== newest) {
    return {
      targets: [sticky, ...up.filter((v) => v !== sticky), ...down],
      fanOut: 1, mode: 'SESSION', reason: 'session', sessionMaxAge: maxAge,
      newTransitionId: undefined, gradual: undefined,
    };
  }
  return {
    targets: up.concat(down),
    fanOut: 1, mode: 'SESSION', reason: sticky === undefined ? (id === undefined ? 'new-session' : 'session-unknown') : 'session',
    sessionMaxAge: maxAge, newTransitionId: undefined, gradual: undefined,
  };
};
