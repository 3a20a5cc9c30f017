import type { ResolvedOptions } from '../options.js';
import type { VersionState } from '../routing/version.js';

/**
 * Failover: the one place that decides whether a failed attempt is tried
 * again, and whether a failure may eject a server. Stream mode, http mode and
 * CONCURRENT all ask here; `dial.ts` only walks the candidates in the order
 * decided below (the plan's versions in order, each version's servers in its
 * balancer's order, ejected servers last, never one server twice).
 *
 * Rules, the same in both connection modes:
 * - A failed connect (refused, unreachable, connect timeout) is always tried
 *   on the next candidate: nothing was sent. It is the only failure that
 *   ejects a server: it cannot be caused by what a client sends, whereas a
 *   close or a stall after the request went out may be the request's doing
 *   (CONNECT to a plain server, a body cut short), and one anonymous client
 *   must not be able to take every server out. Hung servers are the active
 *   health checks', CONCURRENT's and judgement's job.
 * - After the request went out (the server closed or reset before a head,
 *   no head within the first-byte deadline, or a head whose status
 *   judgement's `retryOn` names), the request is sent on only when its
 *   method is idempotent (`IDEMPOTENT`, RFC 9110 §9.2.2), its bytes are still
 *   kept (`limits.retryBuffer`), no byte of this answer reached the client,
 *   the client is still there, http mode's `http.retries` allows one more,
 *   and, for an answer dropped for its status, the retry budget has room. A method with side effects is never sent
 *   twice once its head went out.
 * - An answer whose status may be retried is dropped only when another
 *   candidate is available right now: when nothing else could serve, the
 *   client gets that answer as it came (a real 500 stays a 500, it does not
 *   become a 503). If the candidate tried instead fails without an answer,
 *   the client gets the proxy's own answer with the dropped status.
 * - The first-byte deadline of an attempt is its version's
 *   `firstByteTimeout` when its transition sets one, else `timeouts.firstByte`
 *   (`firstByteDeadline`); a CONCURRENT exchange uses the newest's for every leg.
 * - A fallback is a request served by another version than routing's first
 *   choice, whatever made it so (a failover here, or CONCURRENT giving the
 *   previous version's answer because the newest failed): counted as
 *   `fallbacksIn`/`fallbacksOut` and reported as a `fallback` event, in both
 *   modes. In stream mode, the request is the connection's first.
 */

/** Idempotent methods (RFC 9110 §9.2.2): sending one again after a failure before any answer byte reached the client is safe. */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** How an attempt failed, as failover sees it. */
export type FailureKind =
  /** The connect failed: nothing was sent. */
  | 'unreachable'
  /** The server closed, reset, or broke the protocol after the request went out, before a final head. */
  | 'reset'
  /** No final head within the first-byte deadline. */
  | 'timeout'
  /** A final head whose status judgement's `retryOn` names. */
  | 'status'
  /** A response head that breaks the protocol: the server did answer, wrongly; never sent again. */
  | 'bad-response';

/** What is known of a request when one of its attempts failed after it went out. */
export interface FailureFacts {
  readonly kind: Exclude<FailureKind, 'unreachable'>;
  /** The method is in `IDEMPOTENT`. */
  readonly idempotent: boolean;
  /** Every request byte sent so far is still kept for a replay. */
  readonly replayable: boolean;
  /** Some byte of this request's answer (an interim head included) already went to the client. */
  readonly answered: boolean;
  /** Part of a response came from the server before it failed (it had started to answer). */
  readonly partial: boolean;
  readonly clientOpen: boolean;
  /** Further attempts allowed by `http.retries` (stream mode: unbounded, the candidates bound it). */
  readonly retriesLeft: number;
  /** Another candidate can be tried now (for `status`: one that is not ejected). */
  readonly another: boolean;
}

/**
 * Whether to send the request on to the next candidate. Does not consume
 * the budget: ask `RetryBudget.take` after a yes.
 */
export function shouldRetry(f: FailureFacts): boolean {
  if (f.kind === 'bad-response' || !f.idempotent || !f.replayable || f.answered || !f.clientOpen || f.retriesLeft <= 0) return false;
  if (f.partial && f.kind !== 'status') return false;
  return f.another;
}

/** Whether a failure of this kind counts towards ejecting the server. */
export function mayEject(kind: FailureKind): boolean {
  return kind === 'unreachable';
}

/** Milliseconds an attempt at `v` waits for its response head. */
export function firstByteDeadline(v: VersionState, opts: ResolvedOptions): number {
  return v.spec.transition.firstByteTimeout ?? opts.timeouts.firstByte;
}

/** The retry budget's knobs. */
export interface RetryBudgetOptions {
  /** Re-sent requests allowed, in per cent of the requests seen in the window. */
  readonly percent: number;
  /** Re-sent requests always allowed in the window, however few requests came. */
  readonly min: number;
}

/**
 * Defaults: 20 % with a floor of 3 (Envoy's retry budget uses 20 % and 3):
 * a total outage makes at most 1.2 × the requests, plus 3, reach the servers.
 */
export const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = Object.freeze({ percent: 20, min: 3 });

const BUCKETS = 10;
const BUCKET_MS = 1000;

/**
 * A proxy-wide bound on re-sent requests, after Envoy's retry budget but
 * counted over a sliding window (ten one-second buckets) so that sequential
 * requests are bounded too: a retry is allowed while the retries of the
 * window stay below max(min, percent × the window's requests). A retry that
 * got a good answer is given back (`refund`): a broken newest version whose
 * previous version serves well costs the previous version its own traffic
 * and nothing more, and every client still gets the good answer; when
 * every version fails (a total outage), retries stop at the budget, so the
 * servers see at most (1 + percent) × the requests plus `min`.
 * Failed connects are not counted: they send no request.
 */
export class RetryBudget {
  private readonly requests = new Int32Array(BUCKETS);
  private readonly retries = new Int32Array(BUCKETS);
  private epoch = 0;

  constructor(private readonly opts: RetryBudgetOptions = DEFAULT_RETRY_BUDGET) {}

  /** Moves the window to `now`, clearing buckets that fell out of it. */
  private roll(now: number): number {
    const e = Math.floor(now / BUCKET_MS);
    if (e !== this.epoch) {
      const gap = Math.min(BUCKETS, Math.max(0, e - this.epoch));
      for (let i = 1; i <= gap; i++) {
        const b = (this.epoch + i) % BUCKETS;
        this.requests[b] = 0;
        this.retries[b] = 0;
      }
      this.epoch = e;
    }
    return e % BUCKETS;
  }

  /** A request was sent upstream for the first time. */
  request(now: number): void {
    this.requests[this.roll(now)]!++;
  }

  /** Takes one retry from the budget; false when it is spent. */
  take(now: number): boolean {
    const b = this.roll(now);
    let req = 0;
    let ret = 0;
    for (let i = 0; i < BUCKETS; i++) {
      req += this.requests[i]!;
      ret += this.retries[i]!;
    }
    if (ret >= Math.max(this.opts.min, Math.floor((this.opts.percent * req) / 100))) return false;
    this.retries[b]!++;
    return true;
  }

  /** A retry taken at `takenAt` ended in a good answer: it does not count against the budget. */
  refund(takenAt: number, now: number): void {
    this.roll(now);
    // A retry taken before the window began has left it already.
    if (Math.floor(takenAt / BUCKET_MS) <= this.epoch - BUCKETS) return;
    const b = Math.floor(takenAt / BUCKET_MS) % BUCKETS;
    if (this.retries[b]! > 0) this.retries[b]!--;
  }
}
