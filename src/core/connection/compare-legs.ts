import net from 'node:net';
import type { AnswerReader } from '../compare/answer.js';
import type { Comparer, Comparison } from '../compare/comparer.js';
import type { ProxyContext } from '../context.js';
import type { RequestHead } from '../http/request-head.js';
import type { VersionState } from '../routing/version.js';
import type { ServerState } from '../upstream/server.js';

/**
 * The copies of a request that are sent only to compare their answers: a
 * shadowed request's copy to the previous version, and the noise baseline's
 * copy to a second server of the previous version. Their answers are read
 * by an `AnswerReader` and dropped; the client never sees them, judgement
 * never counts them, and no routing or health state changes for them.
 */

/** The request head a copy can be made from: only a request without a body (its head is the whole request). */
export function replicaOf(head: RequestHead, bytes: Buffer): Buffer | null {
  return head.chunked || head.contentLength > 0 || head.upgrade ? null : bytes;
}

type Tagged = net.Socket & { copy?: CopyLeg };

/**
 * One copy on its own connection: connect, write, read the answer into
 * `reader` until it is complete (then close), the server closes, or `ms` pass.
 */
class CopyLeg {
  private readonly socket: Tagged;
  private readonly timer: NodeJS.Timeout;
  private readonly release: () => void;

  constructor(server: ServerState, request: Buffer, private readonly reader: AnswerReader, ms: number, comparer: Comparer) {
    const socket = this.socket = net.connect({ host: server.hostname, port: server.port, noDelay: true }) as Tagged;
    socket.copy = this;
    socket.on('data', onCopyData);
    socket.on('end', onCopyEnd);
    socket.on('error', onCopyError);
    socket.on('close', onCopyClose);
    socket.write(request);
    // The deadline alone must not keep a process alive; the proxy's close ends the copy.
    this.timer = setTimeout(onCopyTimeout, ms, this).unref();
    this.release = comparer.reads(() => this.close());
  }

  data(d: Buffer): void {
    this.reader.feed(d);
    if (this.reader.over) this.close();
  }

  end(): void {
    this.reader.end();
    this.close();
  }

  close(): void {
    clearTimeout(this.timer);
    this.release();
    this.reader.fail();
    this.socket.destroy();
  }
}

function onCopyData(this: Tagged, d: Buffer): void { this.copy?.data(d); }
function onCopyEnd(this: Tagged): void { this.copy?.end(); }
function onCopyError(this: Tagged): void { this.copy?.close(); }
function onCopyClose(this: Tagged): void { this.copy?.close(); }
function onCopyTimeout(leg: CopyLeg): void { leg.close(); }

/** Sends `request` to `server` only to read its answer into `reader`. */
export function sendCopy(comparer: Comparer, server: ServerState, request: Buffer, reader: AnswerReader, ms: number): void {
  new CopyLeg(server, request, reader, ms, comparer);
}

/** The next available server of `v` by its balancer (a copy goes where the version's traffic would). */
function serverOf(v: VersionState, now: number): ServerState | undefined {
  const first = v.balancer.order(v.servers, now)[0];
  return first !== undefined && first.available(now) ? first : undefined;
}

/**
 * Shadowing: when `v`'s comparison sample takes this request, a copy goes to
 * the previous version (and maybe the noise copy to a second server of it).
 * Returns the reader the routed answer must be fed to, or null.
 */
export function shadow(ctx: ProxyContext, v: VersionState, method: string, replica: Buffer, now = Date.now()): AnswerReader | null {
  const prev = ctx.compare.shadowTarget(v, now);
  if (prev === undefined) return null;
  const server = serverOf(prev, now);
  if (server === undefined) return null;
  const c = begin(ctx, v, prev, server, method, replica, now);
  sendCopy(ctx.compare, server, replica, c.previous, ctx.compare.options(v).timeout);
  return c.newest;
}

/**
 * A comparison of `v`'s answer with `prev`'s from `used` (its CONCURRENT leg,
 * or a shadow copy), with the noise copy sent when the baseline takes this
 * request and the request can be copied.
 */
export function begin(ctx: ProxyContext, v: VersionState, prev: VersionState, used: ServerState | null, method: string, replica: Buffer | null, now: number): Comparison {
  const noise = replica === null ? null : ctx.compare.noiseServer(v, prev, used, now);
  const c = ctx.compare.begin(v, method, noise !== null);
  if (noise !== null) sendCopy(ctx.compare, noise, replica!, c.noise!, ctx.compare.options(v).timeout);
  return c;
}
