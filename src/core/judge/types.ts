import type { VersionState } from '../routing/version.js';

/**
 * How one attempt of a request at one version ended, as judgement counts it.
 * - `good`: a final response head below 500 whose status is not in `judge.retryOn`;
 * - `status`: a final response head of 500 or more, or whose status is in
 *   `judge.retryOn` (`statusOutcome`: a 5xx is never a success);
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
  /** The server (`host:port`) tried. */
  readonly server?: string;
  /** A CONCURRENT leg (sent at once with the others) rather than a try after a failure. */
  readonly concurrent?: boolean;
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
}

/**
 * The one rule for what judgement counts of a response status: a status in
 * the version's `judge.retryOn` is a failure (`status`), any other is
 * `good`. Whatever judgement counts, a 5xx is never a success of its server
 * or a GRADUAL step (`isSuccess`).
 */
export function statusOutcome(sink: JudgeSink, status: number, version: VersionState): 'good' | 'status' {
  return sink.retryOn(status, version) ? 'status' : 'good';
}

/** A response that readmits its server and grows a GRADUAL share: not a 5xx, and not a failure judgement names. */
export function isSuccess(outcome: Outcome, status: number): boolean {
  return outcome === 'good' && status < 500;
}
