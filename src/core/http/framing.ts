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

import { HOP_BY_HOP, type RequestHead } from './request-head.js';

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
  if (head.hop === null && forwardedFor === undefined && forwarded === undefined) return raw;
  let listed: string[] | null = null;
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0];
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      const t = connectionTokens(headers[i]![1]);
      listed = listed === null ? t : listed.concat(t);
    }
  }
  if (forwardedFor === undefined && forwarded === undefined && !websocket && head.hop !== null
    && (listed === null || listed.every((t) => t === 'close' || t === 'keep-alive'))
    // A field named after one of those options goes too (RFC 9110 §7.6.1): the rebuild below removes it.
    && !headers.some(([name]) => name.length === 5 && name.toLowerCase() === 'close')) {
    // Only hop-by-hop lines to leave out (a client's `Connection: close`, most
    // often): cut them from the bytes.
    return cutLines(raw, head.hop);
  }
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

/** `raw` without the byte ranges [start, end) listed in `cut` (ascending, disjoint). */
function cutLines(raw: Buffer, cut: readonly number[]): Buffer {
  let size = raw.length;
  for (let i = 0; i < cut.length; i += 2) size -= cut[i + 1]! - cut[i]!;
  const out = Buffer.allocUnsafe(size);
  let from = 0;
  let at = 0;
  for (let i = 0; i < cut.length; i += 2) {
    at += raw.copy(out, at, from, cut[i]);
    from = cut[i + 1]!;
  }
  raw.copy(out, at, from);
  return out;
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
  /** The backend sets a cookie (a `Set-Cookie` field is present). */
  setCookie: boolean;
}

/** The backend's response head is unusable (ambiguous framing, broken lines). */
export class BadResponseHead extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadResponseHead';
  }
}

/** True when `buf[at, at + name.length)` is `name` (lowercase ASCII) in any case. */
function nameIs(buf: Buffer, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if ((buf[at + i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

const isOWS = (c: number | undefined): boolean => c === 0x20 || c === 0x09;

/**
 * Parses a final or interim response head at `buf[start, end)` and returns
 * its framing facts; `offs` receives the [start, end) offsets of its lines
 * (status line first), from which `headLines` makes strings when the head
 * has to be rewritten. Lines may end in CRLF or a bare LF (RFC 9112 §2.2 lets
 * a recipient accept LF); a bare CR anywhere else, a NUL, an invalid field
 * name, obs-fold and ambiguous lengths (CL with TE, differing CLs) are
 * refused: a response framed two ways would desynchronise a pooled connection.
 *
 * It works on the bytes and makes no string for a field it does not need
 * (it runs once per response).
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, offs: number[]): ResponseHead {
  offs.length = 0;
  let headEnd = -1;
  let lineStart = start;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x0a) {
      const lineEnd = i > lineStart && buf[i - 1] === 0x0d ? i - 1 : i;
      if (lineEnd === lineStart) {
        headEnd = i + 1;
        break;
      }
      offs.push(lineStart, lineEnd);
      lineStart = i + 1;
    } else if (c === 0x0d) {
      if (buf[i + 1] !== 0x0a) throw new BadResponseHead('bare CR or NUL in response head');
    } else if (c === 0) {
      throw new BadResponseHead('bare CR or NUL in response head');
    }
  }
  if (headEnd === -1) headEnd = end;
  if (offs.length === 0) throw new BadResponseHead('malformed status line');
  const s0 = offs[0]!;
  if (offs[1]! - s0 < 12 || buf.toString('latin1', s0, s0 + 7) !== 'HTTP/1.' || buf[s0 + 8] !== 0x20) throw new BadResponseHead('malformed status line');
  const versionMinor = buf[s0 + 7]! - 0x30;
  const d0 = buf[s0 + 9]! - 0x30;
  const d1 = buf[s0 + 10]! - 0x30;
  const d2 = buf[s0 + 11]! - 0x30;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || (versionMinor !== 0 && versionMinor !== 1)) throw new BadResponseHead('malformed status line');
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]; the last SP is often left out with no reason.
  if (offs[1]! - s0 > 12 && buf[s0 + 12] !== 0x20) throw new BadResponseHead('malformed status line');
  const status = d0 * 100 + d1 * 10 + d2;
  let contentLength = -1;
  let te: string | null = null;
  let connection = '';
  let keepAlive = false;
  let plain = true;
  let setCookie = false;
  for (let li = 2; li < offs.length; li += 2) {
    const ls = offs[li]!;
    const le = offs[li + 1]!;
    const first = buf[ls]!;
    if (first === 0x20 || first === 0x09) throw new BadResponseHead('obsolete line folding in response head');
    let colon = ls;
    while (colon < le && TCHAR[buf[colon]!] === 1) colon++;
    if (colon === ls || colon === le || buf[colon] !== 0x3a) throw new BadResponseHead(colon === ls || buf[colon] === 0x3a || colon === le ? 'malformed header line' : 'invalid character in header name');
    const n = colon - ls;
    // Lengths of the hop-by-hop names (te, trailer/upgrade, connection/keep-alive, http2-settings, proxy-connection) and of the framing ones.
    if (n !== 2 && n !== 7 && n !== 10 && n !== 14 && n !== 16 && n !== 17) continue;
    let vs = colon + 1;
    let ve = le;
    while (vs < ve && isOWS(buf[vs])) vs++;
    while (ve > vs && isOWS(buf[ve - 1])) ve--;
    switch (n) {
      case 10:
        if (nameIs(buf, ls, 'connection')) {
          if (ve - vs === 10 && nameIs(buf, vs, 'keep-alive')) {
            keepAlive = true;
          } else {
            plain = false;
            connection += `${buf.toString('latin1', vs, ve).toLowerCase()},`;
          }
        } else if (nameIs(buf, ls, 'keep-alive')) {
          plain = false;
        } else if (nameIs(buf, ls, 'set-cookie')) {
          setCookie = true;
        }
        break;
      case 14:
        if (nameIs(buf, ls, 'content-length')) {
          // Plain digits (nearly always) are read off the bytes; anything else takes the string path.
          let len = 0;
          let k = vs;
          while (k < ve && k - vs < 15 && buf[k]! >= 0x30 && buf[k]! <= 0x39) len = len * 10 + buf[k++]! - 0x30;
          if (k === ve && k > vs && (contentLength === -1 || contentLength === len)) contentLength = len;
          else contentLength = readContentLength(buf.toString('latin1', vs, ve), contentLength);
        } else if (nameIs(buf, ls, 'http2-settings')) {
          plain = false;
        }
        break;
      case 17:
        if (nameIs(buf, ls, 'transfer-encoding')) {
          const value = buf.toString('latin1', vs, ve);
          te = te === null ? value : `${te}, ${value}`;
        }
        break;
      default:
        if (HOP_BY_HOP.has(buf.toString('latin1', ls, colon).toLowerCase())) plain = false;
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
  const tokens = connection === '' ? null : connectionTokens(connection);
  const close = versionMinor === 0 ? !(keepAlive || tokens?.includes('keep-alive') === true) : tokens?.includes('close') === true;
  return { status, versionMinor, contentLength, chunked, otherCoding, close, end: headEnd, plain, setCookie };
}

/** A Content-Length value (a list of equal values is one value), checked against an earlier one. */
function readContentLength(value: string, current: number): number {
  let result = current;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (!/^[0-9]{1,15}$/.test(v)) throw new BadResponseHead('invalid Content-Length');
    const len = Number(v);
    if (result !== -1 && result !== len) throw new BadResponseHead('conflicting Content-Length');
    result = len;
  }
  return result;
}

/** The lines `parseResponseHead` found, as strings (for a rewrite). */
export function headLines(buf: Buffer, offs: readonly number[], lines: string[]): string[] {
  lines.length = 0;
  for (let i = 0; i < offs.length; i += 2) lines.push(buf.toString('latin1', offs[i], offs[i + 1]));
  return lines;
}

/**
 * The head of a plain response (see `ResponseHead.plain`) for the client,
 * built from its bytes: `cookies` (whole `Set-Cookie` lines) after the status
 * line, its `Connection: keep-alive` lines left out, `connection` as the only
 * Connection field, then `body` (the body bytes that came with the head), all
 * in one buffer: one copy, one write. The backend must set no cookie when
 * `cookies` is given (a same-named one would have to be dropped: that takes
 * `rewriteResponseHead`).
 */
export function spliceResponseHead(
  buf: Buffer,
  offs: readonly number[],
  cookies: readonly string[] | null,
  connection: string | null,
  body: Buffer | null,
): Buffer {
  let extra = '';
  if (cookies !== null) for (const c of cookies) extra += c;
  const tail = connection === null ? '\r\n' : `Connection: ${connection}\r\n\r\n`;
  let size = 0;
  for (let i = 0; i < offs.length; i += 2) {
    if (i > 0 && offs[i + 1]! - offs[i]! >= 11 && nameIs(buf, offs[i]!, 'connection:')) continue;
    size += offs[i + 1]! - offs[i]! + 2;
  }
  const out = Buffer.allocUnsafe(size + extra.length + tail.length + (body === null ? 0 : body.length));
  let at = buf.copy(out, 0, offs[0], offs[1]);
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  if (extra !== '') at += out.write(extra, at, 'latin1');
  for (let i = 2; i < offs.length; i += 2) {
    const a = offs[i]!;
    const b = offs[i + 1]!;
    if (b - a >= 11 && nameIs(buf, a, 'connection:')) continue;
    at += buf.copy(out, at, a, b);
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  }
  at += out.write(tail, at, 'latin1');
  if (body !== null) body.copy(out, at);
  return out;
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
