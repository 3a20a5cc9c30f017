import { forwardedNode } from './request-checks.js';
import type { RequestHead } from './request-head.js';
import { connectionTokens, hop } from './tokens.js';

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

/** The forwarding fields the proxy adds (`http.xForwardedFor`, `http.forwarded`). */
export interface Forwarding {
  readonly xForwardedFor: boolean;
  readonly forwarded: boolean;
}

/**
 * `forwardRequestHead` with the forwarding fields `opts` asks for.
 * `remote` (the client's address) is asked only then: it is a system call.
 */
export function forwardWith(raw: Buffer, head: RequestHead, websocket: boolean, opts: Forwarding, remote: () => string | null): Buffer {
  if (!opts.xForwardedFor && !opts.forwarded) return forwardRequestHead(raw, head, websocket, undefined, undefined);
  const addr = remote();
  return forwardRequestHead(
    raw, head, websocket,
    opts.xForwardedFor ? addr ?? 'unknown' : undefined,
    opts.forwarded ? `for=${forwardedNode(addr ?? undefined)};proto=http` : undefined,
  );
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
