import type { ServerAddress } from '../routing/spec.js';

/**
 * What is known of a server now: `healthy` (no ejection since its last
 * success, or never failed), `ejected` (out of rotation until `ejectedUntil`)
 * or `probing` (its ejection ran out: routing tries it again, but nothing
 * proved it reachable since it failed).
 */
export type ServerHealth = 'healthy' | 'ejected' | 'probing';

/**
 * One backend address of a version and its passive health.
 *
 * Health is a small state machine: healthy → (maxFails consecutive failures)
 * → ejected until `ejectedUntil` → half-open once that passes (routable again;
 * the next success readmits it for good, the next failure ejects it for twice
 * as long). Ejection never deletes anything: a server comes back by itself.
 */
export class ServerState {
  readonly hostname: string;
  readonly port: number;
  /** `host:port`, for logs and events. */
  readonly key: string;
  /** Open upstream connections (least-connections balancing). */
  active = 0;
  /** http mode: pooled connections open to this server (in use or idle), and connects under way. */
  pooled = 0;
  connecting = 0;
  /** Consecutive failures since the last success. */
  failures = 0;
  /** Epoch ms until which the server is out of rotation; 0 when healthy. */
  ejectedUntil = 0;
  /** Length of the current/next ejection, ms; doubles while failures continue. */
  backoff = 0;
  /** Times this server was ejected. */
  ejections = 0;
  /** Successful connects. */
  connects = 0;
  /** Failed connects and upstream failures before a response head. */
  failuresTotal = 0;

  constructor(addr: ServerAddress) {
    this.hostname = addr.hostname;
    this.port = addr.port;
    this.key = addr.hostname.includes(':') ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
  }

  /** Routable now: healthy, or half-open after its ejection ran out. */
  available(now: number): boolean {
    return this.ejectedUntil <= now;
  }

  /** See `ServerHealth`. Routing may still try a probing server; status must not call it healthy. */
  health(now: number): ServerHealth {
    if (this.ejectedUntil === 0) return 'healthy';
    return this.ejectedUntil > now ? 'ejected' : 'probing';
  }

  /** Ejected at some point and not yet proven healthy again. */
  get suspect(): boolean {
    return this.ejectedUntil !== 0;
  }
}
