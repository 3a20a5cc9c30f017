import type { SessionCookie } from '../session-cookie.js';
import type { TransitionMode } from '../transition.js';
import type { VersionState } from '../version.js';

/** What routing knows about a request. Pure data: no sockets. */
export interface RequestFacts {
  /** Request method, e.g. GET. */
  readonly method: string;
  /** Value of the SESSION cookie as sent, if the client sent one (see `session-cookie.ts`). */
  readonly sessionCookie: string | undefined;
  /** Value of the GRADUAL cookie, if the client sent one. */
  readonly transitionCookie: string | undefined;
}

/** A strategy's decision for one connection (stream mode) or request (http mode). */
export interface Decision {
  /** Versions in the order to try: the first is the choice, the rest are fallbacks. */
  readonly targets: readonly VersionState[];
  /** How many of the first targets get the request at once (CONCURRENT); 1 otherwise. */
  readonly fanOut: number;
  /** The mode that decided. */
  readonly mode: TransitionMode;
  /** Why the first target was chosen (`newest`, `session`, `gradual-in`, `gradual-out`, `side-effect`, ...). */
  readonly reason: string;
  /** Set the GRADUAL cookie to this new transition id; undefined: the client has one. */
  readonly newTransitionId: string | undefined;
  /** The version whose GRADUAL share grows when it answers this request correctly. */
  readonly gradual: VersionState | undefined;
}

/** The routing decision, with what the answer's SESSION cookie needs (every mode sets it). */
export interface Plan extends Decision {
  /** The client's SESSION cookie, read. */
  readonly session: SessionCookie | undefined;
  /** Lifetime of the SESSION cookie in seconds (the deciding version's `sessionTimeout`); undefined: no cookie (no version, raw TCP). */
  readonly sessionLifetime: number | undefined;
  /**
   * The version the cookie names: the one routing would choose were every
   * version with servers up. A fallback (a failed answer, an ejected server)
   * does not move the session; a rollback or a removal does (see `router.ts`).
   */
  readonly sessionVersion: VersionState | undefined;
}

/** Input of a strategy: versions that can serve (newest first), those that cannot, and the request. */
export interface StrategyInput {
  readonly up: readonly VersionState[];
  readonly down: readonly VersionState[];
  readonly facts: RequestFacts;
  /** The SESSION cookie, read from `facts`. */
  readonly session: SessionCookie | undefined;
  /** Makes a fresh transition id (injected so tests are deterministic). */
  readonly newId: () => string;
}

/** One transition mode: a pure function from the routing view to a decision. */
export type Strategy = (input: StrategyInput) => Decision;
