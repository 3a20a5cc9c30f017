import type { TransitionMode } from '../transition.js';
import { concurrent } from './concurrent.js';
import { gradual } from './gradual.js';
import { instant } from './instant.js';
import { session } from './session.js';
import type { Strategy } from './types.js';

/** One strategy per mode; a mode without one is a compile error. */
export const STRATEGIES = {
  INSTANT: instant,
  SESSION: session,
  GRADUAL: gradual,
  CONCURRENT: concurrent,
} as const satisfies Record<TransitionMode, Strategy>;

export type { Decision, Plan, RequestFacts, Strategy, StrategyInput } from './types.js';
export { bucketOf } from './gradual.js';
