import type { TransitionMode } from '../spec.js';
import type { VersionState } from '../version.js';

/** What routing knows about a request. Pure data: no sockets. */
export interface RequestFacts {
  /** Request method, e.g. GET. */
  readonly method: string;
  /** Value of the SESSION cookie, if the client sent one. */
  readonly sessionCookie: string | undefined;
  /** Value of the GRADUAL cookie, if the client sent one. */
  readonly transitionCookie: string | undefined;
}

/** The routing decision for one connection (stream mode) or request (http mode). */
export interface Plan {
  /** Versions in the order to try: the first is the choice, the rest are fallbacks. */
  readonly targets: readonly VersionState[];
  /** How many of the first targets get the request at once (CONCURRENT); 1 otherwise. */
  readonly fanOut: number;
  /** The mode that decided. */
  readonly mode: TransitionMode;
  /** Why the first target was chosen (`newest`, `session`, `gradual-in`, `gradual-out`, `side-effect`, ...). */
  readonly reason: string;
  /** Set the SESSION cookie to the serving version's uuid, with this Max-Age (seconds); undefined: don't. */
  readonly sessionMaxAge: number | undefined;
  /** Set the GRADUAL cookie to this new transition id; undefined: the client has one. */
  readonly newTransitionId: string | undefined;
  /** The version whose GRADUAL share grows when it answers this request correctly. */
  readonly gradual: VersionState | undefined;
}

/** Input of a strategy: versions that can serve (newest first), those that cannot, and the request. */
export interface StrategyInput {
  readonly up: readonly VersionState[];
  readonly down: readonly VersionState[];
  readonly facts: RequestFacts;
  /** Makes a fresh transition id (injected so tests are deterministic). */
  readonly newId: () => string;
}

/** One transition mode: a pure function from the routing view to a plan. */
export type Strategy = (input: StrategyInput) => Plan;
