import type { ProxyContext } from '../context.js';
import type { UpshiftError } from '../errors.js';
import { setCookieLine } from '../http/cookies.js';
import { sessionAnswer } from '../routing/session-cookie.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import type { ServerState } from '../upstream/server.js';

/**
 * What every connection handler (stream and http mode) reports the same way:
 * events, the counters they feed, and the routing cookies a plan asks for.
 * Payloads are built only when someone listens.
 */

export function reportConnect(ctx: ProxyContext, connectionId: number, v: VersionState, s: ServerState, ms: number): void {
  s.connects++;
  if (ctx.events.enabled('upstream:connect')) {
    ctx.events.publish('upstream:connect', { proxyId: ctx.id, connectionId, uuid: v.uuid, version: v.version, server: s.key, durationMs: ms });
  }
}

export function reportFailure(ctx: ProxyContext, connectionId: number, v: VersionState, s: ServerState, err: Error): void {
  if (ctx.events.enabled('upstream:failure')) {
    ctx.events.publish('upstream:failure', {
      proxyId: ctx.id, connectionId, uuid: v.uuid, version: v.version, server: s.key,
      code: (err as UpshiftError).code ?? 'UPS_ERR_UPSTREAM', message: err.message,
    });
  }
}

/** A request (stream mode: a connection) was first sent to `v`: the routing decision, for whoever listens. */
export function reportRoute(ctx: ProxyContext, connectionId: number, plan: Plan, v: VersionState): void {
  const ev = ctx.events;
  if (ev.enabled('route')) {
    ev.publish('route', { proxyId: ctx.id, connectionId, uuid: v.uuid, version: v.version, mode: plan.mode, reason: plan.reason });
  }
}

export interface ClosedConnection {
  readonly id: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly status: number | undefined;
  readonly error: string | undefined;
}

export function reportClosed(ctx: ProxyContext, c: ClosedConnection, v: VersionState | null, started: number): void {
  ctx.connectionClosed(c);
  if (ctx.events.enabled('connection:close')) {
    ctx.events.publish('connection:close', {
      proxyId: ctx.id, connectionId: c.id, uuid: v?.uuid, version: v?.version,
      bytesIn: c.bytesIn, bytesOut: c.bytesOut, durationMs: Date.now() - started, status: c.status, error: c.error,
    });
  }
}

/**
 * The `Set-Cookie` lines the answer of `v` to a request routed by `plan`
 * needs, and the names they own (null: none). The session cookie names the
 * plan's `sessionVersion` while that one may still take traffic, else the
 * version that answered; it is written only when `needsRefresh` says so.
 * The session is counted for the version its cookie names.
 */
export function routingCookies(ctx: ProxyContext, plan: Plan, v: VersionState, now = Date.now()): { lines: string[]; names: string[] } | null {
  const lifetime = plan.sessionLifetime;
  let lines: string[] | null = null;
  let names: string[] | null = null;
  const c = ctx.opts.cookies;
  if (lifetime !== undefined) {
    const pin = plan.sessionVersion;
    const named = pin !== undefined && pin.eligible && pin.state === 'active' ? pin : v;
    const s = sessionAnswer(plan.session, named.uuid, lifetime, Math.floor(now / 1000));
    // A session counts once its client brings the cookie back: a client that keeps no cookies starts a new one on every request.
    if (plan.session?.id !== undefined) ctx.sessions.touch(s.id, named.uuid, now, lifetime * 1000);
    if (s.value !== undefined) {
      lines = [setCookieLine(c.session, s.value, lifetime, now)];
      names = [c.session.name];
    }
  }
  if (plan.newTransitionId !== undefined) {
    (lines ??= []).push(setCookieLine(c.transition, plan.newTransitionId, c.transition.maxAge, now));
    (names ??= []).push(c.transition.name);
  }
  return lines === null ? null : { lines, names: names! };
}
