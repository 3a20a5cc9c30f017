/** What the CONCURRENT choice needs to know of a leg (stream and http mode alike). */
export interface LegState {
  readonly outcome: 'pending' | 'good' | 'bad';
  /** Status of its final response head; 0 while none came. */
  readonly status: number;
  readonly socket: unknown;
}

/**
 * The CONCURRENT rule, in one place. Legs are ordered newest first. Returns
 * the newest good leg once every newer leg has failed; `undefined` while a
 * newer leg may still answer (wait); when every leg failed, the newest one
 * that answered at all (a 5xx beats no answer), or `null` when none did.
 */
export function chooseLeg<L extends LegState>(legs: readonly L[]): L | null | undefined {
  for (const leg of legs) {
    if (leg.outcome === 'pending') return undefined;
    if (leg.outcome === 'good') return leg;
  }
  return legs.find((l) => l.status !== 0 && l.socket !== null) ?? null;
}
