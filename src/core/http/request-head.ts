import httpParser from 'http-parser-js';
import { BadRequestError } from '../errors.js';
import { CONFLICTING_LENGTH, HOP_BY_HOP, INVALID_LENGTH, TCHAR, hasToken, readContentLength, trimOWS } from './tokens.js';

/**
 * A request head, checked strictly against RFC 9112 before anything is
 * forwarded. The parser found where it ends; this pass decides whether the
 * bytes are unambiguous: a proxy that is laxer than the origin behind it is
 * how requests get smuggled (a header the proxy skipped is one the origin
 * may honour). Everything questionable is a 400 and a close.
 */
export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: number;
  /** Field lines in order, names as sent. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The Host field's value; undefined when absent (HTTP/1.0). */
  readonly host: string | undefined;
  /** Values of every Cookie line, in order. */
  readonly cookies: readonly string[];
  /** Parsed Content-Length, or -1 when absent. */
  readonly contentLength: number;
  /** True when the body is chunked. */
  readonly chunked: boolean;
  /** `Connection: upgrade` with an `Upgrade` header. */
  readonly upgrade: boolean;
  /** Connection: close (or HTTP/1.0 without keep-alive). */
  readonly close: boolean;
  /** Byte length of the head including its final CRLF CRLF. */
  readonly length: number;
  /** [start, end) byte offsets of the hop-by-hop field lines (CRLF included), or null when there are none. */
  readonly hop: readonly number[] | null;
}

// field-vchar / OWS of RFC 9110 §5.5: HTAB, SP, VCHAR, obs-text. No other CTL, no DEL.
const VALUE_OK = new Uint8Array(256);
VALUE_OK[0x09] = 1;
for (let c = 0x20; c <= 0x7e; c++) VALUE_OK[c] = 1;
for (let c = 0x80; c <= 0xff; c++) VALUE_OK[c] = 1;

function bad(reason: string): never {
  throw new BadRequestError(reason);
}

function parseContentLength(value: string, current: number): number {
  const n = readContentLength(value, current);
  if (n === INVALID_LENGTH) bad('invalid Content-Length');
  if (n === CONFLICTING_LENGTH) bad('conflicting Content-Length values');
  return n;
}


/**
 * Parses and validates a complete request head (`buf[0, length)`, ending
 * with CRLF CRLF). Throws `BadRequestError` with the reason.
 *
 * It works on one latin1 string of the head (offsets in it are byte
 * offsets), with the engine's own `indexOf` for line ends.
 */
export function parseRequestHead(buf: Buffer, length: number): RequestHead {
  return parseRequestText(buf.toString('latin1', 0, length));
}

/** `parseRequestHead` of a head that is a latin1 string already (one char a byte): the uws engine rebuilds its heads as text. */
export function parseRequestText(text: string): RequestHead {
  const length = text.length;
  // Line structure first: only CRLF ends a line; a bare CR or LF, or a NUL,
  // is read differently by different parsers, so it is refused outright.
  {
    const nul = text.indexOf('\0');
    let cr = text.indexOf('\r');
    let lf = text.indexOf('\n');
    for (;;) {
      const first = Math.min(nul === -1 ? length : nul, cr === -1 ? length : cr, lf === -1 ? length : lf);
      if (first === length) break;
      if (first === nul) bad('NUL in request head');
      if (first === cr) {
        if (lf !== cr + 1) bad('bare CR in request head');
        cr = text.indexOf('\r', cr + 1);
        lf = text.indexOf('\n', lf + 1);
      } else {
        bad('bare LF in request head');
      }
    }
  }
  if (length < 4 || !text.endsWith('\r\n\r\n')) bad('request head does not end with CRLF CRLF');
  const eol = text.indexOf('\r\n');
  if (eol === length - 2) bad('request head does not end with CRLF CRLF');

  const sp1 = text.indexOf(' ');
  const sp2 = sp1 === -1 ? -1 : text.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp1 > eol || sp2 <= sp1 + 1 || sp2 > eol) bad('malformed request line');
  const sp3 = text.indexOf(' ', sp2 + 1);
  if (sp3 !== -1 && sp3 < eol) bad('malformed request line');
  const method = text.slice(0, sp1);
  for (let i = 0; i < sp1; i++) if (TCHAR[text.charCodeAt(i)] !== 1) bad('invalid method');
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) bad('invalid character in request target');
  }
  const target = text.slice(sp1 + 1, sp2);
  let versionMinor: number;
  if (eol - sp2 !== 9 || !text.startsWith('HTTP/1.', sp2 + 1)) bad('unsupported protocol version');
  const minor = text.charCodeAt(sp2 + 8);
  if (minor === 0x31) versionMinor = 1;
  else if (minor === 0x30) versionMinor = 0;
  else bad('unsupported protocol version');

  const headers: Array<readonly [string, string]> = [];
  const cookies: string[] = [];
  let contentLength = -1;
  let transferEncoding: string | null = null;
  let hosts = 0;
  let host: string | undefined;
  let connection = '';
  let hasUpgrade = false;
  let hop: number[] | null = null;
  let p = eol + 2;
  const last = length - 2;
  while (p < last) {
    const end = text.indexOf('\r\n', p);
    const first = text.charCodeAt(p);
    // obs-fold (RFC 9112 §5.2): a proxy must reject it or replace it; we reject.
    if (first === 0x20 || first === 0x09) bad('obsolete line folding in request head');
    let colon = p;
    while (colon < end && TCHAR[text.charCodeAt(colon)] === 1) colon++;
    if (colon === end || text.charCodeAt(colon) !== 0x3a) bad(colon === p && first === 0x3a ? 'header line without a name and colon' : colon === end ? 'header line without a name and colon' : 'invalid character in header name');
    if (colon === p) bad('header line without a name and colon');
    let vs = colon + 1;
    let ve = end;
    for (let i = vs; i < ve; i++) if (VALUE_OK[text.charCodeAt(i)] !== 1) bad('invalid character in header value');
    while (vs < ve && (text.charCodeAt(vs) === 0x20 || text.charCodeAt(vs) === 0x09)) vs++;
    while (ve > vs && (text.charCodeAt(ve - 1) === 0x20 || text.charCodeAt(ve - 1) === 0x09)) ve--;
    const name = text.slice(p, colon);
    const value = text.slice(vs, ve);
    headers.push([name, value]);
    const n = colon - p;
    if (n === 2 || n === 4 || n === 6 || n === 7 || n === 10 || n === 14 || n === 16 || n === 17) {
      const lower = name.toLowerCase();
      // The names matched here are known hop-by-hop or not: only the others are looked up in HOP_BY_HOP.
      switch (lower) {
        case 'host':
          hosts++;
          host = value;
          break;
        case 'cookie':
          cookies.push(value);
          break;
        case 'upgrade':
          hasUpgrade = true;
          (hop ??= []).push(p, end + 2);
          break;
        case 'connection':
          connection += (connection ? ',' : '') + value.toLowerCase();
          (hop ??= []).push(p, end + 2);
          break;
        case 'content-length':
          contentLength = parseContentLength(value, contentLength);
          break;
        case 'transfer-encoding':
          transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
          break;
        default:
          if (HOP_BY_HOP.has(lower)) (hop ??= []).push(p, end + 2);
      }
    }
    p = end + 2;
  }
  if (versionMinor === 1 && hosts !== 1) bad(hosts === 0 ? 'missing Host header' : 'more than one Host header');
  if (hosts > 1) bad('more than one Host header');

  let chunked = false;
  if (transferEncoding !== null) {
    // RFC 9112 §6.1: Transfer-Encoding with Content-Length is a smuggling
    // vector; HTTP/1.0 has no chunked coding; and a request whose final
    // coding is not chunked has no determinable length. All 400.
    if (contentLength !== -1) bad('both Transfer-Encoding and Content-Length');
    if (versionMinor === 0) bad('Transfer-Encoding in an HTTP/1.0 request');
    const codings = transferEncoding.split(',').map((c) => trimOWS(c).toLowerCase());
    for (const c of codings) {
      if (c.length === 0) bad('empty transfer coding');
      for (let i = 0; i < c.length; i++) if (TCHAR[c.charCodeAt(i)] !== 1) bad('invalid transfer coding');
    }
    if (codings[codings.length - 1] !== 'chunked') bad('final transfer coding is not chunked');
    if (codings.indexOf('chunked') !== codings.length - 1) bad('chunked applied more than once');
    chunked = true;
  }
  let upgrade = false;
  let close = versionMinor === 0;
  if (connection !== '') {
    upgrade = hasUpgrade && hasToken(connection, 'upgrade');
    close = versionMinor === 0 ? !hasToken(connection, 'keep-alive') : hasToken(connection, 'close');
  }
  return { method, target, versionMinor, headers, host, cookies, contentLength, chunked, upgrade, close, length, hop };
}

/** Methods http-parser-js knows; the incremental path refuses any other, so the fast path does too. */
const KNOWN_METHODS = new Set<string>(httpParser.HTTPParser.methods);
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** Reads up to this size are searched as one string; larger ones (a body behind the head) by the buffer's own search. */
const SMALL_READ = 4096;

/**
 * One pass over a request head that is already whole in `buf` (the common
 * case: a head arrives in one read). Returns null whenever the answer is not
 * a clean head: no CRLF CRLF yet, longer than `maxSize`, a method the
 * incremental parser does not know, or anything `parseRequestHead` refuses.
 * The caller then takes the incremental path (http-parser-js, then
 * `parseRequestHead`), so every error answer is the same as before.
 */
export function readWholeRequestHead(buf: Buffer, maxSize: number): RequestHead | null {
  let text: string;
  if (buf.length <= SMALL_READ) {
    // The usual read: made a string once and searched there (a search of the
    // buffer is a second call into it, costlier than the search itself).
    const all = buf.toString('latin1');
    const at = all.indexOf('\r\n\r\n');
    if (at === -1 || at + 4 > maxSize) return null;
    text = at + 4 === all.length ? all : all.slice(0, at + 4);
  } else {
    const at = buf.indexOf(CRLFCRLF);
    if (at === -1 || at + 4 > maxSize) return null;
    text = buf.toString('latin1', 0, at + 4);
  }
  let head: RequestHead;
  try {
    head = parseRequestText(text);
  } catch {
    return null;
  }
  return KNOWN_METHODS.has(head.method) ? head : null;
}
