import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import { UpstreamStatusError, type UpshiftError } from '../errors.js';
import { readCookie } from '../http/cookies.js';
import type { RequestHead } from '../http/request-head.js';
import { isSuccess, statusOutcome, type Attempt, type Outcome } from '../judge/types.js';
import { route } from '../routing/router.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import { DialSequence, type Candidate, type DialHooks } from '../upstream/dial.js';
import { firstByteDeadline, isIdempotent, mayEject, shouldRetry, type FailureKind } from '../upstream/failover.js';
import type { ConnectionLimit, PoolUser, UpstreamPool } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';
import type { AnswerReader } from '../compare/answer.js';
import { shadow } from './compare-legs.js';
import { reportConnect, reportFailure, reportRoute } from './report.js';

/** What the connection knows of its side of a failed attempt. */
export interface ClientSide {
  /** Some byte of this request's answer already went to the client. */
  readonly answered: boolean;
  /** Every request byte sent so far is still kept for a replay. */
  readonly replayable: boolean;
  readonly clientOpen: boolean;
  /** Part of a response came from the server before it failed. */
  readonly partial: boolean;
}

/** Routes a request by its method and routing cookies: the plan of its exchange (both modes). `now`: the caller's clock reading, when it has one. */
export function planFor(ctx: ProxyContext, head: RequestHead, now = Date.now()): Plan {
  const c = ctx.opts.cookies;
  return route(ctx.table.snapshot, {
    method: head.method,
    sessionCookie: readCookie(head.cookies, c.session.name),
    transitionCookie: readCookie(head.cookies, c.transition.name),
  }, now);
}

export type DialCallback = (err: Error | null, c?: Candidate, socket?: net.Socket) => void;

/**
 * http mode: the pool connections are taken from, and who receives their
 * events (made once per client connection, not per request). A client
 * connection's requests may go to several versions and reuse pooled server
 * connections, so neither a new server connection nor a new request is a new
 * client connection: it counts once per version in `stats.connections`, and
 * `counted` holds the versions it was counted for (the user's, kept across
 * its requests). `oneRequest`: the user carries this request only (the uws
 * engine), counted in the exchange itself.
 */
export type Pooled =
  | { readonly pool: UpstreamPool; readonly user: PoolUser; readonly counted: Set<VersionState> }
  | { readonly pool: UpstreamPool; readonly user: PoolUser; readonly oneRequest: true };

/**
 * One request's way through its plan, the same in both connection modes
 * (stream mode: the connection's first request): the dial loop, the
 * accounting of every answer and failure (requests, errors, GRADUAL growth,
 * health, route and fallback events), the first-byte deadline, and the
 * record judgement gets once the request is decided. Whether a failure is
 * tried elsewhere is asked of `upstream/failover.ts`; the connection does
 * the socket work the answer calls for.
 */
export class Exchange implements DialHooks {
  readonly idempotent: boolean;
  /** The failure that made us try elsewhere, answered when no other candidate answers. */
  cause: UpshiftError | null = null;
  /** The request as sent upstream when it has no body (`replicaOf`): what a comparison's copies send; null when none may be made. */
  replica: Buffer | null = null;
  /** The comparison side fed with the answer the client gets (CONCURRENT's winner, a shadowed request's routed answer). */
  private tap: AnswerReader | null = null;
  private seq: DialSequence | null = null;
  private readonly attempts: Attempt[] = [];
  private decided = false;
  private routed = false;
  private retriesLeft: number;
  private noReuse = false;
  /** The last socket `reuse` handed out came from the pool. */
  private reused = false;
  /** When the current attempt's request went out (ms). */
  sentAt = 0;
  /** When the last final head came (ms): the clock reading of its answer, for the cookies and the pool. */
  headAt = 0;
  /** When each retry of this request was taken from the budget (given back if the request ends well). */
  private taken: number[] | null = null;
  /** The server of the current attempt (left out when the loop is built after it). */
  private current: ServerState | null = null;
  /** `pooled.oneRequest`: the versions this request was counted a client connection of. */
  private countedHere: VersionState[] | null = null;

  constructor(
    readonly ctx: ProxyContext,
    readonly connectionId: number,
    readonly plan: Plan,
    readonly method: string,
    /** http mode: the pool connections are taken from, and who receives their events (see `Pooled`). */
    private readonly pooled: Pooled | null,
    /** When the request came (the caller's clock reading, when it has one: a clock read costs a call). */
    now = Date.now(),
  ) {
    this.idempotent = isIdempotent(method);
    // Stream mode has no retry count of its own: the candidates and the budget bound it.
    this.retriesLeft = pooled === null ? Number.MAX_SAFE_INTEGER : ctx.opts.http.retries;
    ctx.budget.request(now);
  }

  // ------------------------------------------------------------ the dial loop

  get connectTimeout(): number {
    return this.ctx.opts.timeouts.connect;
  }

  get limit(): ConnectionLimit | undefined {
    return this.pooled?.pool;
  }

  reuse(c: Candidate): net.Socket | undefined {
    if (this.pooled === null || this.noReuse) return undefined;
    const s = this.pooled.pool.take(c.server, this.pooled.user);
    if (s !== undefined) this.reused = true;
    return s;
  }

  /** Whether the socket just handed to the dial callback came from the pool (and forgets it). */
  takeReused(): boolean {
    const r = this.reused;
    this.reused = false;
    return r;
  }

  onSuccess(c: Candidate, _socket: net.Socket, ms: number): void {
    reportConnect(this.ctx, this.connectionId, c.version, c.server, ms);
  }

  onFailure(c: Candidate, err: Error): void {
    reportFailure(this.ctx, this.connectionId, c.version, c.server, err);
    if (mayEject('unreachable')) this.ctx.health.failure(c.version, c.server);
    this.attempts.push({ version: c.version, outcome: 'unreachable', server: c.server.key });
  }

  /** Connects to the next candidate of the plan (or of `fallBack`'s versions). */
  dial(cb: DialCallback): void {
    let seq = this.seq;
    if (seq === null) {
      seq = this.seq = new DialSequence(this.plan.targets, this);
      if (this.current !== null) seq.exclude(this.current);
    }
    seq.next(cb);
  }

  /**
   * What the client hears when a dial found no server: after a retry, the
   * failure that started it (a 504 for a stall), not a bare 503.
   */
  answerFor(err: UpshiftError): UpshiftError {
    return this.cause !== null && err.code === 'UPS_ERR_NO_UPSTREAM' ? this.cause : err;
  }

  /** Later attempts go through `versions` only (CONCURRENT: the versions after its legs, or all but its winner). */
  fallBack(versions: readonly VersionState[]): void {
    this.seq?.cancel();
    this.seq = new DialSequence(versions, this);
  }

  /** The request ends here (the client went away, or the connection closes): no more connects, and judgement hears its story (once). */
  end(): void {
    this.seq?.cancel();
    this.dropTap();
    this.decide();
  }

  /** Milliseconds the current attempt at `v` waits for its response head. */
  firstByteDeadline(v: VersionState): number {
    return firstByteDeadline(this.plan.fanOut > 1 ? this.plan.targets[0]! : v, this.ctx.opts);
  }

  /** The request is now on its way to `s` of `v`. */
  attached(v: VersionState, s: ServerState, reused: boolean, now = Date.now()): void {
    this.current = s;
    this.sentAt = now;
    if (this.newClientConnection(v, reused)) v.stats.connections++;
    if (!this.routed) {
      this.routed = true;
      reportRoute(this.ctx, this.connectionId, this.plan, v);
      if (this.replica !== null && this.idempotent && this.plan.fanOut <= 1) this.tap = shadow(this.ctx, v, this.method, this.replica, this.sentAt);
    }
  }

  /** CONCURRENT: the winner's answer is compared (fed through `answerBytes` as the client gets it). */
  compareAnswer(reader: AnswerReader): void {
    this.tap = reader;
  }

  /** Bytes of the answer the client is getting, from its first (the head) on: to the comparison, if any. */
  answerBytes(chunk: Buffer): void {
    const tap = this.tap;
    if (tap === null) return;
    tap.feed(chunk);
    if (tap.over) this.tap = null;
  }

  /** The server of the answer the client is getting closed (a body may run to its close). */
  answerEnd(): void {
    this.tap?.end();
    this.tap = null;
  }

  /** The answer being compared will not reach the client whole (dropped for a retry, failed, or the client left). */
  private dropTap(): void {
    this.tap?.fail();
    this.tap = null;
  }

  /** Whether this attempt brings a client connection to `v` that `stats.connections` has not counted yet. */
  private newClientConnection(v: VersionState, reused: boolean): boolean {
    if (this.pooled === null) return !reused;
    if ('oneRequest' in this.pooled) {
      // No WeakMap entry per request: an old table taking young keys at that rate keeps them past every scavenge (see `Slot`, connection/slot.ts).
      const here = this.countedHere ??= [];
      if (here.includes(v)) return false;
      here.push(v);
      return true;
    }
    const seen = this.pooled.counted;
    if (seen.has(v)) return false;
    seen.add(v);
    return true;
  }

  // ---------------------------------------------------------------- outcomes

  /**
   * Counts an answer of `v`: a request it served, and, unless its status
   * says otherwise (`statusOutcome`), a success of its server and a step
   * of its GRADUAL share.
   */
  account(v: VersionState, s: ServerState, status: number): Outcome {
    v.stats.requests++;
    const outcome = statusOutcome(this.ctx.judge, status, v);
    if (!isSuccess(outcome, status)) {
      v.stats.errors++;
      return outcome;
    }
    if (this.plan.gradual === v) this.ctx.growShare(v);
    this.ctx.health.success(v, s);
    return outcome;
  }

  /**
   * A final response head with `status` came from `s` of `v`. True: drop
   * that answer (close its connection) and dial the next candidate; false:
   * it is the answer, already counted, and the request is decided.
   */
  head(v: VersionState, s: ServerState, status: number, side: ClientSide | (() => ClientSide)): boolean {
    const now = this.headAt = Date.now();
    const firstByteMs = now - this.sentAt;
    // `side` as a function: asked only here, where a retry is possible (most answers make no object for it).
    if (this.ctx.judge.retryOn(status, v) && this.plan.fanOut <= 1 && this.mayRetry('status', typeof side === 'function' ? side() : side, false, now)) {
      this.account(v, s, status);
      this.attempts.push({ version: v, outcome: 'status', status, firstByteMs, server: s.key });
      this.dropTap();
      this.cause = new UpstreamStatusError(s.key, status);
      return true;
    }
    const outcome = this.account(v, s, status);
    this.attempts.push({ version: v, outcome, status, firstByteMs, server: s.key });
    if (outcome === 'good' && this.taken !== null) for (const at of this.taken) this.ctx.budget.refund(at, now);
    this.served(v);
    this.decide();
    return false;
  }

  /**
   * The attempt at `s` of `v` failed after the request went out. True: dial
   * the next candidate; false: the client is answered with `cause`.
   */
  failed(v: VersionState, s: ServerState, kind: Exclude<FailureKind, 'unreachable'>, err: UpshiftError, side: ClientSide): boolean {
    v.stats.errors++;
    reportFailure(this.ctx, this.connectionId, v, s, err);
    this.attempts.push({ version: v, outcome: kind === 'bad-response' ? 'reset' : kind, server: s.key });
    this.dropTap();
    if (!this.mayRetry(kind, side, true, Date.now())) return false;
    this.cause = err;
    return true;
  }

  /**
   * A pooled connection the server closed while it sat idle: not a failure
   * of the server (its keep-alive timeout beat ours). One fresh connection is
   * tried, the same server first, before failures count.
   */
  stale(side: ClientSide): boolean {
    if (this.noReuse || !this.idempotent || !side.replayable || !side.clientOpen || side.answered || this.retriesLeft <= 0) return false;
    this.retriesLeft--;
    this.noReuse = true;
    this.seq?.cancel();
    this.seq = new DialSequence(this.plan.targets, this);
    return true;
  }

  private mayRetry(kind: Exclude<FailureKind, 'unreachable'>, side: ClientSide, ejectedToo: boolean, now: number): boolean {
    const another = this.seq === null
      ? this.plan.targets.some((v) => v.servers.some((x) => x !== this.current && (ejectedToo || x.available(now))))
      : this.seq.hasMore(now, ejectedToo);
    const facts = { kind, idempotent: this.idempotent, retriesLeft: this.retriesLeft, another, ...side };
    if (!shouldRetry(facts)) return false;
    // The budget bounds the retries judgement adds (an answer dropped for its
    // status): a reset or a stall was retried before judgement existed, is
    // bounded by the candidates and `http.retries`, and is the very case a
    // fallback is for (a hung newest must not give the 4th concurrent client a 504).
    if (kind === 'status') {
      if (!this.ctx.budget.take(now)) return false;
      (this.taken ??= []).push(now);
    }
    this.retriesLeft--;
    return true;
  }

  /** A CONCURRENT leg's outcome, for the record. */
  leg(v: VersionState, s: ServerState | null, outcome: Outcome, status?: number): void {
    const a: Attempt = { version: v, outcome, concurrent: true, firstByteMs: Date.now() - this.sentAt };
    this.attempts.push(status === undefined ? (s === null ? a : { ...a, server: s.key }) : { ...a, status, ...(s === null ? {} : { server: s.key }) });
  }

  /** A CONCURRENT leg failed before an answer: counted against its version, never an ejection. */
  legFailed(v: VersionState, s: ServerState | null, kind: 'reset' | 'timeout', err: UpshiftError | undefined): void {
    v.stats.errors++;
    if (s !== null && err !== undefined) reportFailure(this.ctx, this.connectionId, v, s, err);
    this.leg(v, s, kind);
  }

  /** The answer came from `v`: when routing meant another version, that is a fallback. */
  private served(v: VersionState): void {
    const intended = this.plan.targets[0];
    if (intended === undefined || intended === v) return;
    v.stats.fallbacksIn++;
    intended.stats.fallbacksOut++;
    const ev = this.ctx.events;
    if (ev.enabled('fallback')) {
      ev.publish('fallback', {
        proxyId: this.ctx.id, connectionId: this.connectionId, fromUuid: intended.uuid, fromVersion: intended.version,
        toUuid: v.uuid, toVersion: v.version, reason: this.plan.reason,
      });
    }
  }

  /** Tells judgement the request's story, once. Called when the answer is chosen, or the request ends without one. */
  decide(): void {
    if (this.decided) return;
    this.decided = true;
    if (this.attempts.length > 0) this.ctx.judge.record({ attempts: this.attempts, idempotent: this.idempotent });
  }
}
