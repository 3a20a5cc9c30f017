import type { VersionState } from '../routing/version.js';
import type { RetryBudget } from './options.js';

/**
 * How one attempt of a request at one version ended, as judgement counts it.
 * - `good`: a response head below 500 (or a status not in `judge.retryOn`);
 * - `status`: a response head whose status is in `judge.retryOn` (5xx by default);
 * - `unreachable`: the connect failed (refused, unreachable, connect timeout);
 * - `reset`: the server closed or errored after the request went out, before a head;
 * - `timeout`: no response head within the first-byte deadline.
 */
export type Outcome = 'good' | 'status' | 'unreachable' | 'reset' | 'timeout';

/** One version's part in one request. */
export interface Attempt {
  readonly version: VersionState;
  readonly outcome: Outcome;
  /** The response status, when a head came back. */
  readonly status?: number;
  /** Milliseconds from the request's first byte written upstream to the response head. */
  readonly firstByteMs?: number;
}

/**
 * One request's whole story, told once when it is decided (the client got its
 * answer or the proxy's own): every version it was tried on, in order, and the
 * CONCURRENT legs. Judgement reads it as paired evidence: a request that failed
 * on the newest *and* on the previous version says nothing against the newest.
 */
export interface ExchangeRecord {
  readonly attempts: readonly Attempt[];
  /** The method is in the one retryable (idempotent) set. */
  readonly idempotent: boolean;
}

/** What the exchange asks of judgement and tells it. */
export interface JudgeSink {
  /** Whether a response with this status, from this version, counts as a failure that may be retried elsewhere. */
  retryOn(status: number, version: VersionState): boolean;
  /** A request was decided. */
  record(r: ExchangeRecord): void;
  /** The retry budget for requests first sent to this version (`judge.budget`: a share of extra requests, with a floor). */
  budget?(version: VersionState): RetryBudget;
}
