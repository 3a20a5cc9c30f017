import type net from 'node:net';
import { clientHead, headLines, rewriteResponseHead, type ResponseHead } from '../http/response-head.js';
import type { UrlRewrite } from '../http/location.js';
import type { ResponseHeadReader } from './head-reader.js';
import { ResponseBody } from './response-body.js';

/**
 * http mode: the answer to the request in flight, on its way to the client.
 * Interim heads go to HTTP/1.1 clients only (RFC 9110 §15.2), never with
 * cookies; the final head goes as it came, spliced or rewritten
 * (`clientHead`); then the body, up to where its framing ends.
 *
 * Invariants:
 * - `sent` counts this answer's bytes written to the client, `interim` those
 *   of its interim heads: while the two are equal, an answer of ours (a 502)
 *   may still take its place.
 */
export class HttpResponse {
  /** Where the body ends, and whether the upstream can be pooled after it. */
  readonly body: ResponseBody;
  sent = 0;
  interim = 0;
  /** The last write filled the client's buffer: the server waits for its 'drain'. */
  full = false;
  /** Why the body broke its framing, after a write returned -1. */
  broken = '';
  /** The head's lines as strings, when it is rewritten. */
  private readonly lines: string[] = [];

  constructor(headLimit: number) {
    this.body = new ResponseBody(headLimit);
  }

  /** A new request: nothing of its answer went out yet. */
  next(): void {
    this.sent = 0;
    this.interim = 0;
  }

  /** The interim head `reader` just read (at the start of `buf`), as it goes to the client; returns its size. */
  writeInterim(client: net.Socket, reader: ResponseHeadReader, buf: Buffer): number {
    const out = rewriteResponseHead(headLines(buf, reader.offs, this.lines), null, null, null, false);
    this.sent += out.length;
    this.interim += out.length;
    client.write(out);
    return out.length;
  }

  /** The 101 head `reader` just read, as the client gets it. */
  switchedHead(reader: ResponseHeadReader): Buffer {
    const out = rewriteResponseHead(headLines(reader.bytes, reader.offs, this.lines), null, null, null, true);
    reader.reset();
    return out;
  }

  /**
   * Writes the final head `info` (with `cookies` and the `connection` field
   * it needs) and the body bytes that came with it. Returns the bytes
   * written, -1 when the body broke its framing (`broken` says how).
   */
  writeHead(
    client: net.Socket, reader: ResponseHeadReader, info: ResponseHead,
    cookies: { lines: string[]; names: string[] } | null, connection: string | null, urls: UrlRewrite | null,
  ): number {
    const buf = reader.bytes;
    const end = info.end;
    reader.reset();
    const n = end < buf.length ? this.frame(buf, end) : 0;
    if (n === -1) return -1;
    const { out, body } = clientHead(buf, end, n, info, reader.offs, this.lines, cookies, connection, urls);
    const sent = out.length + (body === null ? 0 : n);
    this.sent += sent;
    if (body === null) {
      this.full = !client.write(out);
    } else {
      // A large body's first bytes: head and body leave in one writev (one syscall), without a copy.
      client.cork();
      client.write(out);
      this.full = !client.write(body);
      client.uncork();
    }
    return sent;
  }

  /** Writes the body bytes of `chunk`. Returns how many, -1 when the body broke its framing. */
  writeBody(client: net.Socket, chunk: Buffer): number {
    const n = this.frame(chunk, 0);
    if (n <= 0) {
      this.full = false;
      return n;
    }
    this.sent += n;
    this.full = !client.write(n === chunk.length ? chunk : chunk.subarray(0, n));
    return n;
  }

  private frame(chunk: Buffer, from: number): number {
    try {
      return this.body.frame(chunk, from);
    } catch (err) {
      this.broken = `bad chunked response: ${(err as Error).message}`;
      return -1;
    }
  }
}
