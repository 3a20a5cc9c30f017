import type { Comparer } from './compare/comparer.js';
import type { ProxyEventEmitter } from './events.js';
import type { JudgeSink } from './judge/types.js';
import type { ResolvedOptions } from './options.js';
import type { RoutingTable } from './routing/table.js';
import type { VersionState } from './routing/version.js';
import type { SessionCounter } from './sessions/counter.js';
import type { RetryBudget } from './upstream/failover.js';
import type { Health } from './upstream/health.js';
import type { UpstreamPool } from './upstream/pool.js';

/** What a connection handler needs from its proxy (both connection modes). */
export interface ProxyContext {
  readonly id: number;
  readonly opts: ResolvedOptions;
  /** Milliseconds between two runs of the proxy's sweep (idle and, in http mode, head, linger and long first-byte timeouts). */
  readonly sweepEvery: number;
  readonly table: RoutingTable;
  readonly health: Health;
  readonly events: ProxyEventEmitter;
  /** Keep-alive upstream connections (http mode). */
  readonly pool: UpstreamPool;
  /** Judgement: which statuses may be retried elsewhere, and every decided request's outcome per version. */
  readonly judge: JudgeSink;
  /** The proxy-wide bound on re-sent requests (see `upstream/failover.ts`). */
  readonly budget: RetryBudget;
  /** Response comparison: which requests are compared, and what the comparisons found. */
  readonly compare: Comparer;
  /** Live sessions per version (every answer that carries the session cookie touches it). */
  readonly sessions: SessionCounter;
  /** Grows the GRADUAL share of `v` by one step after a correct answer. */
  growShare(v: VersionState): void;
  /** `close()` was called: http-mode connections end after the response in flight. */
  readonly draining: boolean;
  /** A connection ended; drop it from the registry. */
  connectionClosed(conn: { readonly id: number }): void;
}
