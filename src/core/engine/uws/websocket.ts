import { createHash } from 'node:crypto';
import type net from 'node:net';
import type { Connection } from '../../connection/connection.js';
import { Activity } from '../../connection/endings.js';
import { reportClosed } from '../../connection/report.js';
import type { ProxyContext } from '../../context.js';
import { forwardWith, type Forwarding } from '../../http/forward-request.js';
import type { RequestHead } from '../../http/request-head.js';
import { connectionTokens, hop } from '../../http/tokens.js';
import type { VersionState } from '../../routing/version.js';
import type { PoolUser, UpstreamPool } from '../../upstream/pool.js';
import { closePayload, FrameReader, maskedFrame, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, sendableCode, type FrameSink } from './frames.js';
import type { UwsResponse, UwsSocketContext, UwsWebSocket } from './load.js';

/** The largest message a client may send (uWS holds each whole before handing it over; a longer one cuts the connection). */
export const MAX_MESSAGE = 16 * 1024 * 1024;
/** Bytes uWS may hold for a slow client before the server's socket is paused, and the level that resumes it. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
/**
 * uWS cannot stop reading a client's WebSocket: messages for a server that
 * reads slowly queue in its socket's buffer, up to this; then the relay ends (1013).
 */
const MAX_QUEUED = 2 * MAX_MESSAGE;

/**
 * uWS's WebSocket behaviour for the relay: no compression (so none is
 * negotiated), messages up to `MAX_MESSAGE`, no backpressure limit of uWS's
 * own (the relay pauses the server instead), no idle timeout or automatic
 * pings (the protocol is the client's and the server's; the proxy's
 * `timeouts.idle` is swept). Each event goes to the relay in the user data.
 */
export function relayBehavior(upgrade: (res: UwsResponse, req: unknown, context: UwsSocketContext) => void): object {
  // uWS copies the user data's own fields into an object of its own: the relay is one of them.
  const relay = (ws: UwsWebSocket): UwsRelay => (ws.getUserData() as { relay: UwsRelay }).relay;
  return {
    compression: 0, // uWS.DISABLED
    maxPayloadLength: MAX_MESSAGE,
    maxBackpressure: 0,
    closeOnBackpressureLimit: false,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade,
    open: (ws: UwsWebSocket) => relay(ws).opened(ws),
    message: (ws: UwsWebSocket, m: ArrayBuffer, binary: boolean) => relay(ws).clientMessage(binary ? OP_BINARY : OP_TEXT, m),
    ping: (ws: UwsWebSocket, m: ArrayBuffer) => relay(ws).clientMessage(OP_PING, m),
    pong: (ws: UwsWebSocket, m: ArrayBuffer) => relay(ws).clientMessage(OP_PONG, m),
    drain: (ws: UwsWebSocket) => relay(ws).clientDrained(ws),
    close: (ws: UwsWebSocket, code: number, m: ArrayBuffer) => relay(ws).clientClosed(code, m),
  };
}

/**
 * The upgrade request as the server gets it: the client's head with http
 * mode's forwarding (`Connection: upgrade`, `Upgrade: websocket`, the
 * forwarding fields), less its `Sec-WebSocket-Extensions`: frames are
 * re-made here, so no extension is negotiated on either side.
 */
export function upgradeRequest(raw: Buffer, head: RequestHead, opts: Forwarding, remote: () => string | null): Buffer {
  const headers = head.headers.filter(([name]) => name.toLowerCase() !== 'sec-websocket-extensions');
  return forwardWith(raw, { ...head, headers, hop: head.hop ?? [] }, true, opts, remote);
}

/** Who takes a WebSocket upgrade over once its server answered 101 (the relay, `websocket.ts`). */
export interface Upgrader {
  /** Why the server's 101 (its head's lines, status line first) cannot be relayed, or null. */
  refuse(lines: readonly string[]): string | null;
  /** The server switched: `up` carries its frames (`rest`: its bytes after the head); the relay takes the request's place. */
  switched(up: net.Socket, v: VersionState, lines: readonly string[], rest: Buffer | null, took: { bytesIn: number; bytesOut: number; started: number }): void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Fields of the server's 101 that uWS writes itself, or that describe only the server's connection. */
const OWN_101 = new Set(['upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions', 'date', 'content-length', 'transfer-encoding']);

type State = 'upgrading' | 'open' | 'closing' | 'closed';

/**
 * The uws engine's WebSocket relay, at message level (uWS frames the
 * client's side itself and gives no raw socket): from the server's 101 on,
 * the client's messages, pings, pongs and close go to the server as masked
 * frames of our own (`frames.ts`), and the server's frames to the client
 * through uWS, a data frame's payload piece by piece as it arrives (as uWS
 * fragments: frame boundaries are re-made, never a message held whole).
 * Until the 101 the request is an ordinary `UwsHttpRequest` (routing,
 * failover, judgement); a non-101 answer goes to the client as it is.
 *
 *   upgrading ──▶ open ──▶ closing (one side's close went to the other; waiting for the server's) ──▶ closed
 *
 * Invariants:
 * - Each side is closed once: `ws` is null once the client's side is closed
 *   (by either), `up` once the server's socket is gone.
 * - A close frame passes as a close frame (code and reason), a cut (a
 *   connection gone without one) as a cut.
 * - Backpressure: more than `HIGH_WATER` bytes held by uWS for the client
 *   pauses the server's socket; uWS's drain below `LOW_WATER` resumes it.
 */
export class UwsRelay implements Connection, PoolUser, Upgrader, FrameSink {
  state: State = 'upgrading';
  private ws: UwsWebSocket | null = null;
  private up: net.Socket | null = null;
  private version: VersionState | null = null;
  private readonly reader = new FrameReader(this);
  /** A close frame went to the server (ours, or our answer to its own). */
  private sentClose = false;
  /** The server's close frame came. */
  private gotClose = false;
  private paused = false;
  /** When `closing` began: the server gets `timeouts.linger` to end its side. */
  private since = 0;
  private readonly activity = new Activity(0, Date.now());
  private started = Date.now();
  bytesIn = 0;
  bytesOut = 0;
  status: number | undefined = 101;
  error: string | undefined;

  constructor(
    readonly id: number,
    private readonly ctx: ProxyContext,
    private readonly pool: UpstreamPool,
    private readonly track: (conn: Connection) => void,
    private readonly res: UwsResponse,
    private readonly key: string,
    private readonly context: UwsSocketContext,
  ) {}

  // ------------------------------------------------------------ the handshake

  /** Why the server's 101 cannot be relayed: an accept value for another key, or an extension nobody offered. */
  refuse(lines: readonly string[]): string | null {
    const accept = field(lines, 'sec-websocket-accept');
    if (accept !== createHash('sha1').update(this.key + GUID).digest('base64')) return 'a 101 whose Sec-WebSocket-Accept does not match the key';
    if (field(lines, 'sec-websocket-extensions') !== undefined) return 'a 101 with an extension that was not offered';
    return null;
  }

  /** The server switched (`up` carries its frames from `rest` on): the client is upgraded with its subprotocol and end-to-end fields. */
  switched(up: net.Socket, v: VersionState, lines: readonly string[], rest: Buffer | null, took: { bytesIn: number; bytesOut: number; started: number }): void {
    this.up = up;
    this.version = v;
    this.bytesIn = took.bytesIn;
    this.bytesOut = took.bytesOut;
    this.started = took.started;
    v.open.add(this);
    this.pool.lend(up, this);
    this.track(this);
    const res = this.res;
    let listed: string[] | null = null;
    for (const [name, value] of fields(lines)) if (name === 'connection') listed = [...(listed ?? []), ...connectionTokens(value)];
    res.cork(() => {
      // The status first: a field written before it would make uWS answer 200.
      res.writeStatus('101 Switching Protocols');
      for (const [name, value, raw] of fields(lines)) if (!OWN_101.has(name) && !hop(name, listed)) res.writeHeader(raw, value);
    });
    // Outside the cork: an upgrade made inside one had uWS (this build) cut the new WebSocket
    // (1006, right after `open`) about once in ten test runs; outside it never did, in 10 runs
    // and 300 upgrades. uWS.js then warns on stderr once per upgrade (see native-notes.md).
    res.upgrade({ relay: this }, this.key, field(lines, 'sec-websocket-protocol') ?? '', '', this.context);
    if (rest !== null) this.upstreamData(up, rest);
  }

  /** uWS made the client's connection a WebSocket (called inside `res.upgrade`). */
  opened(ws: UwsWebSocket): void {
    this.ws = ws;
    this.state = 'open';
  }

  // ------------------------------------------------------------ client → server

  clientMessage(opcode: number, m: ArrayBuffer): void {
    const up = this.up;
    if (up === null || this.sentClose) return;
    this.bytesIn += m.byteLength;
    up.write(maskedFrame(opcode, new Uint8Array(m)));
    if (up.writableLength > MAX_QUEUED) {
      this.error = 'server not reading';
      this.closeClient(1013, 'the server does not read');
      this.cutUpstream();
    }
  }

  clientDrained(ws: UwsWebSocket): void {
    if (this.paused && ws.getBufferedAmount() < LOW_WATER) {
      this.paused = false;
      this.up?.resume();
    }
  }

  /** The client's side closed: its close frame (uWS answered it), a cut (1006), or one of ours (`ws` is null then). */
  clientClosed(code: number, reason: ArrayBuffer): void {
    if (this.ws === null) return;
    this.ws = null;
    if (code === 1006) this.cutUpstream();
    else this.closeUpstream(code === 0 || code === 1005 || sendableCode(code) ? code : 1000, new Uint8Array(reason.slice(0)));
    this.settle();
  }

  // ------------------------------------------------------------ server → client

  piece(data: Buffer, binary: boolean, first: boolean, last: boolean): void {
    const ws = this.ws;
    if (ws === null || this.gotClose) return;
    this.bytesOut += data.length;
    if (first && last) ws.send(data, binary);
    else if (first) ws.sendFirstFragment(data, binary);
    else if (last) ws.sendLastFragment(data);
    else ws.sendFragment(data);
  }

  control(opcode: number, payload: Buffer): void {
    if (this.gotClose) return;
    if (opcode === OP_PING) {
      this.ws?.ping(payload);
      return;
    }
    // uWS.js cannot send a pong: the server's (answers to the client's pings, which uWS answered already) stop here.
    if (opcode !== OP_CLOSE) return;
    this.gotClose = true;
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    const reason = payload.subarray(2);
    if (this.sentClose) {
      // The answer to our close: the server ends its side next.
      this.up?.end();
      return;
    }
    this.closeUpstream(code === 1005 || sendableCode(code) ? code : 1002, reason);
    this.up?.end();
    this.closeClient(code === 1005 || sendableCode(code) ? code : 1002, reason);
  }

  broken(code: number, why: string): void {
    this.error = `bad frame from the server: ${why}`;
    this.closeUpstream(code, Buffer.alloc(0));
    this.up?.end();
    // 1014: the proxy got an invalid answer from the server behind it.
    this.closeClient(1014, 'bad frame from the server');
  }

  upstreamData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.up) return;
    const ws = this.ws;
    if (ws === null) {
      this.reader.feed(chunk);
      return;
    }
    ws.cork(() => this.reader.feed(chunk));
    if (this.ws !== null && !this.paused && this.ws.getBufferedAmount() > HIGH_WATER) {
      this.paused = true;
      socket.pause();
    }
  }

  upstreamEnd(socket: net.Socket): void {
    if (socket !== this.up) return;
    // A FIN without a close frame is a cut, passed on as one.
    if (!this.gotClose) this.closeClient(null);
    socket.end();
  }

  upstreamError(socket: net.Socket, err: Error): void {
    if (socket !== this.up) return;
    this.error ??= (err as NodeJS.ErrnoException).code ?? err.message;
    this.cutUpstream();
    this.closeClient(null);
  }

  upstreamClose(socket: net.Socket): void {
    if (socket !== this.up) return;
    this.forgetUpstream();
    if (!this.gotClose) this.closeClient(null);
    this.settle();
  }

  upstreamDrain(): void {}

  // ------------------------------------------------------------ endings

  /** Closes the client's side: a close frame with `code` (1005: none), or a cut (null). */
  private closeClient(code: number | null, reason?: string | Uint8Array): void {
    const ws = this.ws;
    if (ws === null) return;
    this.ws = null;
    if (this.state === 'open') this.state = 'closing';
    if (code === null) ws.close();
    else if (code === 1005) ws.end();
    else ws.end(code, typeof reason === 'string' ? Buffer.from(reason) : reason);
    this.settle();
  }

  /** Sends the server a close frame (once); the socket is then ended by whoever hears the other's close. */
  private closeUpstream(code: number, reason: Uint8Array): void {
    const up = this.up;
    if (up === null || this.sentClose) return;
    this.sentClose = true;
    if (this.state === 'open') this.state = 'closing';
    this.since = Date.now();
    up.write(maskedFrame(OP_CLOSE, closePayload(code, reason)));
  }

  private cutUpstream(): void {
    const up = this.up;
    if (up === null) return;
    this.forgetUpstream();
    this.pool.discard(up);
    this.settle();
  }

  private forgetUpstream(): void {
    this.up = null;
    this.version?.open.delete(this);
  }

  /** Both sides closed: the connection is reported closed, once. */
  private settle(): void {
    if (this.ws !== null || this.up !== null || this.state === 'closed') return;
    this.finish();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    reportClosed(this.ctx, this, this.version, this.started);
  }

  // ------------------------------------------------------------ the registry

  /** The server's linger after a close, and idleness (`timeouts.idle`: both sides get 1001). */
  sweep(now: number): void {
    const t = this.ctx.opts.timeouts;
    if (this.state === 'closing') {
      if (this.sentClose && now - this.since >= t.linger) this.cutUpstream();
      return;
    }
    if (this.state === 'open' && this.activity.idle(this.bytesIn + this.bytesOut, now, t.idle)) this.goAway('idle timeout');
  }

  /** Ends both sides now with 1001 (the proxy closes, or the version was removed); the server gets `timeouts.linger` to answer. */
  destroy(): void {
    this.goAway('closed by proxy');
  }

  private goAway(why: string): void {
    this.error ??= why;
    const up = this.up;
    this.closeUpstream(1001, Buffer.from('going away'));
    if (up !== null) {
      // The socket stays ours (its events come here) until it closes, but the connection is over now.
      up.end();
      const linger = setTimeout(() => { if (!up.destroyed) this.pool.discard(up); }, this.ctx.opts.timeouts.linger);
      linger.unref();
    }
    this.closeClient(1001, 'going away');
    this.forgetUpstream();
    this.finish();
  }

  get idleBeforeHead(): boolean {
    return false;
  }

  /** Like http mode's tunnel: a WebSocket runs until the proxy's drain deadline, then `destroy`. */
  drain(): void {}
}

/** The fields of a head's lines (status line first): lowercase name, value, name as sent. */
function* fields(lines: readonly string[]): Generator<[string, string, string]> {
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const raw = line.slice(0, colon);
    yield [raw.toLowerCase(), line.slice(colon + 1).trim(), raw];
  }
}

function field(lines: readonly string[], name: string): string | undefined {
  for (const [n, v] of fields(lines)) if (n === name) return v;
  return undefined;
}
