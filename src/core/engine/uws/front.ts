import { STATUS_CODES } from 'node:http';
import type { Connection } from '../../connection/connection.js';
import type { ProxyContext } from '../../context.js';
import type { UpshiftError } from '../../errors.js';
import { forwardWith } from '../../http/forward-request.js';
import { isAmbiguous, refusal } from '../../http/request-checks.js';
import { parseRequestHead, parseRequestText, type RequestHead } from '../../http/request-head.js';
import type { UpstreamPool } from '../../upstream/pool.js';
import { loadUws, type UwsApp, type UwsListenSocket, type UwsModule, type UwsRequest, type UwsResponse, type UwsSocketContext } from './load.js';
import { UwsHttpRequest } from './request.js';
import { Slots } from '../../connection/slot.js';
import { relayBehavior, upgradeRequest, UwsRelay } from './websocket.js';

/** What the front needs of its proxy. */
export interface FrontHost {
  readonly ctx: ProxyContext;
  readonly pool: UpstreamPool;
  /** A new request id, or 0 when the proxy takes no more (closing). */
  nextId(): number;
  /** The request joins the connection registry (the sweep, `close()`, a version's removal). */
  track(conn: Connection): void;
}

/**
 * http mode's client side on uWebSockets.js (`engine: "uws"`): uWS accepts
 * connections and parses request heads; every request then takes http mode's
 * own path. Its head is checked again by `parseRequestHead` (rebuilt from
 * uWS's fields: one set of rules for both engines), refused by the same
 * `refusal`, forwarded by the same `forwardWith`, and carried by
 * `UwsHttpRequest` over the exchange, the attempt and the pool.
 */
export class UwsFront {
  private readonly uws: UwsModule;
  private readonly app: UwsApp;
  private listener: UwsListenSocket | null = null;
  private port = 0;
  private readonly slots = new Slots();
  /** Requests that finished with nothing of uWS's left to call them (see `UwsHttpRequest.recyclable`): reused. */
  private readonly free: UwsHttpRequest[] = [];

  constructor(private readonly host: FrontHost) {
    this.uws = loadUws().module;
    this.app = this.uws.App();
    this.app.any('/*', (res, req) => this.request(res, req, undefined));
    // uWS sends a GET with a Sec-WebSocket-Key here (the rest to `any`): relayed at message level (websocket.ts).
    this.app.ws('/*', relayBehavior((res, req, context) => this.request(res, req as UwsRequest, context)));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (socket === false) {
          reject(Object.assign(new Error(`listen ${host}:${port} failed`), { code: 'EADDRINUSE' }));
          return;
        }
        this.listener = socket;
        this.port = this.uws.us_socket_local_port(socket);
        resolve(this.port);
      });
    });
  }

  get boundPort(): number {
    return this.port;
  }

  /** Stops accepting; open connections end after their answer in flight. */
  stopListening(): void {
    if (this.listener !== null) this.uws.us_listen_socket_close(this.listener);
    this.listener = null;
  }

  /** Closes every connection uWS still holds (idle keep-alive ones). */
  close(): void {
    this.stopListening();
    this.app.close();
  }

  /** `context`: a WebSocket upgrade (uWS's `ws` route), answered by a relay once its server says 101. */
  private request(res: UwsResponse, req: UwsRequest, context: UwsSocketContext | undefined): void {
    const id = this.host.nextId();
    const ctx = this.host.ctx;
    let head: RequestHead;
    let raw: Buffer;
    try {
      const text = rebuildHead(req);
      raw = Buffer.from(text, 'latin1');
      if (raw.length > ctx.opts.limits.headSize) {
        // uWS's own limit is larger than `limits.headSize` (it passed an 80 KiB head): http mode's 431.
        answerNow(res, 431, undefined);
        return;
      }
      // The text is parsed as it is (no second conversion) unless a char of it does not fit a byte
      // (uWS decodes field bytes as UTF-8): that head is parsed from its bytes, as they go upstream.
      head = WIDE.test(text) ? parseRequestHead(raw, raw.length) : parseRequestText(text);
    } catch (err) {
      answerNow(res, 400, (err as UpshiftError).message);
      return;
    }
    const refused = refusal(head);
    if (refused !== 0 || id === 0) {
      answerNow(res, refused === 0 ? 503 : refused, undefined);
      return;
    }
    // Only uWS's `ws` route can upgrade: elsewhere (a POST, a malformed key) the Upgrade field is dropped, as RFC 9110 §7.8 allows.
    const ws = context === undefined ? null : new UwsRelay(id, ctx, this.host.pool, (c) => this.host.track(c), res, req.getHeader('sec-websocket-key'), context);
    const fwd = ctx.opts.http;
    const remote = fwd.xForwardedFor || fwd.forwarded ? () => remoteOf(res) : NO_REMOTE;
    const out = ws === null ? forwardWith(raw, head, false, fwd, remote) : upgradeRequest(raw, head, fwd, remote);
    const r = this.free.pop() ?? new UwsHttpRequest(ctx, this.host.pool, this.slots, this.free);
    r.begin(id, res, head, out, ws);
    // uWS's callbacks are this request's: once the object carries another, they do nothing.
    const gen = r.generation;
    // Doubtful framing (see `isAmbiguous`): answered, then neither connection carries another message.
    if (isAmbiguous(head, raw, raw.length)) r.doubtful();
    // uWS gives no hook per client connection: each request is one in the registry and in the events.
    if (ctx.events.enabled('connection:open')) ctx.events.publish('connection:open', { proxyId: ctx.id, connectionId: id, remoteAddress: remoteOf(res) ?? undefined, remotePort: undefined });
    res.onAborted(() => { if (r.generation === gen) r.clientAborted(); });
    if (head.chunked || head.contentLength > 0) {
      // The buffer is uWS's own, valid during the call only: copied.
      res.onData((chunk, last) => { if (r.generation === gen) r.clientData(Buffer.from(new Uint8Array(chunk)), last); });
    }
    this.host.track(r.slot);
    r.start(out);
  }
}

/** The head as uWS parsed it, as text again (latin1: a char a byte): method, target, fields in order (names lower case), HTTP/1.1 (uWS refuses 1.0). */
function rebuildHead(req: UwsRequest): string {
  const q = req.getQuery();
  fields = `${req.getCaseSensitiveMethod()} ${q === undefined || q === '' ? req.getUrl() : `${req.getUrl()}?${q}`} HTTP/1.1\r\n`;
  // One function for every request, not a closure per request.
  req.forEach(addField);
  const text = fields + '\r\n';
  fields = '';
  return text;
}

/** The head `rebuildHead` is writing (uWS calls `addField` for each of its fields, in order, before `forEach` returns). */
let fields = '';

function addField(k: string, v: string): void {
  fields += `${k}: ${v}\r\n`;
}

/** No forwarding field asked for: the client's address is never needed. */
const NO_REMOTE = (): string | null => null;

const WIDE = /[^\x00-\xff]/;

function remoteOf(res: UwsResponse): string | null {
  const text = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
  return text === '' ? null : text.startsWith('::ffff:') ? text.slice(7) : text;
}

/**
 * The proxy's own answer, before anything was sent upstream; the connection
 * closes after it. Written after uWS's read is done, never from inside the
 * handler: uWS parses every request already read on the connection one after
 * the other, and an answer ended in the handler neither stops it nor keeps
 * its `Connection: close` (the next request's answer clears it). The bytes
 * after a refused head (a smuggled request in its body, by the head's other
 * reading) would be served as requests on a connection that stays open.
 * Left pending, a request that follows in the same read makes uWS close the
 * connection instead, without an answer and without forwarding anything.
 */
function answerNow(res: UwsResponse, status: number, detail: string | undefined): void {
  let gone = false;
  res.onAborted(() => { gone = true; });
  setImmediate(() => {
    if (gone) return;
    const reason = STATUS_CODES[status] ?? 'Error';
    res.cork(() => {
      res.writeStatus(`${status} ${reason}`).writeHeader('Content-Type', 'text/plain; charset=utf-8').writeHeader('Cache-Control', 'no-store');
      res.end(`${status} ${reason}${detail === undefined ? '' : `: ${detail}`}\n`, true);
    });
  });
}
