/**
 * Response heads: their framing facts (`parseResponseHead`, the one check
 * both connection modes apply), and what goes to the client: the head as it
 * came, spliced (cookies, our Connection field) or rewritten (hop-by-hop
 * fields out); `clientHead` makes that choice.
 */

import { isOwnSetCookie } from './cookies.js';
import { rewriteUrlLines, type UrlRewrite } from './location.js';
import { CONFLICTING_LENGTH, HOP_BY_HOP, INVALID_LENGTH, TCHAR, connectionTokens, hop, isOWS, nameIs, readContentLength } from './tokens.js';

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
  /** A `Location`, `Content-Location` or `Refresh` field is present (see `location.ts`). */
  urls: boolean;
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
  // Offsets are written over the last head's, and the array is cut only when
  // this head has fewer lines: setting an array's length is a runtime call,
  // and a server's heads mostly have the same number of lines.
  let k = 0;
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
      offs[k++] = lineStart;
      offs[k++] = lineEnd;
      lineStart = i + 1;
    } else if (c === 0x0d) {
      if (buf[i + 1] !== 0x0a) throw new BadResponseHead('bare CR or NUL in response head');
    } else if (c === 0) {
      throw new BadResponseHead('bare CR or NUL in response head');
    }
  }
  if (offs.length !== k) offs.length = k;
  if (headEnd === -1) headEnd = end;
  if (offs.length === 0) throw new BadResponseHead('malformed status line');
  const s0 = offs[0]!;
  if (offs[1]! - s0 < 12 || !isHttp1(buf, s0) || buf[s0 + 8] !== 0x20) throw new BadResponseHead('malformed status line');
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
  let closeField = false;
  let plain = true;
  let setCookie = false;
  let urls = false;
  for (let li = 2; li < offs.length; li += 2) {
    const ls = offs[li]!;
    const le = offs[li + 1]!;
    const first = buf[ls]!;
    if (first === 0x20 || first === 0x09) throw new BadResponseHead('obsolete line folding in response head');
    let colon = ls;
    while (colon < le && TCHAR[buf[colon]!] === 1) colon++;
    if (colon === ls || colon === le || buf[colon] !== 0x3a) throw new BadResponseHead(colon === ls || buf[colon] === 0x3a || colon === le ? 'malformed header line' : 'invalid character in header name');
    const n = colon - ls;
    // Lengths of the hop-by-hop names (te, trailer/upgrade, connection/keep-alive, http2-settings, proxy-connection), of the framing ones
    // and of the URL fields (refresh, location, content-location).
    if (n !== 2 && n !== 7 && n !== 8 && n !== 10 && n !== 14 && n !== 16 && n !== 17) continue;
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
            // `close` alone (the usual other value) is known without a string.
            if (ve - vs === 5 && nameIs(buf, vs, 'close')) closeField = true;
            else connection += `${buf.toString('latin1', vs, ve).toLowerCase()},`;
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
          else {
            contentLength = readContentLength(buf.toString('latin1', vs, ve), contentLength);
            if (contentLength === INVALID_LENGTH) throw new BadResponseHead('invalid Content-Length');
            if (contentLength === CONFLICTING_LENGTH) throw new BadResponseHead('conflicting Content-Length');
          }
        } else if (nameIs(buf, ls, 'http2-settings')) {
          plain = false;
        }
        break;
      case 8:
        if (nameIs(buf, ls, 'location')) urls = true;
        break;
      case 17:
        if (nameIs(buf, ls, 'transfer-encoding')) {
          const value = buf.toString('latin1', vs, ve);
          te = te === null ? value : `${te}, ${value}`;
        }
        break;
      default:
        if (n === 7 ? nameIs(buf, ls, 'refresh') : n === 16 && nameIs(buf, ls, 'content-location')) urls = true;
        else if (HOP_BY_HOP.has(buf.toString('latin1', ls, colon).toLowerCase())) plain = false;
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
  const close = versionMinor === 0 ? !(keepAlive || tokens?.includes('keep-alive') === true) : closeField || tokens?.includes('close') === true;
  return { status, versionMinor, contentLength, chunked, otherCoding, close, end: headEnd, plain, setCookie, urls };
}

/** `HTTP/1.` at `at` (case-sensitive, as RFC 9112 §2.3 has it). */
function isHttp1(buf: Buffer, at: number): boolean {
  return buf[at] === 0x48 && buf[at + 1] === 0x54 && buf[at + 2] === 0x54 && buf[at + 3] === 0x50 && buf[at + 4] === 0x2f && buf[at + 5] === 0x31 && buf[at + 6] === 0x2e;
}

/** The lines `parseResponseHead` found, as strings (for a rewrite). */
export function headLines(buf: Buffer, offs: readonly number[], lines: string[]): string[] {
  lines.length = 0;
  for (let i = 0; i < offs.length; i += 2) lines.push(buf.toString('latin1', offs[i], offs[i + 1]));
  return lines;
}

/**
 * The head of a plain response (see `ResponseHead.plain`) for the client,
 * built from its bytes at `buf[0, end)`: `cookies` (whole `Set-Cookie`
 * lines) after the status line and, when `connection` is given, that as the
 * only Connection field (the backend's `Connection: keep-alive` lines left
 * out; without it they stay: they say what a proxy keeping the client
 * connection open says too), then the `n` body bytes that follow the head in
 * `buf`, all in one buffer: one allocation, one write. The backend must set
 * no cookie when `cookies` is given (a same-named one would have to be
 * dropped: that takes `rewriteResponseHead`).
 */
export function spliceResponseHead(
  buf: Buffer,
  offs: readonly number[],
  end: number,
  n: number,
  cookies: readonly string[] | null,
  connection: string | null,
): Buffer {
  let extra = '';
  if (cookies !== null) for (const c of cookies) extra += c;
  const tail = connection === null ? '\r\n' : `Connection: ${connection}\r\n\r\n`;
  const drop = connection !== null;
  let size = 0;
  for (let i = 0; i < offs.length; i += 2) {
    if (i > 0 && drop && isConnectionLine(buf, offs[i]!, offs[i + 1]!)) continue;
    size += offs[i + 1]! - offs[i]! + 2;
  }
  const out = Buffer.allocUnsafe(size + extra.length + tail.length + n);
  let at = copyLine(buf, out, 0, offs[0]!, offs[1]!);
  if (extra !== '') at += out.write(extra, at, 'latin1');
  // Lines that follow each other with CRLF endings are copied as one run: a copy per run, not per line
  // (Buffer#copy costs more than the bytes it moves in a head this size).
  let runStart = -1;
  let runEnd = -1;
  for (let i = 2; i < offs.length; i += 2) {
    const a = offs[i]!;
    const b = offs[i + 1]!;
    if (drop && isConnectionLine(buf, a, b)) continue;
    const crlf = buf[b] === 0x0d;
    if (crlf && a === runEnd) {
      runEnd = b + 2;
      continue;
    }
    if (runStart !== -1) at += buf.copy(out, at, runStart, runEnd);
    runStart = -1;
    runEnd = -1;
    if (crlf) {
      runStart = a;
      runEnd = b + 2;
    } else {
      // A bare LF ending: the line goes alone, with a CRLF.
      at = copyLine(buf, out, at, a, b);
    }
  }
  if (!drop && runEnd === end - 2 && buf[runEnd] === 0x0d) {
    // The common case: the last run, the blank line and the body lie in `buf` as they go out.
    buf.copy(out, at, runStart, end + n);
    return out;
  }
  if (runStart !== -1) at += buf.copy(out, at, runStart, runEnd);
  at += out.write(tail, at, 'latin1');
  if (n > 0) buf.copy(out, at, end, end + n);
  return out;
}

function isConnectionLine(buf: Buffer, a: number, b: number): boolean {
  return b - a >= 11 && nameIs(buf, a, 'connection:');
}

/** Copies the line [a, b) of `buf` to `out` at `at` with a CRLF; returns where the next byte goes. */
function copyLine(buf: Buffer, out: Buffer, at: number, a: number, b: number): number {
  // A short line (the status line, mostly) byte by byte: Buffer#copy makes a view of its source and calls out for it.
  if (b - a <= 32) for (let i = a; i < b; i++) out[at++] = buf[i]!;
  else at += buf.copy(out, at, a, b);
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  return at;
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
    if (ownNames !== null && lower === 'set-cookie' && isOwnSetCookie(line, ownNames)) continue;
    out += line + '\r\n';
  }
  if (connection !== null) out += `Connection: ${connection}\r\n`;
  return Buffer.from(out + '\r\n', 'latin1');
}

/**
 * Rewrites the first final response head to carry the routing cookies.
 *
 * Our `Set-Cookie` lines go right after the status line: whatever line
 * endings the backend used further down, that spot is unambiguous, and it
 * can never fall inside a body. When we set a cookie, a backend `Set-Cookie`
 * with the same name is dropped: the proxy owns its routing cookies, and a
 * response that set one name twice would leave the winner to the browser.
 * Interim (1xx) heads before it pass through untouched.
 */
export function injectCookies(
  buf: Buffer,
  headStart: number,
  headEnd: number,
  lines: readonly string[],
  ownNames: readonly string[],
  /** The head has a `Set-Cookie` field (`ResponseHead.setCookie`): only then is one of ours looked for. */
  setCookie = true,
): Buffer {
  const statusEnd = buf.indexOf(0x0a, headStart);
  if (statusEnd === -1 || statusEnd >= headEnd) return buf;
  let insert = '';
  for (const line of lines) insert += line;
  const fields = buf.subarray(statusEnd + 1, headEnd);
  const rest = setCookie ? stripOwnCookies(fields, ownNames) : fields;
  if (rest !== fields) return Buffer.concat([buf.subarray(0, statusEnd + 1), Buffer.from(insert, 'latin1'), rest, buf.subarray(headEnd)]);
  // Nothing dropped (the common case): one buffer, the lines written into it (latin1: one byte a character).
  const out = Buffer.allocUnsafe(buf.length + insert.length);
  buf.copy(out, 0, 0, statusEnd + 1);
  out.write(insert, statusEnd + 1, 'latin1');
  buf.copy(out, statusEnd + 1 + insert.length, statusEnd + 1);
  return out;
}

function stripOwnCookies(fields: Buffer, names: readonly string[]): Buffer {
  if (names.length === 0) return fields;
  const text = fields.toString('latin1');
  if (!/set-cookie/i.test(text)) return fields;
  const out: string[] = [];
  let start = 0;
  let changed = false;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl === -1) nl = text.length - 1;
    const line = text.slice(start, nl + 1);
    if (isOwnSetCookie(line, names)) changed = true;
    else out.push(line);
    start = nl + 1;
  }
  return changed ? Buffer.from(out.join(''), 'latin1') : fields;
}

/** Body bytes that came with a changed head are copied behind it up to this size (one write); larger ones go by writev. */
const COPY_BODY = 16 * 1024;

/**
 * The policy for a final head going to the client, next to the code it
 * chooses between: as it came (nothing to change, the common case: no copy,
 * the body bytes that followed it in the same write), spliced into its bytes
 * (cookies or our Connection field to add, a small body in the same buffer),
 * or rewritten from its lines (hop-by-hop fields to remove, a backend
 * cookie to drop, or a URL field pointing at the backend to rewrite: `urls`).
 * `n` body bytes follow the head at `end` in `buf`. Returns what to write,
 * and `body` when a large body must follow it by writev.
 */
export function clientHead(
  buf: Buffer, end: number, n: number, info: ResponseHead, offs: readonly number[], lines: string[],
  cookies: { lines: string[]; names: string[] } | null, connection: string | null, urls: UrlRewrite | null = null,
): { out: Buffer; body: Buffer | null } {
  const rewritten = info.urls && urls !== null && rewriteUrlLines(headLines(buf, offs, lines), urls);
  if (info.plain && cookies === null && connection === null && !rewritten) return { out: end + n === buf.length ? buf : buf.subarray(0, end + n), body: null };
  const body = n === 0 ? null : buf.subarray(end, end + n);
  const small = body === null || n <= COPY_BODY;
  let out: Buffer;
  if (info.plain && !rewritten && !(cookies !== null && info.setCookie)) {
    out = spliceResponseHead(buf, offs, end, small ? n : 0, cookies?.lines ?? null, connection);
  } else {
    out = rewriteResponseHead(rewritten ? lines : headLines(buf, offs, lines), cookies?.lines ?? null, cookies?.names ?? null, connection, false);
    if (body !== null && small) out = Buffer.concat([out, body]);
  }
  return { out, body: small ? null : body };
}

/**
 * Stream mode's first final head (at [start, end) of `buf`, its lines at
 * `offs`), with what follows it: our cookies added (`injectCookies`), and,
 * when a URL field points at the backend (`urls`), rebuilt from its lines
 * with that field rewritten. Every other field passes as it came: stream
 * mode forwards the connection's bytes and removes no hop-by-hop field.
 */
export function streamHead(
  buf: Buffer, start: number, end: number, info: ResponseHead, offs: readonly number[],
  cookies: { lines: string[]; names: string[] } | null, urls: UrlRewrite | null,
): Buffer {
  const lines: string[] = [];
  if (!(info.urls && urls !== null && rewriteUrlLines(headLines(buf, offs, lines), urls))) {
    return cookies === null ? buf : injectCookies(buf, start, end, cookies.lines, cookies.names, info.setCookie);
  }
  let out = lines[0]! + '\r\n';
  if (cookies !== null) for (const c of cookies.lines) out += c;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (cookies !== null && isOwnSetCookie(line, cookies.names)) continue;
    out += line + '\r\n';
  }
  return Buffer.concat([buf.subarray(0, start), Buffer.from(out + '\r\n', 'latin1'), buf.subarray(end)]);
}
