import type { Strategy } from './types.js';

/**
 * CONCURRENT: the request goes to the newest `concurrentVersions` versions at
 * once and the client gets the newest good answer. Methods with side effects
 * go to one version only (the newest, with the usual failover), so a POST is
 * never executed twice.
 */
export const concurrent: Strategy = ({ up, down, facts }) => {
  const t = up[0]?.spec.transition;
  const sideEffect = t === undefined || t.sideEffectMethods.includes(facts.method.toUpperCase());
  const fanOut = sideEffect ? 1 : Math.min(t.concurrentVersions, up.length);
  return {
    targets: up.concat(down),
    fanOut: Math.max(1, fanOut),
    mode: 'CONCURRENT',
    reason: sideEffect ? 'side-effect' : fanOut > 1 ? 'concurrent' : 'only-version',
    newTransitionId: undefined,
    gradual: undefined,
  };
};
