import type { ProxyContext } from '../context.js';
import { route } from '../routing/router.js';
import type { Plan } from '../routing/strategies/index.js';

/**
 * Stream mode with `nonHttp: "tcp"`: a connection whose first bytes are not
 * HTTP is piped as plain TCP. These are the two rules that takes.
 */

/** First byte of an HTTP/1 request line is an uppercase method letter. */
export function startsLikeHttp(chunk: Buffer): boolean {
  const c = chunk[0]!;
  return c >= 0x41 && c <= 0x5a;
}

/** Not HTTP: no cookies, no method; the newest version that is up takes it, as one connection. */
export function tcpPlan(ctx: ProxyContext): Plan {
  const plan = route(ctx.table.snapshot, { method: '', sessionCookie: undefined, transitionCookie: undefined }, Date.now());
  return { ...plan, fanOut: 1, mode: 'INSTANT', reason: 'tcp', newTransitionId: undefined, gradual: undefined, sessionLifetime: undefined };
}
