import type { ProxyContext } from '../context.js';
import type { UpshiftError } from '../errors.js';
import { urlRewrite } from '../http/location.js';
import { readWholeRequestHead, type RequestHead } from '../http/request-head.js';
import { streamHead, type ResponseHead } from '../http/response-head.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import { planFor } from './exchange.js';
import { startsLikeHttp, tcpPlan } from './non-http.js';
import { routingCookies } from './report.js';
import { RequestHeadReader } from './request-reader.js';

/** How a stream-mode connection starts: its plan, and the bytes that go first. */
export interface StreamStart {
  readonly plan: Plan;
  /** Every byte the client sent so far (the head and what followed it): what gets sent first. */
  readonly bytes: Buffer;
  /** The request head (and its bytes); null for plain TCP (no method, never retried). */
  readonly head: RequestHead | null;
  readonly headBytes: Buffer | null;
}

/**
 * Stream mode's heads: the one request head a connection is routed by
 * (`StreamHead`), and the one answer head it sends (`answerHead`); the bytes
 * around them are piped as they come.
 */

/**
 * Stream mode: the one request head a connection is routed by. With
 * `nonHttp: "tcp"`, bytes that are not HTTP — a first byte no method starts
 * with, or a request line the parser refuses — are routed whole as plain
 * TCP; otherwise a refused head is the error to answer. The reader is made
 * on the first byte: an idle connection costs none.
 */
export class StreamHead {
  private heads: RequestHeadReader | null = null;
  private seen = 0;
  private readonly tcp: boolean;

  constructor(private readonly ctx: ProxyContext) {
    this.tcp = ctx.opts.nonHttp === 'tcp';
  }

  /** The start once the head is read (or the bytes are not HTTP), the error to answer, or null while more is needed. */
  feed(chunk: Buffer): StreamStart | UpshiftError | null {
    const first = this.seen === 0;
    this.seen += chunk.length;
    if (this.tcp && first && !startsLikeHttp(chunk)) return this.plain(chunk);
    const heads = this.heads ??= new RequestHeadReader(this.ctx.opts.limits.headSize);
    const r = heads.feed(chunk);
    if (r === null) return null;
    if ('head' in r) {
      this.heads = null;
      return { plan: planFor(this.ctx, r.head), bytes: r.buf, head: r.head, headBytes: r.buf.subarray(0, r.end) };
    }
    if (this.tcp && heads.inFirstLine) return this.plain(heads.take()!);
    return r;
  }

  private plain(bytes: Buffer): StreamStart {
    this.heads = null;
    return { plan: tcpPlan(this.ctx), bytes, head: null, headBytes: null };
  }
}

/**
 * The start of a connection whose first chunk holds its whole request head
 * (nearly always): the same start `StreamHead` gives, without making one
 * and its reader. Null: read the head with a `StreamHead` (a head in pieces,
 * bytes that may not be HTTP, or one the strict parser refuses).
 */
export function wholeStart(ctx: ProxyContext, chunk: Buffer): StreamStart | null {
  if (ctx.opts.nonHttp === 'tcp' && !startsLikeHttp(chunk)) return null;
  const head = readWholeRequestHead(chunk, ctx.opts.limits.headSize);
  return head === null ? null : { plan: planFor(ctx, head), bytes: chunk, head, headBytes: chunk.subarray(0, head.length) };
}

/**
 * The final head of `v`'s answer (at [0, info.end) of `buf`, its lines at
 * `offs`) as the client gets it: with the plan's routing cookies, and backend
 * URLs pointed at the client's Host (`host`).
 */
export function answerHead(ctx: ProxyContext, plan: Plan, v: VersionState, host: string | undefined, info: ResponseHead, buf: Buffer, offs: readonly number[]): Buffer {
  const urls = info.urls ? urlRewrite(ctx.opts.rewrite.location, v.spec.servers, host) : null;
  return streamHead(buf, 0, info.end, info, offs, routingCookies(ctx, plan, v), urls);
}
