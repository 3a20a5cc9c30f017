import type { ComparisonStatus } from './compare/comparer.js';
import type { JudgementStatus } from './judge/judge.js';
import type { RetireStatus } from './routing/retire.js';
import type { TransitionMode } from './routing/transition.js';
import type { RollbackReason } from './routing/standing.js';
import type { ServerHealth } from './upstream/server.js';

// The shapes `proxy.status()` returns (and GET /status serves).

/** Health and counters of one server, as `status()` reports them. */
export interface ServerStatus {
  hostname: string;
  port: number;
  /** `state` is `healthy`. */
  healthy: boolean;
  /**
   * `healthy`: no failure since its last success (a new server counts as healthy until it fails);
   * `ejected`: out of rotation after failures; `probing`: the ejection ran out and routing tries it
   * again, but it has not succeeded since (an active check or the next request decides).
   */
  state: ServerHealth;
  /** Epoch ms until which the server is (or was, when probing) ejected; absent when healthy. */
  ejectedUntil?: number;
  ejections: number;
  /** Open upstream connections (http mode: pooled connections in use). */
  active: number;
  /** http mode: idle pooled connections kept for the next request. */
  idle: number;
  connects: number;
  failures: number;
}

/** One version in `status()`. */
export interface VersionStatus {
  uuid: string;
  version: string;
  mode: TransitionMode;
  /**
   * `up`: some server healthy; `down`: none (all ejected or probing, or no servers: traffic has fallen back);
   * `draining`: removed, finishing; `rolled-back`: judged bad or rolled back by an operator, no new traffic until resumed.
   */
  state: 'up' | 'down' | 'draining' | 'rolled-back';
  /** When rolled back: why, when (ISO 8601), and the counts that decided it. */
  rolledBack?: { reason: RollbackReason; at: string; evidence?: object };
  /** An operator promoted it (the transition ended): when (ISO 8601). */
  promotedAt?: string;
  /** The verdict, the window's figures, the reference and the last decision. */
  judgement: JudgementStatus;
  /** Its answers compared with the previous version's: counts, differing fields, noise, the verdict. */
  comparison: ComparisonStatus;
  /** True for the version that sorts highest. */
  newest: boolean;
  /** Percentage of new clients served here now: the newest up version has 100 (GRADUAL splits it with the next up one); a down version 0. */
  share: number;
  /** GRADUAL: the current share of the newest version (0–100). */
  percentage?: number;
  /** What the figures count: `requests` (http mode), or `first-requests` (stream mode pipes a connection's later requests unseen). */
  counts: 'requests' | 'first-requests';
  /** Live sessions whose cookie names this version (exact up to 65,536, an estimate above: `sessions/counter.ts`). */
  sessions: number;
  /** Client connections open on this version. */
  open: number;
  /** With `retire: "when-drained"`, once a newer version has taken over: since when, until when at the latest, and when its last session expires. */
  retire?: RetireStatus;
  connections: number;
  requests: number;
  errors: number;
  fallbacksIn: number;
  fallbacksOut: number;
  ejections: number;
  servers: ServerStatus[];
}

export interface ProxyStatus {
  address: { host: string; port: number };
  /** Open client connections. */
  connections: number;
  /** Versions, newest first. */
  versions: VersionStatus[];
}
