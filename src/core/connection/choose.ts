/** What the CONCURRENT choice needs to know of a leg (stream and http mode alike). */
export interface LegState {
  readonly outcome: 'pending' | 'good' | 'bad';
  /** Status of its final response head; 0 while none came. */
  readonly status: number;
  readonly socket: unknown;
}

/**
 * The CONCURRENT rule (the thesis's), in one place. Legs are ordered newest
 * first. A leg that failed (5xx, no connection, no head in time) gives way to
 * the previous version's leg: so the newest good leg wins once every newer
 * leg has failed, and `undefined` means a newer leg may still answer (wait).
 * When every leg failed, the oldest one that answered at all is the answer,
 * whatever its status (its previous version is not asked), or `null` when
 * none answered.
 */
export function chooseLeg<L extends LegState>(legs: readonly L[]): L | null | undefined {
  for (const leg of legs) {
    if (leg.outcome === 'pending') return undefined;
    if (leg.outcome === 'good') return leg;
  }
  for (let i = legs.length - 1; i >= 0; i--) {
    const leg = legs[i]!;
    if (leg.status !== 0 && leg.socket !== null) return leg;
  }
  return null;
}
