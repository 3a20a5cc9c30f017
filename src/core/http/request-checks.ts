import type { RequestHead } from './request-head.js';

/** What http mode checks of a valid request head before forwarding it: doubtful framing, upgrades, and the forwarding node. */

/** Methods whose requests have no defined body semantics (RFC 9110 §9.3). */
const BODILESS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Valid requests that parsers are known to read differently: a body on a
 * method that defines none, Content-Length with leading zeros or unusual
 * whitespace, look-alike framing names (`Content_Length`), a target that is
 * not origin-form or hides NUL/CR/LF/backslashes (and, found later, chunked
 * trailers). They are forwarded, and afterwards neither
 * the client connection nor the upstream connection carries another message
 * (the advice of RFC 9112 §6.3 for doubtful framing): if the origin read the
 * message differently, what it thinks comes next dies with its connection
 * instead of meeting another client's request on a pooled one.
 */
export function isAmbiguous(head: RequestHead, raw: Buffer, end: number): boolean {
  const hasBody = head.chunked || head.contentLength > 0;
  if (hasBody && BODILESS.has(head.method)) return true;
  const t = head.target;
  if (t.charCodeAt(0) !== 0x2f) return t !== '*' || head.method !== 'OPTIONS';
  if (t.indexOf('\\') !== -1 || (t.indexOf('%') !== -1 && /%(?:00|0d|0a)/i.test(t))) return true;
  let checkLength = false;
  for (const [name, value] of head.headers) {
    switch (name.length) {
      case 14: {
        const lower = name.toLowerCase();
        if (lower === 'content_length') return true;
        if (lower === 'content-length' && value.length > 1 && value.charCodeAt(0) === 0x30) return true;
        if (lower === 'content-length') checkLength = true;
        break;
      }
      case 17:
        if (name.toLowerCase() === 'transfer_encoding') return true;
        break;
      default:
    }
  }
  if (checkLength) {
    // Only "Content-Length: N" or "Content-Length:N": tabs, extra or trailing spaces are read differently by different origins.
    const text = raw.toString('latin1', 0, end);
    for (const [name, value] of head.headers) {
      if (name.length === 14 && name.toLowerCase() === 'content-length'
        && !text.includes(`\r\n${name}: ${value}\r\n`) && !text.includes(`\r\n${name}:${value}\r\n`)) return true;
    }
  }
  return false;
}

/** The status http mode refuses a valid request head with before forwarding anything (0: none). */
export function refusal(head: RequestHead): number {
  // A reverse proxy never opens tunnels to a target the client names.
  if (head.method === 'CONNECT') return 405;
  // RFC 9110 §8.6 lets a recipient accept "5, 5"; origins refuse it. We
  // cannot forward one reading and let the origin apply another: refuse.
  if (head.contentLength >= 0 && listedLength(head)) return 400;
  return 0;
}

/** A Content-Length field that is a list ("5, 5"), or repeated. */
export function listedLength(head: RequestHead): boolean {
  let n = 0;
  for (const [name, value] of head.headers) {
    if (name.length === 14 && name.toLowerCase() === 'content-length' && (++n > 1 || value.indexOf(',') !== -1)) return true;
  }
  return false;
}

export function isWebSocket(head: RequestHead): boolean {
  for (const [name, value] of head.headers) {
    if (name.length === 7 && name.toLowerCase() === 'upgrade') {
      for (const p of value.split(',')) if (p.trim().toLowerCase() === 'websocket') return true;
    }
  }
  return false;
}

/** A `Forwarded` node (RFC 7239 §6): IPv6 addresses are quoted and bracketed. */
export function forwardedNode(addr: string | undefined): string {
  if (addr === undefined) return 'unknown';
  return addr.includes(':') ? `"[${addr}]"` : addr;
}
