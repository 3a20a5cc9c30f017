import type { ProxyContext } from '../context.js';
import type { UpshiftError } from '../errors.js';
import { setCookieLine } from '../http/cookies.js';
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

/** The `Set-Cookie` lines a plan asks for when `v` answered, and the names they own. */
export function routingCookies(ctx: ProxyContext, plan: Plan, v: VersionState): { lines: string[]; names: string[] } | null {
  if (plan.sessionMaxAge === undefined && plan.newTransitionId === undefined) return null;
  const c = ctx.opts.cookies;
  const lines: string[] = [];
  const names: string[] = [];
  const now = Date.now();
  if (plan.sessionMaxAge !== undefined) {
    lines.push(setCookieLine(c.session, v.uuid, plan.sessionMaxAge, now));
    names.push(c.session.name);
  }
  if (plan.newTransitionId !== undefined) {
    lines.push(setCookieLine(c.transition, plan.newTransitionId, c.transition.maxAge, now));
    names.push(c.transition.name);
  }
  return { lines, names };
}
