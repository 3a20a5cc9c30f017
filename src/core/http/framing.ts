/**
 * Message framing for http mode: where a body ends (RFC 9112 §6.3), and the
 * hop-by-hop rewrite of heads (RFC 9110 §7.6.1).
 *
 * Bodies are never decoded: the scanner walks the chunked coding to find its
 * end and validates every byte of its grammar, and the bytes travel on as
 * they came. Only what the scanner accepted is forwarded, so a malformed chunk
 * line never reaches a backend (a lenient chunk parser behind a strict one, or
 * the reverse, is how bodies get smuggled).
 */

import type { RequestHead } from './request-head.js';

/** The chunked coding is malformed (invalid size, bare CR/LF, overflow). */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

// tchar of RFC 9110 §5.6.2.
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

const enum S {
  Size, Ext, ExtName, ExtValStart, ExtTok, ExtQuoted, ExtQuotedEsc, ExtAfterQuoted, SizeLf,
  Data, DataCr, DataLf, TrailerStart, TrailerLine, TrailerLf, EndLf, Done,
}

/** 13 hex digits stay below 2^53: a longer size is refused, never wrapped. */
const MAX_SIZE_DIGITS = 13;

function extStep(s: S, c: number): S {
  const bad = (): never => { throw new FramingError('invalid chunk extension'); };
  switch (s) {
    case S.Ext:
      return TCHAR[c] === 1 ? S.ExtName : bad();
    case S.ExtName:
      if (TCHAR[c] === 1) return S.ExtName;
      return c === 0x3d ? S.ExtValStart : c === 0x3b ? S.Ext : c === 0x0d ? S.SizeLf : bad();
    case S.ExtValStart:
      return TCHAR[c] === 1 ? S.ExtTok : c === 0x22 ? S.ExtQuoted : bad();
    case S.ExtTok:
      if (TCHAR[c] === 1) return S.ExtTok;
      return c === 0x3b ? S.Ext : c === 0x0d ? S.SizeLf : bad();
    case S.ExtQuoted:
      if (c === 0x22) return S.ExtAfterQuoted;
      if (c === 0x5c) return S.ExtQuotedEsc;
      return (c < 0x20 && c !== 0x09) || c === 0x7f ? bad() : S.ExtQuoted;
    case S.ExtQuotedEsc:
      return (c < 0x20 && c !== 0x09) || c === 0x7f ? bad() : S.ExtQuoted;
    default:
      return c === 0x3b ? S.Ext : c === 0x0d ? S.SizeLf : bad();
  }
}

export class ChunkedScanner {
  /** True once a trailer field was seen (fields after the body: a place smuggled headers hide). */
  trailers = false;

  private s = S.Size;
  private size = 0;
  private digits = 0;
  private trailerBytes = 0;

  /** @param maxTrailer bytes allowed for chunk extensions and trailer fields together. */
  constructor(private readonly maxTrailer: number) {}

  /**
   * Scans `buf[from..]`. Returns the offset just past the body's last byte
   * once it is complete, or -1 when every byte belongs to the body and more
   * are needed. Throws FramingError on anything outside the grammar.
   */
  scan(buf: Buffer, from: number): number {
    const end = buf.length;
    let i = from;
    while (i < end) {
      switch (this.s) {
        case S.Data: {
          const n = Math.min(this.size, end - i);
          i += n;
          this.size -= n;
          if (this.size === 0) this.s = S.DataCr;
          continue;
        }
        case S.Size: {
          const c = buf[i]!;
          const h = HEX[c]!;
          if (h >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new FramingError('chunk size too large');
            this.size = this.size * 16 + h;
          } else if (this.digits === 0) {
            throw new FramingError('invalid chunk size');
          } else if (c === 0x3b) {
            this.s = S.Ext;
          } else if (c === 0x0d) {
            this.s = S.SizeLf;
          } else {
            throw new FramingError('invalid chunk size');
          }
          break;
        }
        // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ), RFC 9112 §7.1.1,
        // without the BWS (strict parsers refuse it, and agreeing with them is the point).
        case S.Ext:
        case S.ExtName:
        case S.ExtValStart:
        case S.ExtTok:
        case S.ExtQuoted:
        case S.ExtQuotedEsc:
        case S.ExtAfterQuoted:
          if (++this.trailerBytes > this.maxTrailer) throw new FramingError('chunk extensions too large');
          this.s = extStep(this.s, buf[i]!);
          break;
        case S.SizeLf:
          if (buf[i] !== 0x0a) throw new FramingError('bare CR in chunk line');
          this.s = this.size === 0 ? S.TrailerStart : S.Data;
          this.digits = 0;
          break;
        case S.DataCr:
          if (buf[i] !== 0x0d) throw new FramingError('chunk data longer than its size');
          this.s = S.DataLf;
          break;
        case S.DataLf:
          if (buf[i] !== 0x0a) throw new FramingError('bare CR after chunk data');
          this.s = S.Size;
          break;
        case S.TrailerStart:
          if (buf[i] === 0x0d) {
            this.s = S.EndLf;
            break;
          }
          this.s = S.TrailerLine;
          this.trailers = true;
          continue;
        case S.TrailerLine: {
          const c = buf[i]!;
          if (c === 0x0d) this.s = S.TrailerLf;
          else if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new FramingError('invalid character in trailer');
          else if (++this.trailerBytes > this.maxTrailer) throw new FramingError('trailer too large');
          break;
        }
        case S.TrailerLf:
          if (buf[i] !== 0x0a) throw new FramingError('bare CR in trailer');
          this.s = S.TrailerStart;
          break;
        case S.EndLf:
          if (buf[i] !== 0x0a) throw new FramingError('bare CR at end of chunked body');
          this.s = S.Done;
          return i + 1;
        default:
          return i;
      }
      i++;
    }
    return -1;
  }
}

// ------------------------------------------------------------------ heads

/**
 * Field names that only concern one connection (RFC 9110 §7.6.1, plus the
 * pre-standard Proxy-Connection and HTTP2-Settings of h2c upgrades).
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'http2-settings']);
/**
 * Never stripped even when `Connection` names them: listing Content-Length or
 * Transfer-Encoding there would otherwise make us change the message's
 * framing (or drop Host), which is a smuggling primitive, not a hop option.
 */
const END_TO_END = new Set(['content-length', 'transfer-encoding', 'host']);

/** Splits a Connection value into lowercase tokens. */
export function connectionTokens(value: string): string[] {
  const out: string[] = [];
  for (const t of value.split(',')) {
    const v = t.trim().toLowerCase();
    if (v !== '') out.push(v);
  }
  return out;
}

/** True when a field of this (lowercase) name is removed before forwarding. */
function hop(lower: string, listed: readonly string[] | null): boolean {
  if (HOP_BY_HOP.has(lower)) return true;
  return listed !== null && listed.includes(lower) && !END_TO_END.has(lower);
}

/**
 * The request head to send upstream: hop-by-hop fields removed, a WebSocket
 * upgrade kept as `Connection: upgrade` + `Upgrade: websocket`, the forwarding
 * fields added when asked. Returns `raw` itself when nothing changes (the
 * common case: no copy).
 */
export function forwardRequestHead(
  raw: Buffer,
  head: RequestHead,
  websocket: boolean,
  forwardedFor: string | undefined,
  forwarded: string | undefined,
): Buffer {
  const headers = head.headers;
  let listed: string[] | null = null;
  let strip = false;
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0];
    const lower = name.length <= 17 ? name.toLowerCase() : '';
    if (HOP_BY_HOP.has(lower)) {
      strip = true;
      if (lower === 'connection') {
        const t = connectionTokens(headers[i]![1]);
        listed = listed === null ? t : listed.concat(t);
      }
    }
  }
  if (!strip && forwardedFor === undefined && forwarded === undefined) return raw;
  let out = `${head.method} ${head.target} HTTP/1.${head.versionMinor}\r\n`;
  let xff: string | undefined;
  let fwd: string | undefined;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const lower = name.toLowerCase();
    if (hop(lower, listed)) continue;
    if (forwardedFor !== undefined && lower === 'x-forwarded-for') {
      xff = xff === undefined ? value : `${xff}, ${value}`;
      continue;
    }
    if (forwarded !== undefined && lower === 'forwarded') {
      fwd = fwd === undefined ? value : `${fwd}, ${value}`;
      continue;
    }
    out += `${name}: ${value}\r\n`;
  }
  if (websocket) out += 'Connection: upgrade\r\nUpgrade: websocket\r\n';
  if (forwardedFor !== undefined) out += `X-Forwarded-For: ${xff === undefined ? forwardedFor : `${xff}, ${forwardedFor}`}\r\n`;
  if (forwarded !== undefined) out += `Forwarded: ${fwd === undefined ? forwarded : `${fwd}, ${forwarded}`}\r\n`;
  return Buffer.from(out + '\r\n', 'latin1');
}

/** What the proxy needs to know about a response head. */
export interface ResponseHead {
  status: number;
  versionMinor: number;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** Transfer-Encoding present but not ending in chunked: the body runs to EOF. */
  otherCoding: boolean;
  /** The server will close after this response (Connection: close, or HTTP/1.0 without keep-alive). */
  close: boolean;
  /** Offset just past the blank line that ended the head. */
  end: number;
  /**
   * No field a proxy must remove: no hop-by-hop field other than a
   * `Connection: keep-alive`, which is also what a proxy keeping its client
   * connection open would say. Such a head can go to an HTTP/1.1 client as it came.
   */
  plain: boolean;
}

/** The backend's response head is unusable (ambiguous framing, broken lines). */
export class BadResponseHead extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadResponseHead';
  }
}

/**
 * Parses a final or interim response head at `buf[start, end)` and returns
 * its framing facts and the lines to keep. Lines may end in CRLF or a bare LF
 * (RFC 9112 §2.2 lets a recipient accept LF); a bare CR anywhere else, a NUL,
 * obs-fold and ambiguous lengths (CL with TE, differing CLs) are refused:
 * a response framed two ways would desynchronise a pooled connection.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, lines: string[]): ResponseHead {
  const text = buf.toString('latin1', start, end);
  lines.length = 0;
  let p = 0;
  let headEnd = end;
  while (p < text.length) {
    let nl = text.indexOf('\n', p);
    if (nl === -1) nl = text.length;
    const line = text.charCodeAt(nl - 1) === 0x0d ? text.slice(p, nl - 1) : text.slice(p, nl);
    if (line.length === 0) {
      headEnd = start + nl + 1;
      break;
    }
    if (line.indexOf('\r') !== -1 || line.indexOf('\0') !== -1) throw new BadResponseHead('bare CR or NUL in response head');
    lines.push(line);
    p = nl + 1;
  }
  const statusLine = lines[0] ?? '';
  if (!statusLine.startsWith('HTTP/1.') || statusLine.charCodeAt(8) !== 0x20) throw new BadResponseHead('malformed status line');
  const versionMinor = statusLine.charCodeAt(7) - 0x30;
  const status = Number(statusLine.slice(9, 12));
  if (!(status >= 100 && status <= 999) || (versionMinor !== 0 && versionMinor !== 1)) throw new BadResponseHead('malformed status line');
  let contentLength = -1;
  let te: string | null = null;
  let connection = '';
  let plain = true;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) throw new BadResponseHead('obsolete line folding in response head');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new BadResponseHead('malformed header line');
    for (let k = 0; k < colon; k++) if (TCHAR[line.charCodeAt(k)] !== 1) throw new BadResponseHead('invalid character in header name');
    const n = colon;
    // Lengths of the hop-by-hop names (te, trailer/upgrade, connection/keep-alive, http2-settings, proxy-connection) and of the framing ones.
    if (n !== 2 && n !== 7 && n !== 10 && n !== 14 && n !== 16 && n !== 17) continue;
    const lower = line.slice(0, colon).toLowerCase();
    if (lower === 'connection') {
      if (!/^[ \t]*keep-alive[ \t]*$/i.test(line.slice(colon + 1))) plain = false;
    } else if (HOP_BY_HOP.has(lower)) {
      plain = false;
    }
    if (n !== 10 && n !== 14 && n !== 17) continue;
    const value = line.slice(colon + 1).trim();
    if (lower === 'content-length') {
      for (const part of value.split(',')) {
        const v = part.trim();
        if (!/^[0-9]{1,15}$/.test(v)) throw new BadResponseHead('invalid Content-Length');
        const len = Number(v);
        if (contentLength !== -1 && contentLength !== len) throw new BadResponseHead('conflicting Content-Length');
        contentLength = len;
      }
    } else if (lower === 'transfer-encoding') {
      te = te === null ? value : `${te}, ${value}`;
    } else if (lower === 'connection') {
      connection += `${value.toLowerCase()},`;
    }
  }
  let chunked = false;
  let otherCoding = false;
  if (te !== null) {
    if (contentLength !== -1) throw new BadResponseHead('both Transfer-Encoding and Content-Length');
    const codings = connectionTokens(te);
    if (codings[codings.length - 1] === 'chunked') chunked = true;
    else otherCoding = true;
  }
  const tokens = connection === '' ? [] : connectionTokens(connection);
  const close = versionMinor === 0 ? !tokens.includes('keep-alive') : tokens.includes('close');
  return { status, versionMinor, contentLength, chunked, otherCoding, close, end: headEnd, plain };
}

/**
 * Builds the head for the client from `lines` (status line first): hop-by-hop
 * fields removed, our `Set-Cookie` lines right after the status line (a
 * backend cookie of the same name is dropped: the proxy owns its routing
 * cookies), and `connection` as the only Connection field.
 */
export function rewriteResponseHead(
  lines: readonly string[],
  cookies: readonly string[] | null,
  ownNames: readonly string[] | null,
  connection: string | null,
  keepUpgrade: boolean,
): Buffer {
  let listed: string[] | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > 11 && (line.charCodeAt(0) | 0x20) === 0x63 && line.slice(0, 11).toLowerCase() === 'connection:') {
      const t = connectionTokens(line.slice(11));
      listed = listed === null ? t : listed.concat(t);
    }
  }
  let out = lines[0]! + '\r\n';
  if (cookies !== null) for (const c of cookies) out += c;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const lower = line.slice(0, colon).toLowerCase();
    if (keepUpgrade ? lower === 'upgrade' || lower === 'connection' ? false : hop(lower, listed) : hop(lower, listed)) continue;
    if (ownNames !== null && lower === 'set-cookie') {
      const value = line.slice(colon + 1).trimStart();
      const eq = value.indexOf('=');
      if (eq !== -1 && ownNames.includes(value.slice(0, eq).trim())) continue;
    }
    out += line + '\r\n';
  }
  if (connection !== null) out += `Connection: ${connection}\r\n`;
  return Buffer.from(out + '\r\n', 'latin1');
}
